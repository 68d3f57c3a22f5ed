"""`chipwar tournament`: every US doctrine against every China doctrine, over ensemble members.

An empirical game (runs/experiments/egta.py; docs/ODD.md, "Doctrine tournament"): each pairing
of a US doctrine and a China doctrine is played in the same ensemble members with the same seeds
(common random numbers, so differences between pairings are not masked by draws), each side's
payoff is measured from what the model records, and the mean game over members is analysed:
payoff matrices, best responses, pure-strategy equilibria and how far they hold across members.

It writes ``payoffs.parquet`` (one row per pairing and member), ``report.md`` and
``payoffs.png``; the same seed gives the same bytes, on any executor.

The doctrines: the built-in personalities (hawk, pragmatist, dove) and every doctrine the
scenario file describes as data (its ``[doctrines.NAME]`` tables), for the US government and the
PRC government alike. Every other role keeps what the scenario gives it (exogenous levers, or
its own ``[players]`` entry), the same in every pairing.
"""

from __future__ import annotations

import functools
import io
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from chipwar.runs.core.atomic import write_files_atomic
from chipwar.runs.core.executors import ExecutorInfo, Progress, run_all
from chipwar.runs.core.textdoc import Bullets, Document, Heading, Image, Paragraph, Table
from chipwar.runs.experiments.egta import (
    GameEstimate,
    best_response_masks,
    equilibrium_mask,
    estimate_game,
    pure_equilibria,
)
from chipwar.runs.experiments.payoffs import (
    COMPONENT_NAMES,
    COST_LEVERS,
    Weights,
    measure,
    payoffs,
    variants,
)
from chipwar.world.calendar import parse_month
from chipwar.world.errors import InputError

if TYPE_CHECKING:
    from chipwar.world.ensemble import Ensemble, Member
    from chipwar.world.model import ChipWarModel
    from chipwar.world.observation import Observation
    from chipwar.world.scenario import Scenario

CHART, PAYOFFS, REPORT = "payoffs.png", "payoffs.parquet", "report.md"
INFO_KEY = b"chipwar.tournament"
KEYS = ("us_doctrine", "china_doctrine", "draw")
US_ROLE, CHINA_ROLE = "us", "china"
DEFAULT_HORIZON = "2028-12"
DEFAULT_MEMBERS = 20


@dataclass(frozen=True)
class TournamentInfo:
    """What a tournament was, for its report."""

    scenario: str
    horizon: str
    seed: int
    members: int
    us_doctrines: tuple[str, ...]
    china_doctrines: tuple[str, ...]
    bootstrap: int = 1000
    ensemble: str = ""  # where the members came from (file and fit), one line
    payoff: tuple[str, ...] = ()  # each side's payoff as a formula


def payoff_arrays(
    table: pd.DataFrame,
) -> tuple[np.ndarray, np.ndarray, tuple[str, ...], tuple[str, ...]]:
    """The payoff samples of a payoffs table as (draws, US doctrines, China doctrines) arrays.

    Doctrines keep the order of their first row; every (pairing, draw) must appear once.
    """
    us_names = tuple(dict.fromkeys(table["us_doctrine"]))
    china_names = tuple(dict.fromkeys(table["china_doctrine"]))
    draws = sorted(set(table["draw"]))
    if table.duplicated(list(KEYS)).any():
        raise ValueError("a pairing appears twice for the same draw")
    if len(table) != len(us_names) * len(china_names) * len(draws):
        raise ValueError("the payoffs table misses pairings for some draws")
    frame = table.set_index(list(KEYS)).sort_index()
    index = pd.MultiIndex.from_product([us_names, china_names, draws], names=list(KEYS))
    shape = (len(us_names), len(china_names), len(draws))
    arrays = [
        np.moveaxis(frame[column].reindex(index).to_numpy(float).reshape(shape), -1, 0)
        for column in ("us_payoff", "china_payoff")
    ]
    return arrays[0], arrays[1], us_names, china_names


def analyse(table: pd.DataFrame, seed: int, bootstrap: int = 1000) -> GameEstimate:
    """The mean game of a payoffs table and its uncertainty across members."""
    us, china, us_names, china_names = payoff_arrays(table)
    return estimate_game(us, china, us_names, china_names, seed, bootstrap)


# --- playing --------------------------------------------------------------------------------
def doctrines_of(scenario: Scenario) -> tuple[str, ...]:
    """The tournament's strategies: the built-in personalities, then the scenario's doctrines."""
    from chipwar.world.doctrines import PERSONALITIES

    return (*PERSONALITIES, *(d for d in scenario.doctrines if d not in PERSONALITIES))


