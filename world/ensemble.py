"""The calibrated ensemble: parameter sets consistent with the history targets, as data.

Why: the model is nearly deterministic for given parameters, so the spread of its outcomes comes
from what we do not know about the parameters. ``chipwar calibrate --ensemble`` writes
``data/ensemble.parquet``; everything that reports a band (``run --ensemble``, ``demo``,
``compare --ensemble``, sweeps with ``uncertainty = "ensemble"``, the wargame outlook) reads it
here and nowhere else.

The file: one row per member; ``member`` (int64, 0..n-1), ``weight`` (float64, > 0, summing to
1), one float64 column per calibrated parameter named as in ``data/parameters.toml`` (inside its
range), and per-member fit fields (``distance``: the member's discrepancy to the history
targets). The record of the fit is JSON in the Parquet key-value metadata under ``chipwar.fit``.

Draws: :meth:`Ensemble.draw` resamples ``n`` members by weight with systematic (low-variance)
resampling from one uniform number of the seed, so a draw is an equally weighted sample of the
weighted ensemble (a member of weight above 1/n can appear more than once, and ``n`` may exceed
the member count). Each drawn run gets its own seed from ``SeedSequence(seed)`` by its position
in the draw (:func:`member_seed`). :meth:`Ensemble.every_member` instead runs each member once,
keeping its weight: bands over it are weighted quantiles (:func:`weighted_quantiles`).
"""

from __future__ import annotations

import hashlib
import io
import json
import math
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from chipwar.world.errors import InputError
from chipwar.world.parameters import parameter_table

if TYPE_CHECKING:
    from collections.abc import Collection, Sequence

    import pandas as pd

    from chipwar.world.scenario import Scenario

FIT_KEY = b"chipwar.fit"
MEMBER, WEIGHT = "member", "weight"
FIT_COLUMNS = ("distance",)  # per-member fields of the fit record
WEIGHT_TOLERANCE = 1e-6
MAKE_IT = "run `chipwar calibrate --ensemble` to write it"
# SeedSequence spawn keys: the draw's uniform number, and each drawn run's seed.
DRAW_STREAM, MEMBER_STREAM = 0, 1


def default_path() -> Path:
    """The shipped ensemble, ``world/data/ensemble.parquet``."""
    return Path(str(files("chipwar.world") / "data" / "ensemble.parquet"))


@dataclass(frozen=True)
class Member:
    """One parameter set of the ensemble: its row number, its weight and its parameter values."""

    index: int
    weight: float
    params: dict[str, float]


@dataclass(frozen=True, eq=False)
class Ensemble:
    """A validated ensemble file: its members table, parameter names and fit record."""

    path: Path
    members: pd.DataFrame
    parameters: tuple[str, ...]
    fit_record: dict[str, Any]
    sha256: str

    def __len__(self) -> int:
        return len(self.members)

    def member(self, index: int) -> Member:
        row = self.members.iloc[index]
        return Member(
            int(row[MEMBER]), float(row[WEIGHT]), {p: float(row[p]) for p in self.parameters}
        )

    def draw(self, n: int, seed: int) -> list[Member]:
        """``n`` members resampled by weight (systematic resampling), the same for the same seed.

        Positions ``(u + i) / n`` for ``i < n``, with one ``u`` in [0, 1) from
        ``SeedSequence(seed)``, pick the member whose share of the cumulative weight holds them:
        each member appears ``floor(n w)`` or ``ceil(n w)`` times, in member order.
        """
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise InputError(str(self.path), "members", n, "a whole number >= 1 to draw")
        stream = np.random.SeedSequence(seed, spawn_key=(DRAW_STREAM,))
        u = float(np.random.default_rng(stream).random())
        cumulative = np.cumsum(self.members[WEIGHT].to_numpy(dtype=float))
        cumulative /= cumulative[-1]
        positions = (u + np.arange(n)) / n
        picks = np.minimum(np.searchsorted(cumulative, positions, side="right"), len(self) - 1)
        return [self.member(int(i)) for i in picks]

    def every_member(self) -> list[Member]:
        """Every member once, with its weight (bands over them are weighted quantiles)."""
        return [self.member(i) for i in range(len(self))]


def member_seed(seed: int, position: int) -> int:
    """The seed of the run at ``position`` in a draw: from ``SeedSequence(seed)``, in [0, 2**63)
    (the command line's seed range)."""
    state = np.random.SeedSequence(seed, spawn_key=(MEMBER_STREAM, position)).generate_state(
        1, dtype=np.uint64
    )
    return int(state[0] >> np.uint64(1))


def apply_member(scenario: Scenario, member: Member, keep: Collection[str] = ()) -> Scenario:
    """The scenario with the member's parameter values (through ``with_overrides``), except the
    parameters named in ``keep``: those the user fixed on purpose (``--set params.NAME``, a
    sweep factor) win over the member's."""
    from chipwar.world.scenario import with_overrides

    values = {f"params.{k}": v for k, v in member.params.items() if k not in keep}
    if not values:
        return scenario
    return with_overrides(scenario, values, source=f"ensemble member {member.index}")


