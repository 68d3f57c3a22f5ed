"""Shocks: stochastic events of the forecast phase, with base rates from data.

Why: without them the model is nearly deterministic once its parameters are fixed, yet the record
of 2024-26 is full of surprises (DeepSeek-R1, the H20 ban and its reversal, earthquakes in Taiwan,
the Super Micro case). Each shock in ``data/shocks.toml`` has a base rate, a size distribution, a
duration and the one mechanism of the model it acts through: a side's effective training compute,
US-bloc or Chinese chip output, a smuggling network and its hub's enforcement, or a lever. Nothing
is an outcome written in: a fab outage cuts output, and what that does to the gap, the lead and
the governments' choices follows from the model.

Shocks are drawn from the branch date on (before it the history timeline replays the record). A
scenario's ``[shocks]`` table switches them off or scales their rates (:class:`ShockSettings`).

Every shock has its own random stream, derived from the run's seed sequence and the shock's name
(:func:`shock_seed`), and draws the same four uniforms every month whatever happens. So a shock
switched off changes no other draw in the run (the bust, entry and review draws come from
``model.rng`` as before), a run whose shocks never fire is the run without shocks, and a larger
``rate_scale`` fires a superset of the months of a smaller one, with the same sizes.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files
from pathlib import Path
from statistics import NormalDist
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from chipwar.world.calendar import format_month
from chipwar.world.errors import InputError
from chipwar.world.levers import parse_lever_key
from chipwar.world.validation import input_error_from, read_toml

if TYPE_CHECKING:
    from chipwar.world.model import ChipWarModel

Mechanism = Literal["capability", "us_output", "cn_output", "smuggling_case", "policy_reversal"]
MECHANISMS: tuple[str, ...] = Mechanism.__args__  # type: ignore[attr-defined]

#: What a size means and the range it must lie in, by mechanism.
SIZE_RANGE: dict[str, tuple[float, float, str]] = {
    "capability": (1.0, 100.0, "an effective-compute multiplier in [1, 100]"),
    "us_output": (0.0, 0.95, "a share of output lost in [0, 0.95]"),
    "cn_output": (0.05, 20.0, "an output multiplier in [0.05, 20]"),
    "smuggling_case": (0.0, 1.0, "a rise of the hub's enforcement regime in [0, 1]"),
    "policy_reversal": (0.0, 1.0, "a share of the way back in [0, 1]"),
}
SIDES = ("us", "cn")
SIDE_NAMES = {"us": "US", "cn": "Chinese"}
MAX_RATE_PER_YEAR = 12.0  # a shock fires at most once a month
MAX_RATE_SCALE = 10.0
MAX_MONTHS = 60
#: The first spawn-key word of every shock stream (so they never meet another child sequence).
SHOCK_STREAM = 0x5C0C
DRAWS_PER_MONTH = 4  # fire, size, months, target
_NORMAL = NormalDist()


# --- the data: what can happen -------------------------------------------------------------------
class SizeDistribution(BaseModel):
    """A clipped lognormal (``median``, ``sigma`` of the log) or a uniform, inside [min, max]."""

    model_config = ConfigDict(extra="forbid")

    dist: Literal["lognormal", "uniform"]
    min: float = Field(allow_inf_nan=False)
    max: float = Field(allow_inf_nan=False)
    median: float | None = Field(default=None, gt=0.0, allow_inf_nan=False)
    sigma: float | None = Field(default=None, gt=0.0, le=5.0, allow_inf_nan=False)

    @model_validator(mode="after")
    def _consistent(self) -> SizeDistribution:
        if not self.min < self.max:
            raise ValueError(f"min {self.min} must be below max {self.max}")
        if self.dist == "lognormal":
            if self.median is None or self.sigma is None:
                raise ValueError("a lognormal needs median and sigma")
            if not self.min <= self.median <= self.max or self.min <= 0.0:
                raise ValueError("a lognormal needs 0 < min <= median <= max")
        elif self.median is not None or self.sigma is not None:
            raise ValueError("a uniform takes only min and max")
        return self

    def quantile(self, u: float) -> float:
        """The size at probability ``u`` in (0, 1) (inverse CDF, clipped to [min, max])."""
        if self.dist == "uniform":
            return self.min + u * (self.max - self.min)
        assert self.median is not None and self.sigma is not None
        u = min(max(u, 1e-12), 1.0 - 1e-12)
        value = self.median * math.exp(self.sigma * _NORMAL.inv_cdf(u))
        return min(max(value, self.min), self.max)


class MonthRange(BaseModel):
    """A whole number of months drawn uniformly in [min, max]."""

    model_config = ConfigDict(extra="forbid")

    min: int = Field(ge=1, le=MAX_MONTHS)
    max: int = Field(ge=1, le=MAX_MONTHS)

    @model_validator(mode="after")
    def _ordered(self) -> MonthRange:
        if self.max < self.min:
            raise ValueError(f"max {self.max} is below min {self.min}")
        return self

    def quantile(self, u: float) -> int:
        return self.min + min(int(u * (self.max - self.min + 1)), self.max - self.min)


class ShockSpec(BaseModel):
    """One row of ``data/shocks.toml``."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")
    label: str = Field(min_length=1, max_length=60)
    mechanism: Mechanism
    rate_per_year: float = Field(ge=0.0, le=MAX_RATE_PER_YEAR, allow_inf_nan=False)
    size: SizeDistribution
    months: MonthRange
    target: dict[str, float] = Field(default_factory=dict)
    source: str = Field(min_length=20)

    @field_validator("target")
    @classmethod
    def _positive_weights(cls, target: dict[str, float]) -> dict[str, float]:
        for key, weight in target.items():
            if not math.isfinite(weight) or weight <= 0.0:
                raise ValueError(f"weight of {key!r} must be a positive number, got {weight}")
        return target

    @model_validator(mode="after")
    def _fits_mechanism(self) -> ShockSpec:
        low, high, meaning = SIZE_RANGE[self.mechanism]
        if not (low <= self.size.min and self.size.max <= high):
            raise ValueError(f"size of a {self.mechanism} shock is {meaning}")
        if self.mechanism == "capability":
            unknown = set(self.target) - set(SIDES)
            if not self.target or unknown:
                raise ValueError("a capability shock's target weighs the sides us and cn")
        elif self.mechanism == "policy_reversal":
            if not self.target:
                raise ValueError("a policy_reversal shock's target weighs lever keys")
            for key in self.target:
                try:
                    parse_lever_key(key, hubs=False)
                except InputError as err:
                    raise ValueError(f"target {key!r}: {err.allowed}") from None
        elif self.target:
            raise ValueError(f"a {self.mechanism} shock takes no target")
        return self


