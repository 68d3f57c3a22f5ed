"""The outlook: where the session goes from here if every role keeps its current policy.

Why: the room steers between futures, not towards one. Two kinds of fan:

- ``--ensemble N`` (the honest one): N calibrated parameter sets drawn from the ensemble
  (world/ensemble.py), each with its own seed. Each future is the session so far as a scenario
  (every move a dated event, ``Session.as_scenario``) run under the member's parameters from the
  start to the session's end, so the moves meet each member's own world; the fan shows the
  months after the current one. Its width comes from the parameters and from every random draw
  of the future (busts, network entry, governments' reviews, and any stochastic event the model
  draws). The futures are independent tasks, so they run on the pool.
- ``--seeds N``: from the current state (an in-memory copy of the live model) the remaining
  months are run once per seed with the levers held. Only the randomness of the future differs:
  the model's generators are reseeded from SeedSequence(session seed, turns played, k); the
  adopters' counter-based stream stays the session's. With parameters fixed the model is nearly
  deterministic, so this fan is narrow.

Quantiles are the bands' (world/ensemble.py ``weighted_quantiles``). The session itself is not
touched.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from chipwar.runs.core.executors import ExecutorInfo, Progress, run_all, serial
from chipwar.runs.core.run_folder import BAND_QUANTILES, SUMMARY_DATES
from chipwar.runs.core.single_run import run_scenario
from chipwar.runs.core.textdoc import Document, Heading, Image, Paragraph, Table
from chipwar.world.ensemble import (
    Ensemble,
    Member,
    apply_member,
    member_seed,
    weighted_quantiles,
)
from chipwar.world.errors import InputError

if TYPE_CHECKING:
    from chipwar.runs.wargame.session import Session
    from chipwar.world.model import ChipWarModel
    from chipwar.world.scenario import Scenario

OUTLOOK_STREAM = 3
METRICS = {
    "compute_gap": ("compute gap (US/CN)", "{:.1f}x"),
    "lead_months": ("US lead (months)", "{:.1f}"),
    "countries_official_cn": ("countries with an official CN stack", "{:.0f}"),
    "pop_cn_stack": ("people under an official CN stack (millions)", "{:,.0f}"),
}
MAX_SEEDS = 200


@dataclass
class Outlook:
    """Fan-chart bands per metric and a table of quantiles at the headline dates."""

    seeds: int  # futures run
    from_date: str
    bands: dict[str, pd.DataFrame]
    finals: pd.DataFrame  # one row per future: the metrics at each headline date reached
    document: Document
    figure: Figure
    data: dict[str, Any] = field(default_factory=dict)

    def to_markdown(self) -> str:
        return self.document.to_markdown()

    def write(self, folder: Path) -> list[Path]:
        from chipwar.runs.core.atomic import write_bytes_atomic as write_atomic

        folder.mkdir(parents=True, exist_ok=True)
        self.figure.savefig(folder / "outlook.png")
        write_atomic(folder / "outlook.md", self.to_markdown().encode())
        write_atomic(folder / "outlook.csv", self.finals.to_csv(index=False).encode())
        return [folder / "outlook.md", folder / "outlook.png", folder / "outlook.csv"]


@dataclass(frozen=True)
class OutlookRun:
    """One future: the session's model (left untouched), the seeds of its draws, its number."""

    model: ChipWarModel
    seed_sequence: np.random.SeedSequence
    index: int


def play_future(run: OutlookRun) -> pd.DataFrame:
    """A copy of the model, reseeded and played to its last month: the metrics month by month."""
    model = run.model.clone()
    model.reseed(run.seed_sequence)
    future = []
    while model.running:
        model.step()
        metrics = model.observe().metrics
        future.append({"date": metrics["date"], **{m: metrics[m] for m in METRICS}})
    frame = pd.DataFrame(future)
    frame["seed"] = run.index
    return frame


@dataclass(frozen=True)
class MemberFuture:
    """One future under a drawn member: small and picklable, so it runs on any executor."""

    scenario: Scenario  # the session so far, every move a dated event
    member: Member
    seed: int
    until: str
    after: str  # the current month: the fan shows the months after it
    index: int