def check_horizon(scenario: Scenario, until: str) -> None:
    """The horizon must leave the doctrines time to act: after the branch, within the run."""
    try:
        month = parse_month(until)
    except ValueError:
        raise InputError("--until", "until", until, "a month as YYYY-MM") from None
    if not parse_month(scenario.branch) <= month <= parse_month(scenario.end):
        raise InputError(
            "--until",
            "until",
            until,
            f"a month from the branch date {scenario.branch} (when the doctrines start to play) "
            f"to the end {scenario.end} of scenario {scenario.name}",
        )


def _lever_row(seen: Observation) -> dict[str, float | str]:
    return {"date": seen.date, **{key: seen.levers[key] for key in COST_LEVERS}}


def _finish(
    model: ChipWarModel, levers: list[dict[str, float | str]], branch: str, until: str
) -> dict[str, float]:
    """Step a model to its end, keeping the cost levers from the branch; its components."""
    while model.running:
        model.step()
        seen = model.observe()
        if seen.date >= branch:
            levers.append(_lever_row(seen))
    table = pd.DataFrame(levers, columns=["date", *COST_LEVERS])
    return measure(model.series_table(), table, branch, until)


def play(
    scenario: Scenario,
    us_doctrine: str,
    china_doctrine: str,
    member: Member | None,
    seed: int,
    until: str = DEFAULT_HORIZON,
) -> dict[str, float]:
    """One pairing in one ensemble member: its payoff components (runs/experiments/payoffs.py).

    The US and PRC governments are played by the two doctrines (the scenario's ``[players]``
    keep the other roles); the member's parameters replace the scenario's; the run stops at
    ``until``, where the outcomes are read. This is the definition; :func:`play_member` gives
    the same numbers for every pairing of a member at once.
    """
    from chipwar.world.ensemble import apply_member
    from chipwar.world.model import ChipWarModel
    from chipwar.world.scenario import with_players

    match = with_players(
        scenario, {US_ROLE: us_doctrine, CHINA_ROLE: china_doctrine}, source="tournament"
    )
    if member is not None:
        match = apply_member(match, member)
    return _finish(ChipWarModel(match, rng=seed, until=until), [], match.branch, until)


def first_turn_month(scenario: Scenario) -> int:
    """The month of the players' first turn (agents/players.py ``make_players``): the branch
    with the history phase (never before the second month), else the second month."""
    first = parse_month(scenario.start) + 1
    return max(first, parse_month(scenario.branch)) if scenario.history else first


def play_member(
    scenario: Scenario,
    us_doctrines: Sequence[str],
    china_doctrines: Sequence[str],
    member: Member | None,
    seed: int,
    until: str = DEFAULT_HORIZON,
) -> list[dict[str, float]]:
    """Every pairing in one member, as :func:`play` gives them, in pairing order (US-major).

    Why: before the players' first turn nothing depends on the doctrines, so the member's
    history is run once; each pairing then continues from a copy of it (``clone``), with the two
    governments seated (``seat_players``) on the history's monthly snapshots. A test checks that
    this gives exactly the runs :func:`play` gives.
    """
    from chipwar.world.doctrines import resolve_player
    from chipwar.world.ensemble import apply_member
    from chipwar.world.model import ChipWarModel

    world = apply_member(scenario, member) if member is not None else scenario
    model = ChipWarModel(world, rng=seed, until=until)
    first, history, levers = first_turn_month(world), [], []
    while model.running and model.start_month + model.months < first:
        model.step()
        seen = model.observe()
        history.append(seen)
        if seen.date >= world.branch:
            levers.append(_lever_row(seen))
    others = {
        role: resolve_player(value, world.doctrines)
        for role, value in world.players.items()
        if role not in (US_ROLE, CHINA_ROLE)
    }
    results = []
    for us in us_doctrines:
        for china in china_doctrines:
            game = model.clone()
            seats = {**others, US_ROLE: us, CHINA_ROLE: china}
            game.seat_players(seats, history, world.player_turn_months)
            results.append(_finish(game, list(levers), world.branch, until))
    return results


@dataclass(frozen=True)
class Draw:
    """One task: a member drawn from the ensemble, its position in the draw and its seed (the
    same for every pairing: common random numbers)."""

    draw: int
    member: Member
    seed: int