class _ShockFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    shock: list[ShockSpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> _ShockFile:
        names = [s.name for s in self.shock]
        for name in names:
            if names.count(name) > 1:
                raise ValueError(f"shock name {name!r} appears twice")
        return self


def load_shock_table(path: str | Path, source: str | None = None) -> tuple[ShockSpec, ...]:
    """Read and validate a shock table; InputError (one line) naming the file and the field."""
    label = source or str(path)
    data = read_toml(path, label)
    try:
        return tuple(_ShockFile.model_validate(data, strict=False).shock)
    except ValidationError as err:
        raise input_error_from(err, label) from None


@cache
def shock_table() -> tuple[ShockSpec, ...]:
    """The shipped shocks (``world/data/shocks.toml``), validated once."""
    return load_shock_table(str(files("chipwar.world") / "data" / "shocks.toml"), "shocks.toml")


def shock_names() -> list[str]:
    return [spec.name for spec in shock_table()]


# --- the scenario's switch -----------------------------------------------------------------------
class ShockSettings(BaseModel):
    """A scenario's ``[shocks]`` table: on or off, and scales of the base rates.

    ``rate_scale`` multiplies every rate (0 switches them all off); ``per_shock`` multiplies the
    named shocks' rates on top (``per_shock = { policy_reversal = 0 }``).
    """

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    rate_scale: float = Field(default=1.0, ge=0.0, le=MAX_RATE_SCALE, allow_inf_nan=False)
    per_shock: dict[str, float] = Field(default_factory=dict)

    @field_validator("per_shock")
    @classmethod
    def _known(cls, per_shock: dict[str, float]) -> dict[str, float]:
        names = shock_names()
        for name, scale in per_shock.items():
            if name not in names:
                raise ValueError(f"{name!r} is not a shock; the shocks are {', '.join(names)}")
            if not math.isfinite(scale) or not 0.0 <= scale <= MAX_RATE_SCALE:
                raise ValueError(f"{name} must be a number in [0, {MAX_RATE_SCALE:g}], got {scale}")
        return per_shock

    @model_validator(mode="after")
    def _at_most_monthly(self) -> ShockSettings:
        for spec in shock_table():
            rate = self.rate(spec)
            if rate > MAX_RATE_PER_YEAR:
                raise ValueError(
                    f"these scales give {spec.name} {rate:g} a year ({spec.rate_per_year:g} x "
                    f"the scales); at most {MAX_RATE_PER_YEAR:g} (once a month)"
                )
        return self

    def rate(self, spec: ShockSpec) -> float:
        """Occurrences per year of ``spec`` under these settings."""
        if not self.enabled:
            return 0.0
        return spec.rate_per_year * self.rate_scale * self.per_shock.get(spec.name, 1.0)


def override_key(key: str) -> bool:
    """Whether ``key`` names a shock setting (``shocks.*``) for ``--set`` and sweep factors."""
    return key.startswith("shocks.")


def apply_override(data: dict[str, Any], key: str, value: float, source: str) -> None:
    """Write ``shocks.enabled`` (0 or 1), ``shocks.rate_scale`` or ``shocks.<name>`` (that
    shock's ``per_shock`` scale) into a scenario's dumped data; ranges are checked when the
    scenario is validated."""
    name = key.partition(".")[2]
    if name not in ("enabled", "rate_scale", *shock_names()):
        allowed = "shocks.enabled, shocks.rate_scale or shocks.<name> with a name of: "
        raise InputError(source, key, value, allowed + ", ".join(shock_names()))
    table = data.setdefault("shocks", {})
    if name == "enabled":
        if value not in (0.0, 1.0):
            raise InputError(source, key, value, "0 (off) or 1 (on)")
        table["enabled"] = bool(value)
    elif name == "rate_scale":
        table["rate_scale"] = float(value)
    else:
        table.setdefault("per_shock", {})[name] = float(value)


# --- the process: drawing and applying ------------------------------------------------------------
def shock_seed(seed_sequence: np.random.SeedSequence, name: str) -> np.random.SeedSequence:
    """The seed of a shock's own stream: a child of the run's sequence keyed by the shock's name.

    Built without ``spawn`` so the run's sequence is not changed (its other children stay as
    they were).
    """
    return np.random.SeedSequence(
        seed_sequence.entropy,
        spawn_key=(*seed_sequence.spawn_key, SHOCK_STREAM, zlib.crc32(name.encode())),
        pool_size=seed_sequence.pool_size,
    )


def monthly_probability(rate_per_year: float) -> float:
    """Chance that a shock fires in a month: rate / 12, so the expected count in a year is the
    rate itself (at most once a month: rates are capped at 12 a year)."""
    return min(rate_per_year / 12.0, 1.0)


@dataclass(frozen=True)
class Draw:
    """A shock that fires this month: its size, its duration, and a uniform to pick its target."""

    size: float
    months: int
    target_u: float


def draw_month(spec: ShockSpec, probability: float, u: np.ndarray) -> Draw | None:
    """This month's outcome of ``spec`` from its four uniforms (fire, size, months, target)."""
    if not u[0] < probability:
        return None
    return Draw(spec.size.quantile(float(u[1])), spec.months.quantile(float(u[2])), float(u[3]))


@dataclass
class Effect:
    """A shock in force: it acts from month ``start`` and is undone at the start of ``end``
    (model months since the start). For a capability shock ``end`` is when the other side
    catches up."""

    spec: ShockSpec
    start: int
    end: int
    size: float
    detail: dict[str, Any] = field(default_factory=dict)  # recorded in the events (rounded)
    exact: dict[str, float] = field(default_factory=dict)  # what undoing it needs, unrounded


class ShockProcess:
    """Draws the shocks month by month from the branch date and applies and undoes their effects.

    It also keeps, for every lever, its value before its last change (from the history timeline,
    the branch, scenario events, moves), which is where a policy reversal jumps back to.
    """

    def __init__(
        self,
        settings: ShockSettings,
        table: tuple[ShockSpec, ...],
        first_month: int,
        seed_sequence: np.random.SeedSequence,
    ) -> None:
        self.settings = settings
        self.first_month = first_month
        self.live = [(spec, monthly_probability(settings.rate(spec))) for spec in table]
        self.live = [(spec, p) for spec, p in self.live if p > 0.0]
        self.streams: dict[str, np.random.Generator] = {}
        self.reseed(seed_sequence)
        self.active: list[Effect] = []
        self.counts = {spec.name: 0 for spec, _ in self.live}
        self._lever_now: dict[str, float] = {}
        self._lever_before: dict[str, float] = {}

    def reseed(self, seed_sequence: np.random.SeedSequence) -> None:
        """New streams for every shock (the wargame outlook's copies of a live model)."""
        self.streams = {
            spec.name: np.random.Generator(np.random.PCG64(shock_seed(seed_sequence, spec.name)))
            for spec, _ in self.live
        }

    # --- each month
    def begin_month(self, model: ChipWarModel) -> None:
        """After the month's policy changes: end what expires, then draw this month's shocks."""
        self._track_levers(model.levers.flat())
        if model.months < self.first_month or not self.live:
            return
        for effect in [e for e in self.active if e.end == model.months]:
            self.active.remove(effect)
            self._end(model, effect)
        for spec, probability in self.live:
            drawn = draw_month(spec, probability, self.streams[spec.name].random(DRAWS_PER_MONTH))
            if drawn is not None:
                self._fire(model, spec, drawn)

    def _track_levers(self, levers: dict[str, float]) -> None:
        for key, value in levers.items():
            now = self._lever_now.get(key)
            if now is not None and value != now:
                self._lever_before[key] = now
            self._lever_now[key] = value

    def _fire(self, model: ChipWarModel, spec: ShockSpec, drawn: Draw) -> None:
        effect = Effect(spec, model.months, model.months + drawn.months, drawn.size)
        started = {
            "capability": self._start_capability,
            "us_output": self._start_output,
            "cn_output": self._start_output,
            "smuggling_case": self._start_smuggling_case,
            "policy_reversal": self._start_reversal,
        }[spec.mechanism](model, effect, drawn.target_u)
        if started:
            self.counts[spec.name] += 1
            self.active.append(effect)

    def _record(
        self, model: ChipWarModel, effect: Effect, phase: str, text: str, **extra: Any
    ) -> None:
        spec = effect.spec
        model.record_event(
            "shock",
            text,
            shock=spec.name,
            label=spec.label,
            mechanism=spec.mechanism,
            phase=phase,
            size=round(effect.size, 4),
            months=effect.end - effect.start,
            until=format_month(model.start_month + effect.end),
            **{**effect.detail, **extra},
        )

    # --- capability: a side's effective compute jumps; the other side follows
    def _start_capability(self, model: ChipWarModel, effect: Effect, u: float) -> bool:
        side = _weighted_choice(effect.spec.target, u)
        other = "cn" if side == "us" else "us"
        gain = math.log10(effect.size)
        model.race.algorithm_bonus[side] += gain
        effect.detail = {"side": side, "log10_gain": round(gain, 4)}
        self._record(
            model,
            effect,
            "start",
            f"{effect.spec.label} by {SIDE_NAMES[side]} labs: effective compute "
            f"x{effect.size:.2f}; {SIDE_NAMES[other]} labs follow in "
            f"{_months(effect.end - effect.start)}",
        )
        return True

    # --- output: US-bloc or Chinese domestic chip output, for some months
    def _start_output(self, model: ChipWarModel, effect: Effect, u: float) -> bool:
        self._set_output_factors(model, extra=effect)
        duration = _months(effect.end - effect.start)
        if effect.spec.mechanism == "us_output":
            text = f"US-bloc chip output cut {effect.size:.0%} for {duration}"
        else:
            text = f"Chinese domestic chip output x{effect.size:.2f} for {duration}"
        self._record(model, effect, "start", f"{effect.spec.label}: {text}")
        return True

    def _set_output_factors(self, model: ChipWarModel, extra: Effect | None = None) -> None:
        effects = [*self.active, *([extra] if extra else [])]
        us = math.prod(1.0 - e.size for e in effects if e.spec.mechanism == "us_output")
        cn = math.prod(e.size for e in effects if e.spec.mechanism == "cn_output")
        model.market.us_output_factor = us
        model.market.cn_output_factor = cn

    # --- a major smuggling case: a network exposed, its hub tightens
    def _start_smuggling_case(self, model: ChipWarModel, effect: Effect, u: float) -> bool:
        from chipwar.agents.smuggling import SmugglingNetwork

        networks = sorted(model.agents_by_type.get(SmugglingNetwork, []), key=lambda n: n.unique_id)
        # The case exposes a shipment: a network is hit in proportion to the cargo it holds (in
        # proportion to its capacity if none holds any).
        weights = {str(i): n.cargo for i, n in enumerate(networks) if n.cargo > 0}
        weights = weights or {
            str(i): n.capacity_usd for i, n in enumerate(networks) if n.capacity_usd > 0
        }
        if not weights:
            return False  # nobody to expose: the case does not happen
        network = networks[int(_weighted_choice(weights, u))]
        hub, iso = network.hub, network.hub_iso
        capacity = network.capacity_usd
        seized = network.expose()
        market = model.market
        before = float(market.hub_base_enforcement[hub])
        market.set_base_enforcement(hub, before + effect.size)
        applied = float(market.hub_base_enforcement[hub]) - before
        effect.exact = {"regime_rise": applied}
        effect.detail = {
            "country": iso,
            "seized_h100e": round(seized, 1),
            "network_usd": round(capacity),
            "regime_rise": round(applied, 4),
        }
        self._record(
            model,
            effect,
            "start",
            f"{effect.spec.label} in {model.countries.name_of(hub)}: a network exposed, "
            f"{seized:,.0f} H100e seized; the hub's enforcement regime rises "
            f"{before:.2f} -> {before + applied:.2f} for {_months(effect.end - effect.start)}",
        )
        return True

    # --- a policy reversal: a lever jumps back towards its value before its last change
    def _start_reversal(self, model: ChipWarModel, effect: Effect, u: float) -> bool:
        reversed_now = {e.detail["lever"] for e in self.active if "lever" in e.detail}
        eligible = {
            key: weight
            for key, weight in effect.spec.target.items()
            if key in self._lever_before
            and key not in reversed_now
            and self._lever_before[key] != model.levers.get(key)
        }
        if not eligible:
            return False  # no lever of the list has a change to reverse
        key = _weighted_choice(eligible, u)
        now, back = model.levers.get(key), self._lever_before[key]
        value = round(now + effect.size * (back - now), 4)  # as recorded, so a replay agrees
        model.levers.set(key, value, source=effect.spec.label)
        self._lever_now[key] = value  # a shock's change is not a "last change" to reverse
        effect.exact = {"from": now, "to": value}
        effect.detail = {
            "lever": key,
            "from": round(now, 4),
            "to": round(value, 4),
            "before_last_change": round(back, 4),
            "settings": {key: value},
        }
        self._record(
            model,
            effect,
            "start",
            f"{effect.spec.label}: {key} {now:.2f} -> {value:.2f} (back towards {back:.2f}) "
            f"for {_months(effect.end - effect.start)}",
        )
        return True

    # --- the end of an effect
    def _end(self, model: ChipWarModel, effect: Effect) -> None:
        spec, detail = effect.spec, effect.detail
        if spec.mechanism == "capability":
            other = "cn" if detail["side"] == "us" else "us"
            model.race.algorithm_bonus[other] += math.log10(effect.size)
            text = (
                f"{SIDE_NAMES[other]} labs catch up with the {SIDE_NAMES[detail['side']]} "
                f"breakthrough: effective compute x{effect.size:.2f}"
            )
            self._record(model, effect, "diffusion", text, side=other)
        elif spec.mechanism in ("us_output", "cn_output"):
            self._set_output_factors(model)
            where = "US-bloc" if spec.mechanism == "us_output" else "Chinese domestic"
            self._record(model, effect, "end", f"{spec.label} over: {where} output recovers")
        elif spec.mechanism == "smuggling_case":
            hub = model.countries.index(detail["country"])
            market = model.market
            now = float(market.hub_base_enforcement[hub])
            market.set_base_enforcement(hub, max(now - effect.exact["regime_rise"], 0.0))
            after = float(market.hub_base_enforcement[hub])
            text = (
                f"{spec.label} in {model.countries.name_of(hub)}: the hub's enforcement regime "
                f"eases {now:.2f} -> {after:.2f}"
            )
            self._record(model, effect, "end", text)
        else:
            key, value, original = detail["lever"], effect.exact["to"], effect.exact["from"]
            restored = abs(model.levers.get(key) - value) < 1e-12
            if restored:
                model.levers.set(key, original, source=spec.label)
                self._lever_now[key] = original
                text = f"{spec.label} ends: {key} {value:.2f} -> {original:.2f}"
            else:
                text = f"{spec.label} ends: {key} was changed meanwhile and stays as it is"
            self._record(model, effect, "end", text, restored=restored)

    def in_force(self) -> list[Effect]:
        """The shocks in force after the month (a capability shock until its diffusion)."""
        return list(self.active)


def _weighted_choice(weights: dict[str, float], u: float) -> str:
    """The key at probability ``u`` of the weights, in their written order."""
    keys = list(weights)
    cumulative = np.cumsum([weights[k] for k in keys])
    index = int(np.searchsorted(cumulative, u * cumulative[-1], side="right"))
    return keys[min(index, len(keys) - 1)]


def _months(n: int) -> str:
    return f"{n} month" if n == 1 else f"{n} months"