def play_member_future(run: MemberFuture) -> pd.DataFrame:
    """The session's scenario under the member's parameters, run with the future's seed: the
    metrics of the months after the current one."""
    result = run_scenario(apply_member(run.scenario, run.member), run.seed, until=run.until)
    series = result.series
    frame = series.loc[series["date"] > run.after, ["date", *METRICS]].reset_index(drop=True)
    frame["seed"] = run.index
    frame["member"] = run.member.index
    return frame


def outlook(
    session: Session,
    seeds: int = 10,
    progress: bool = False,
    *,
    ensemble: Ensemble | None = None,
    info: ExecutorInfo | None = None,
) -> Outlook:
    """Run the rest of the session ``seeds`` times with every lever held where it is: each
    future a member drawn from ``ensemble`` with its own seed, or (no ensemble) a reseeded copy
    of the live model. ``info``: where ensemble futures run (default: this process)."""
    from chipwar.viz.wargame_plots import fan_chart

    if not 1 <= seeds <= MAX_SEEDS:
        raise InputError("outlook", "seeds", seeds, f"a whole number in 1..{MAX_SEEDS}")
    if session.finished:
        raise InputError(
            "outlook", "session", session.record.name, "a session with months still to play"
        )
    from_date = session.month_records[-1].date
    stream = [session.record.seed, session.turns_played, OUTLOOK_STREAM]
    if ensemble is not None:
        master = int(np.random.SeedSequence(stream).generate_state(1, np.uint64)[0] >> 1)
        scenario = session.as_scenario()
        until = session.record.end
        member_futures = [
            MemberFuture(scenario, member, member_seed(master, k), until, from_date, k)
            for k, member in enumerate(ensemble.draw(seeds, master))
        ]
        bar = Progress("outlook", unit="member", show=progress, leave=False)
        frames = run_all(play_member_future, member_futures, info or serial(), bar)
        what = (
            f"{seeds} futures under calibrated parameter sets drawn from "
            f"`{ensemble.path.name}`, each with its own seed. Each replays the session's moves "
            "as dated events from the start under its member's parameters, every role then "
            "keeping its current levers (the scenario's own dated events still apply): the "
            "spread comes from the parameters and from every random draw of the future."
        )
    else:
        futures = [
            OutlookRun(session.model, np.random.SeedSequence([*stream, k]), k) for k in range(seeds)
        ]
        # In this process: a live model does not pickle (its data collector holds lambdas).
        bar = Progress("outlook", unit="seed", show=progress, leave=False)
        frames = run_all(play_future, futures, serial(), bar)
        what = (
            f"{seeds} futures from the state after turn {session.turns_played}, every role "
            "keeping its current levers (the scenario's own dated events still apply). Only the "
            "random draws of the future differ: busts, network entry, governments' reviews; "
            "the parameters are the point fit, so the spread is narrow (add --ensemble N for "
            "the calibrated parameter sets)."
        )
    runs = pd.concat(frames, ignore_index=True)
    runs["pop_cn_stack"] = runs["pop_cn_stack"] / 1e6
    bands = {}
    for metric in METRICS:
        rows = []
        for date, group in runs.groupby("date", sort=True)[metric]:
            values = group.to_numpy(dtype=float)
            q = weighted_quantiles(values, None, list(BAND_QUANTILES.values()))
            extremes = {"min": values.min(), "max": values.max()}
            rows.append({"date": date, **dict(zip(BAND_QUANTILES, q, strict=True)), **extremes})
        bands[metric] = pd.DataFrame(rows)
    dates = [d for d in SUMMARY_DATES if d in set(runs["date"])]
    dates = dates or [str(runs["date"].iloc[-1])]
    finals = runs[runs["date"].isin(dates)].reset_index(drop=True)
    doc = Document(f"Outlook from {from_date}: {session.record.name}")
    doc.add(Paragraph(what), Heading("Spread at the headline dates"))
    table_rows = []
    for date in dates:
        at = finals[finals["date"] == date]
        for metric, (label, fmt) in METRICS.items():
            q = weighted_quantiles(at[metric].to_numpy(), None, list(BAND_QUANTILES.values()))
            table_rows.append([f"{label} @ {date}", *(fmt.format(v) for v in q)])
    doc.add(
        Table(["metric", "10%", "median", "90%"], table_rows, [False, True, True, True]),
        Image("outlook.png", "fan chart of the outlook"),
    )
    figure = fan_chart(bands, {m: label for m, (label, _f) in METRICS.items()}, log=["compute_gap"])
    return Outlook(seeds, from_date, bands, finals, doc, figure)