def plan_draws(members: Sequence[Member], seed: int) -> list[Draw]:
    """The tasks of a tournament: one per drawn member, seeded by ``member_seed``."""
    from chipwar.world.ensemble import member_seed

    return [Draw(d, member, member_seed(seed, d)) for d, member in enumerate(members)]


def _play_draw(
    scenario: Scenario, us: Sequence[str], china: Sequence[str], until: str, task: Draw
) -> list[dict[str, float]]:
    """Worker side (picklable through functools.partial)."""
    return play_member(scenario, us, china, task.member, task.seed, until)


def payoff_table(
    us_doctrines: Sequence[str],
    china_doctrines: Sequence[str],
    draws: Sequence[Draw],
    results: Sequence[Sequence[dict[str, float]]],
    w: Weights,
) -> pd.DataFrame:
    """One row per pairing and draw (pairing-major): keys, member, seed, the components and
    each side's payoff. ``results[d]`` holds draw d's pairings in :func:`play_member`'s order."""
    rows = []
    pairings = [(us, china) for us in us_doctrines for china in china_doctrines]
    for k, (us, china) in enumerate(pairings):
        for task, components in zip(draws, results, strict=True):
            c = components[k]
            us_payoff, china_payoff = payoffs(c, w)
            rows.append(
                {
                    "us_doctrine": us,
                    "china_doctrine": china,
                    "draw": task.draw,
                    "member": task.member.index,
                    "seed": task.seed,
                    **{name: c[name] for name in COMPONENT_NAMES},
                    "us_payoff": us_payoff,
                    "china_payoff": china_payoff,
                }
            )
    table = pd.DataFrame(rows)
    return table.astype({"draw": "int64", "member": "int64", "seed": "int64"})


def reweighted(table: pd.DataFrame, w: Weights) -> pd.DataFrame:
    """The payoffs table with both payoffs recomputed from its components under ``w``."""
    out = table.copy()
    both = [payoffs(row, w) for row in table[list(COMPONENT_NAMES)].to_dict("records")]
    out["us_payoff"] = [us for us, _ in both]
    out["china_payoff"] = [china for _, china in both]
    return out


def ensemble_line(ensemble: Ensemble) -> str:
    """Where the members came from, for the report (no path: the bytes must not depend on it)."""
    record = ensemble.fit_record
    method = record.get("method", "unknown method")
    return (
        f"drawn by weight from an ensemble of {len(ensemble)} parameter sets ({method}; "
        f"file sha256 {ensemble.sha256[:12]})"
    )


def run_tournament(
    scenario: Scenario,
    ensemble: Ensemble,
    out: Path,
    info: ExecutorInfo,
    members: int = DEFAULT_MEMBERS,
    seed: int = 0,
    until: str = DEFAULT_HORIZON,
    weights: Weights | None = None,
    progress: bool = False,
) -> GameEstimate:
    """Play every pairing over ``members`` draws from ``ensemble``, then analyse and write."""
    check_horizon(scenario, until)
    w = weights or Weights()
    doctrines = doctrines_of(scenario)
    draws = plan_draws(ensemble.draw(members, seed), seed)
    fn = functools.partial(_play_draw, scenario, doctrines, doctrines, until)
    results = run_all(fn, draws, info, Progress("tournament", unit="member", show=progress))
    table = payoff_table(doctrines, doctrines, draws, results, w)
    tournament = TournamentInfo(
        scenario=scenario.name,
        horizon=until,
        seed=seed,
        members=members,
        us_doctrines=doctrines,
        china_doctrines=doctrines,
        ensemble=ensemble_line(ensemble),
        payoff=tuple(w.describe()),
    )
    others = [(label, reweighted(table, v)) for label, v in variants(w)[1:]]
    return write_tournament(out, table, tournament, COMPONENT_NAMES, others)


# --- the report --------------------------------------------------------------------------------
def _num(value: float) -> str:
    text = f"{value:.2f}"
    return "0.00" if text == "-0.00" else text


def _pct(share: float) -> str:
    return f"{100 * share:.0f}%"


def _matrix(mean: np.ndarray, low: np.ndarray, high: np.ndarray, g: GameEstimate) -> Table:
    rows = [
        [
            us,
            *(
                f"{_num(mean[i, j])} [{_num(low[i, j])}, {_num(high[i, j])}]"
                for j in range(mean.shape[1])
            ),
        ]
        for i, us in enumerate(g.us_strategies)
    ]
    return Table(["US \\ China", *g.china_strategies], rows, [False] + [True] * mean.shape[1])


