"""The outlook: where the session goes from here if every role keeps its current policy.

Why: the room steers between futures, not towards one. From the current state (an in-memory
copy of the live model) the remaining months are run once per seed with the levers held, and
the spread of the headline metrics is drawn as a fan chart. Only the randomness of the future
differs between seeds: the model's generators (busts, entry, reviews and the shocks' own streams,
world/shocks.py) are reseeded from SeedSequence(session seed, turns played, k); the adopters'
counter-based stream stays the session's. The session itself is not touched.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from chipwar.runs.core.executors import Progress, run_all, serial
from chipwar.runs.core.run_folder import SUMMARY_DATES
from chipwar.runs.core.textdoc import Document, Heading, Image, Paragraph, Table
from chipwar.world.errors import InputError

if TYPE_CHECKING:
    from chipwar.runs.wargame.session import Session
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

    seeds: int
    from_date: str
    bands: dict[str, pd.DataFrame]
    finals: pd.DataFrame  # one row per seed: the metrics at each headline date reached
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


def outlook(session: Session, seeds: int = 10, progress: bool = False) -> Outlook:
    """Run the rest of the session ``seeds`` times with every lever held where it is."""
    from chipwar.viz.wargame_plots import fan_chart

    if not 1 <= seeds <= MAX_SEEDS:
        raise InputError("outlook", "seeds", seeds, f"a whole number in 1..{MAX_SEEDS}")
    if session.finished:
        raise InputError(
            "outlook", "session", session.record.name, "a session with months still to play"
        )
    stream = [session.record.seed, session.turns_played, OUTLOOK_STREAM]
    futures = [
        OutlookRun(session.model, np.random.SeedSequence([*stream, k]), k) for k in range(seeds)
    ]
    # In this process: a live model does not pickle (its data collector holds lambdas).
    bar = Progress("outlook", unit="seed", show=progress, leave=False)
    runs = pd.concat(run_all(play_future, futures, serial(), bar), ignore_index=True)
    runs["pop_cn_stack"] = runs["pop_cn_stack"] / 1e6
    bands = {}
    for metric in METRICS:
        grouped = runs.groupby("date", sort=True)[metric]
        bands[metric] = pd.DataFrame(
            {
                "p10": grouped.quantile(0.1),
                "p50": grouped.quantile(0.5),
                "p90": grouped.quantile(0.9),
                "min": grouped.min(),
                "max": grouped.max(),
            }
        ).reset_index()
    dates = [d for d in SUMMARY_DATES if d in set(runs["date"])]
    dates = dates or [str(runs["date"].iloc[-1])]
    finals = runs[runs["date"].isin(dates)].reset_index(drop=True)
    from_date = session.month_records[-1].date
    doc = Document(f"Outlook from {from_date}: {session.record.name}")
    doc.add(
        Paragraph(
            f"{seeds} futures from the state after turn {session.turns_played}, every role "
            "keeping its current levers (the scenario's own dated events still apply). Only the "
            "random draws of the future differ: busts, network entry, governments' reviews."
        ),
        Heading("Spread at the headline dates"),
    )
    table_rows = []
    for date in dates:
        at = finals[finals["date"] == date]
        for metric, (label, fmt) in METRICS.items():
            q = at[metric].quantile([0.1, 0.5, 0.9]).to_numpy()
            table_rows.append([f"{label} @ {date}", *(fmt.format(v) for v in q)])
    doc.add(
        Table(["metric", "10%", "median", "90%"], table_rows, [False, True, True, True]),
        Image("outlook.png", "fan chart of the outlook"),
    )
    figure = fan_chart(bands, {m: label for m, (label, _f) in METRICS.items()}, log=["compute_gap"])
    return Outlook(seeds, from_date, bands, finals, doc, figure)