def weighted_quantiles(
    values: Sequence[float] | np.ndarray,
    weights: Sequence[float] | np.ndarray | None,
    quantiles: Sequence[float],
) -> np.ndarray:
    """Quantiles of weighted values by the inverted CDF: the smallest value whose cumulative
    weight reaches ``q`` of the total. A member of weight 2 counts exactly as two members of
    weight 1 would, and with equal weights this is numpy's ``inverted_cdf`` (no interpolation).
    NaNs are left out with their weights; NaN if nothing is left."""
    x = np.asarray(values, dtype=float)
    w = np.ones_like(x) if weights is None else np.asarray(weights, dtype=float)
    if x.shape != w.shape or x.ndim != 1:
        raise ValueError("values and weights must be 1-d arrays of the same length")
    if np.any(~np.isfinite(w)) or np.any(w < 0):
        raise ValueError("weights must be finite and >= 0")
    keep = ~np.isnan(x) & (w > 0)
    q = np.asarray(quantiles, dtype=float)
    if not keep.any():
        return np.full(q.shape, np.nan)
    x, w = x[keep], w[keep]
    order = np.argsort(x, kind="stable")
    x, cumulative = x[order], np.cumsum(w[order])
    total = cumulative[-1]
    # The first index whose cumulative weight reaches q * total; a relative slack of a few ulps
    # keeps a weight that lands exactly on the boundary (2 of 4 at q = 0.5) on its own value.
    targets = q * total * (1.0 - 8 * np.finfo(float).eps)
    index = np.minimum(np.searchsorted(cumulative, targets, side="left"), len(x) - 1)
    return x[index]


# --- reading and checking ------------------------------------------------------------------------
def ensemble_path(path: str | Path | None = None) -> Path:
    """The ensemble file's path (default: the shipped one), refused in one line if it is not a
    file: a cheap check before a command starts any work."""
    path = Path(path) if path is not None else default_path()
    if not path.exists():
        raise InputError(
            str(path), "ensemble file", "missing", f"the calibrated ensemble: {MAKE_IT}"
        )
    if not path.is_file():
        raise InputError(str(path), "ensemble file", "not a file", f"a Parquet file; {MAKE_IT}")
    return path


def load_ensemble(path: str | Path | None = None) -> Ensemble:
    """Read and check an ensemble file (default: the shipped one); InputError in one line naming
    the file, the field and what is allowed if it is missing or not in the ensemble format."""
    import pyarrow.parquet as pq

    path = ensemble_path(path)
    source = str(path)
    try:
        raw = path.read_bytes()
        table = pq.ParquetFile(io.BytesIO(raw)).read()  # not read_table: no pyarrow.dataset
    except Exception as err:  # pyarrow raises its own types for junk files
        reason = (str(err).splitlines() or [type(err).__name__])[0][:100]
        raise InputError(
            source, "ensemble file", reason, "a Parquet file written by chipwar calibrate"
        ) from None
    fit = _fit_record(table.schema.metadata or {}, source)
    members = table.to_pandas()
    parameters = _check_members(members, table.schema, source)
    return Ensemble(
        path=path,
        members=members,
        parameters=parameters,
        fit_record=fit,
        sha256=hashlib.sha256(raw).hexdigest(),
    )


def _fit_record(metadata: dict[bytes, bytes], source: str) -> dict[str, Any]:
    text = metadata.get(FIT_KEY)
    if text is None:
        raise InputError(source, "metadata chipwar.fit", None, "the fit record as a JSON object")
    try:
        record = json.loads(text)
    except ValueError:
        record = None
    if not isinstance(record, dict):
        shown = text.decode("utf-8", "replace")
        raise InputError(source, "metadata chipwar.fit", shown, "the fit record as a JSON object")
    return record


def _check_members(members: pd.DataFrame, schema: Any, source: str) -> tuple[str, ...]:
    """Column names, types and values; returns the parameter columns in file order."""
    import pyarrow as pa

    table = parameter_table()
    names = list(members.columns)
    if len(names) != len(set(names)):
        duplicate = next(n for n in names if names.count(n) > 1)
        raise InputError(source, "column", duplicate, "each column once")
    for required in (MEMBER, WEIGHT):
        if required not in names:
            raise InputError(source, "column", required, "required, but missing")
    if members.empty:
        raise InputError(source, "rows", 0, "at least one member")
    parameters = tuple(n for n in names if n in table)
    allowed = f"{MEMBER}, {WEIGHT}, {', '.join(FIT_COLUMNS)} or a parameter of parameters.toml"
    for name in names:
        if name not in (MEMBER, WEIGHT, *FIT_COLUMNS, *parameters):
            raise InputError(source, "column", name, allowed)
        wanted = pa.int64() if name == MEMBER else pa.float64()
        if schema.field(name).type != wanted:
            raise InputError(source, f"{name} type", str(schema.field(name).type), str(wanted))
    if not parameters:
        raise InputError(source, "columns", names, "at least one parameter of parameters.toml")
    member = members[MEMBER].to_numpy()
    expected = np.arange(len(members))
    if not np.array_equal(member, expected):
        bad = int(np.flatnonzero(member != expected)[0])
        raise InputError(
            source, f"{MEMBER} (row {bad})", int(member[bad]), f"0..{len(members) - 1} in order"
        )
    weight = members[WEIGHT].to_numpy(dtype=float)
    for row, value in enumerate(weight.tolist()):
        if not math.isfinite(value) or value <= 0:
            raise InputError(source, f"{WEIGHT} (member {row})", value, "a finite number > 0")
    total = float(weight.sum())
    if abs(total - 1.0) > WEIGHT_TOLERANCE:
        raise InputError(source, f"{WEIGHT} (sum)", total, "weights that sum to 1")
    for name in parameters:
        spec = table[name]
        for row, value in enumerate(members[name].astype(float).tolist()):
            if not math.isfinite(value) or not spec.min <= value <= spec.max:
                raise InputError(
                    source,
                    f"{name} (member {row})",
                    value,
                    f"a number in [{spec.min:g}, {spec.max:g}] ({spec.unit})",
                )
    for name in FIT_COLUMNS:
        if name in names:
            for row, value in enumerate(members[name].astype(float).tolist()):
                if not math.isfinite(value) or value < 0:
                    raise InputError(source, f"{name} (member {row})", value, "a number >= 0")
    return parameters