def _names(names: Sequence[str], picks: Sequence[int]) -> str:
    return ", ".join(names[k] for k in picks)


def _best_response_table(g: GameEstimate, side: str) -> Table:
    """For each opponent doctrine: the best response of the mean game, then every own doctrine's
    share of members (and of bootstrap resamples) in which it is a best response."""
    if side == "us":
        own, other = g.us_strategies, g.china_strategies
        best = g.us_best_responses()
        members, boot = g.us_best_share_members.T, g.us_best_share_bootstrap.T
    else:
        own, other = g.china_strategies, g.us_strategies
        best = g.china_best_responses()
        members, boot = g.china_best_share_members, g.china_best_share_bootstrap
    rows = [
        [
            name,
            _names(own, best[k]),
            *(f"{_pct(members[k, o])} / {_pct(boot[k, o])}" for o in range(len(own))),
        ]
        for k, name in enumerate(other)
    ]
    opponent = "China" if side == "us" else "US"
    return Table(
        [f"against {opponent}", "best response (mean game)", *own],
        rows,
        [False, False] + [True] * len(own),
    )


def _equilibrium_table(g: GameEstimate) -> Table:
    rows = []
    for i, us in enumerate(g.us_strategies):
        for j, china in enumerate(g.china_strategies):
            rows.append(
                [
                    us,
                    china,
                    "yes" if (i, j) in g.equilibria else "",
                    _num(g.regret[i, j]),
                    _pct(g.equilibrium_share_members[i, j]),
                    _pct(g.equilibrium_share_bootstrap[i, j]),
                ]
            )
    return Table(
        [
            "US",
            "China",
            "equilibrium (mean game)",
            "regret",
            "share of members",
            "share of resamples",
        ],
        rows,
        [False, False, False, True, True, True],
    )


def _equilibrium_text(g: GameEstimate) -> str:
    if g.equilibria:
        found = "; ".join(
            f"**US {g.us_strategies[i]}, China {g.china_strategies[j]}**" for i, j in g.equilibria
        )
        count = len(g.equilibria)
        return (
            f"The mean game has {count} pure-strategy Nash equilibri{'um' if count == 1 else 'a'}: "
            f"{found}."
        )
    i, j = np.unravel_index(int(np.argmin(g.regret)), g.regret.shape)
    return (
        "The mean game has no pure-strategy Nash equilibrium. The profile of least regret is "
        f"US {g.us_strategies[i]}, China {g.china_strategies[j]} (regret {_num(g.regret[i, j])}: "
        "the most a side gains there by switching doctrine alone)."
    )


def component_table(table: pd.DataFrame, components: Sequence[str]) -> Table:
    """Mean of each payoff component over members, by pairing."""
    means = table.groupby(["us_doctrine", "china_doctrine"], sort=False)[list(components)].mean()
    rows = [[us, china, *(_num(v) for v in values)] for (us, china), values in means.iterrows()]
    return Table(["US", "China", *components], rows, [False, False] + [True] * len(components))


def _sensitivity_table(
    table: pd.DataFrame, g: GameEstimate, others: Sequence[tuple[str, pd.DataFrame]]
) -> Table:
    """The pure equilibria of the mean game under each weighting, with the share of members in
    whose own game each is one."""
    rows = []
    for label, variant in [("as defined", table), *others]:
        us, china, _, _ = payoff_arrays(variant)
        found = pure_equilibria(us.mean(axis=0), china.mean(axis=0))
        share = equilibrium_mask(us, china).mean(axis=0)
        text = "; ".join(
            f"{g.us_strategies[i]} / {g.china_strategies[j]} ({_pct(share[i, j])})"
            for i, j in found
        )
        rows.append([label, text or "none"])
    return Table(["weighting", "equilibria US / China (share of members)"], rows)


