"""The outlook: where the session goes from here if every role keeps its current policy.

Why: the room steers between futures, not towards one. Two kinds of fan:

- ``--ensemble N`` (the honest one): N calibrated parameter sets drawn from the ensemble
  (world/ensemble.py), each with its own seed. Each future replays the session's log under the
  member's parameters (the recorded moves, bots' included, as they were made), so the moves meet
  each member's own world, and then plays the session to its end: human seats hold their
  levers, bot seats keep moving by their doctrines on their own briefs, turn by turn. The fan
  shows the months after the current one. Its width comes from the parameters, from every random
  draw of the future (busts, network entry, governments' reviews, the shocks of world/shocks.py)
  and from the bots' reactions to both. The futures are independent tasks (a session record
  each), so they run on the pool.
- ``--seeds N``: from the current state (an in-memory copy of the live model) the remaining
  months are run once per seed with the levers held. Only the randomness of the future differs:
  the model's generators (busts, entry, reviews and the shocks' own streams) are reseeded from
  SeedSequence(session seed, turns played, k); the adopters' counter-based stream stays the
  session's. With parameters fixed and no shocks the model is nearly deterministic; the shocks
  (on by default after the branch date) give this fan its width.

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
from chipwar.runs.core.textdoc import Document, Heading, Image, Paragraph, Table
from chipwar.world.ensemble import Ensemble, apply_member, member_seed, weighted_quantiles
from chipwar.world.errors import InputError

if TYPE_CHECKING:
    from chipwar.runs.wargame.session import Session, SessionRecord
    from chipwar.world.model import ChipWarModel

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
    """One future under a drawn member: the session's record with the member's parameters and
    the future's seed, small and picklable, so it runs on any executor."""

    record: SessionRecord
    after: str  # the current month: the fan shows the months after it
    index: int
    member: int


def play_member_future(run: MemberFuture) -> pd.DataFrame:
    """Replay the session's turns under the member's parameters, then play it to its end: bot
    seats move by their doctrines each turn on their own briefs, human seats hold their levers.
    The metrics of the months after the current one."""
    from chipwar.runs.wargame.session import Session

    session = Session(run.record, None, keep_checkpoint=False)
    while not session.finished:
        session.advance(force=True)
    series = session.model.series_table()
    frame = series.loc[series["date"] > run.after, ["date", *METRICS]].reset_index(drop=True)
    frame["seed"] = run.index
    frame["member"] = run.member
    return frame


def member_futures(session: Session, ensemble: Ensemble, count: int) -> list[MemberFuture]:
    """``count`` drawn members, each the session's record with the member's parameters, its own
    seed and no pending moves (the outlook holds human levers where they are)."""
    stream = [session.record.seed, session.turns_played, OUTLOOK_STREAM]
    master = int(np.random.SeedSequence(stream).generate_state(1, np.uint64)[0] >> 1)
    after = session.month_records[-1].date
    futures = []
    for k, member in enumerate(ensemble.draw(count, master)):
        record = session.record.model_copy(
            deep=True,
            update={
                "scenario": apply_member(session.record.scenario, member),
                "seed": member_seed(master, k),
                "pending": {},
                "name": f"{session.record.name}-outlook-{k}"[:200],
            },
        )
        futures.append(MemberFuture(record, after, k, member.index))
    return futures


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
        bar = Progress("outlook", unit="member", show=progress, leave=False)
        tasks = member_futures(session, ensemble, seeds)
        frames = run_all(play_member_future, tasks, info or serial(), bar)
        what = (
            f"{seeds} futures under calibrated parameter sets drawn from "
            f"`{ensemble.path.name}`, each with its own seed. Each replays the turns played so "
            "far under its member's parameters and then plays the session to its end: human "
            "seats hold their levers, bot seats keep moving by their doctrines on their own "
            "briefs (the scenario's own dated events still apply). The spread comes from the "
            "parameters, from every random draw of the future and from the bots' reactions."
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