def tournament_document(
    table: pd.DataFrame,
    g: GameEstimate,
    info: TournamentInfo,
    components: Sequence[str],
    others: Sequence[tuple[str, pd.DataFrame]] = (),
) -> Document:
    """The report: setting, payoff matrices, best responses, equilibria and components."""
    doc = Document(f"Doctrine tournament: {info.scenario}")
    setting = (
        f"Scenario `{info.scenario}` to {info.horizon}: {len(info.us_doctrines)} US doctrines "
        f"against {len(info.china_doctrines)} China doctrines, each pairing played in the same "
        f"{info.members} ensemble member{'' if info.members == 1 else 's'} with the same seeds "
        f"(master seed {info.seed})."
    )
    if info.ensemble:
        setting += f" Members: {info.ensemble}."
    doc.add(
        Paragraph(setting),
        Paragraph('Payoffs are defined in docs/ODD.md ("Doctrine tournament"); in short:'),
        Bullets(list(info.payoff)),
        Image(CHART, "payoff heatmaps"),
        Heading("Payoff matrices"),
        Paragraph(
            "Rows are US doctrines, columns China doctrines; each cell is the mean payoff over "
            "members with its 10th and 90th percentile across members in brackets."
        ),
        Heading("US payoff", 3),
        _matrix(g.us_mean, g.us_p10, g.us_p90, g),
        Heading("China payoff", 3),
        _matrix(g.china_mean, g.china_p10, g.china_p90, g),
        Heading("Best responses"),
        Paragraph(
            "For each opponent doctrine, the best response in the mean game, then for each own "
            "doctrine the share of members in whose own game it is a best response / the share "
            f"of {g.bootstrap} bootstrap resamples of the members in whose mean game it is (ties "
            "count for every tied doctrine, so shares can add up to more than 100%)."
        ),
        Heading("US best responses", 3),
        _best_response_table(g, "us"),
        Heading("China best responses", 3),
        _best_response_table(g, "china"),
        Heading("Equilibria"),
        Paragraph(_equilibrium_text(g)),
        Paragraph(
            "Every pairing: whether it is a pure-strategy equilibrium of the mean game, its regret "
            "there (the larger of the two sides' gains from switching doctrine alone; 0 at an "
            "equilibrium), and the share of members in whose own game, and of bootstrap resamples "
            "in whose mean game, it is an equilibrium."
        ),
        _equilibrium_table(g),
    )
    if others:
        doc.add(
            Heading("Sensitivity to the payoff weights"),
            Paragraph(
                "The weights are value judgments (docs/ODD.md). The same runs under other "
                "weightings: an equilibrium that survives them does not hang on the weights."
            ),
            _sensitivity_table(table, g, others),
        )
    doc.add(
        Heading("Payoff components"),
        Paragraph("Mean over members; `payoffs.parquet` holds every member's values."),
        component_table(table, components),
    )
    return doc


# --- the files ---------------------------------------------------------------------------------
def payoffs_bytes(table: pd.DataFrame, info: TournamentInfo) -> bytes:
    """The payoffs table as Parquet (zstd), with the tournament's settings in its metadata."""
    arrow = pa.Table.from_pandas(table, preserve_index=False)
    metadata = dict(arrow.schema.metadata or {})
    metadata[INFO_KEY] = json.dumps(asdict(info), sort_keys=True).encode()
    buffer = io.BytesIO()
    pq.write_table(arrow.replace_schema_metadata(metadata), buffer, compression="zstd")
    return buffer.getvalue()


def chart_bytes(g: GameEstimate, info: TournamentInfo) -> bytes:
    """The payoff heatmaps of the mean game as PNG bytes (matplotlib is imported here, so the
    workers that only play never load it)."""
    from chipwar.viz.tournament_plots import plot_payoff_heatmaps

    us_best, china_best = best_response_masks(g.us_mean, g.china_mean)
    buffer = io.BytesIO()
    plot_payoff_heatmaps(
        g.us_strategies,
        g.china_strategies,
        (g.us_mean, g.us_p10, g.us_p90),
        (g.china_mean, g.china_p10, g.china_p90),
        us_best,
        china_best,
        g.equilibria,
        f"Doctrine tournament: {info.scenario} to {info.horizon}, {info.members} members",
        buffer,
    )
    return buffer.getvalue()


def write_tournament(
    out: Path,
    table: pd.DataFrame,
    info: TournamentInfo,
    components: Sequence[str],
    others: Sequence[tuple[str, pd.DataFrame]] = (),
) -> GameEstimate:
    """Analyse a payoffs table and write its three files into ``out``, all or none.

    ``others``: the same table under other payoff weightings, for the sensitivity section.
    """
    g = analyse(table, info.seed, info.bootstrap)
    doc = tournament_document(table, g, info, components, others)
    write_files_atomic(
        Path(out),
        {
            PAYOFFS: payoffs_bytes(table, info),
            REPORT: doc.to_markdown().encode(),
            CHART: chart_bytes(g, info),
        },
    )
    return g
