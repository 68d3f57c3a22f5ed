"""Each side's payoff in a doctrine tournament, from quantities the model already records.

Why here and not in the model: a payoff is an analyst's statement of what each side wants, not a
part of the world. It is computed from a finished run's series (world/reporters.py columns) and
the levers in force each month (``model.observe().levers``), so it never re-derives what the model
computed. docs/ODD.md ("Doctrine tournament") gives the definitions and the reasons for the
weights; the components go into ``payoffs.parquet`` as they are, so any other weighting can be
analysed from the same runs.

Outcome components are read at the horizon (the tournament's ``--until``, 2028-12 by default);
cost components add up over the months from the branch date to the horizon, the months in which
the doctrines act (before the branch the record drives every lever, the same for all pairings).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace

import pandas as pd

from chipwar.world.errors import InputError
from chipwar.world.validation import read_toml

MILLION = 1e6


@dataclass(frozen=True)
class Component:
    """One measured quantity that enters a payoff."""

    name: str
    unit: str
    meaning: str


COMPONENTS: tuple[Component, ...] = (
    Component("lead_months", "months", "US frontier lead at the horizon (negative: China leads)"),
    Component("log2_gap", "doublings", "log2 of US over Chinese compute at the horizon"),
    Component("govs_us", "governments", "governments on the US stack at the horizon"),
    Component("govs_cn", "governments", "governments on the Chinese stack at the horizon"),
    Component(
        "enforcement_years",
        "lever-years",
        "US export enforcement in force, summed over the months after the branch (0.25 for a "
        "year ~ the FY2024 BIS effort)",
    ),
    Component("promotion_years", "lever-years", "US stack promotion abroad (financing, packages)"),
    Component("sales_mh100e", "M H100e", "licensed chips delivered to China after the branch"),
    Component(
        "premium_mh100e",
        "M H100e at list",
        "premium over list China paid for smuggled chips after the branch",
    ),
    Component("seized_mh100e", "M H100e", "chips seized in busts after the branch (China's loss)"),
    Component(
        "investment_years", "lever-years", "China's investment in domestic chips after the branch"
    ),
    Component(
        "export_push_years", "lever-years", "China's export push (price cuts, state financing)"
    ),
)
COMPONENT_NAMES = tuple(c.name for c in COMPONENTS)
# The levers whose months are costs: component -> lever key.
LEVER_COSTS = {
    "enforcement_years": "us.enforcement",
    "promotion_years": "us.stack_promotion",
    "investment_years": "china.domestic_investment",
    "export_push_years": "china.export_push",
}
COST_LEVERS = tuple(LEVER_COSTS.values())


@dataclass(frozen=True)
class Weights:
    """Points per unit of each component, one point being one month of US lead.

    The defaults are value judgments (docs/ODD.md gives the reasons); ``--weights FILE`` replaces
    any of them. A side's payoff is the sum of weight x component over the components it cares
    about; the US gains from its lead, China from closing it.
    """

    lead: float = 1.0  # per month of lead (US +, China -)
    gap: float = 1.0  # per doubling of the compute ratio (US +, China -)
    governments: float = 0.25  # per government on one's own stack
    enforcement: float = 0.5  # US, per lever-year of export enforcement
    promotion: float = 0.5  # US, per lever-year of stack promotion
    sales: float = 0.5  # US, per million H100e sold to China under licence
    premium: float = 0.5  # China, per million H100e-at-list of smuggling premium paid
    seized: float = 0.5  # China, per million H100e seized
    investment: float = 0.5  # China, per lever-year of domestic chip investment
    export_push: float = 0.5  # China, per lever-year of export push

    def describe(self) -> list[str]:
        """The two payoffs as formulas, for the report."""
        return [
            f"US payoff = {self.lead:g} x lead_months + {self.gap:g} x log2_gap + "
            f"{self.governments:g} x govs_us - {self.enforcement:g} x enforcement_years - "
            f"{self.promotion:g} x promotion_years + {self.sales:g} x sales_mh100e",
            f"China payoff = -{self.lead:g} x lead_months - {self.gap:g} x log2_gap + "
            f"{self.governments:g} x govs_cn - {self.premium:g} x premium_mh100e - "
            f"{self.seized:g} x seized_mh100e - {self.investment:g} x investment_years - "
            f"{self.export_push:g} x export_push_years",
        ]


COST_WEIGHTS = (
    "enforcement",
    "promotion",
    "sales",
    "premium",
    "seized",
    "investment",
    "export_push",
)


def variants(w: Weights) -> list[tuple[str, Weights]]:
    """Other weightings to test the equilibria against: the answer an analyst can rely on is the
    one that survives them (the components are stored, so this needs no new runs)."""
    costs = {name: getattr(w, name) for name in COST_WEIGHTS}
    return [
        ("as defined", w),
        ("outcomes only (costs and sales 0)", replace(w, **dict.fromkeys(costs, 0.0))),
        ("costs and sales doubled", replace(w, **{k: 2 * v for k, v in costs.items()})),
        ("governments 0", replace(w, governments=0.0)),
        ("compute gap 0", replace(w, gap=0.0)),
        (
            "lead only",
            replace(w, gap=0.0, governments=0.0, **dict.fromkeys(costs, 0.0)),
        ),
    ]


def load_weights(path: str) -> Weights:
    """Weights from a TOML file of ``name = number`` (any subset; the rest keep their defaults).

    Bad input is one line naming the file, the key and what is allowed (exit 2 on the command
    line).
    """
    data = read_toml(path)
    known = {f.name for f in fields(Weights)}
    values: dict[str, float] = {}
    for key, value in data.items():
        if key not in known:
            raise InputError(path, "weight", key, "one of " + ", ".join(sorted(known)))
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InputError(path, key, value, "a number >= 0")
        if not math.isfinite(value) or value < 0:
            raise InputError(path, key, value, "a finite number >= 0")
        values[key] = float(value)
    return Weights(**values)


def measure(
    series: pd.DataFrame, levers: pd.DataFrame, branch: str, horizon: str
) -> dict[str, float]:
    """The payoff components of one finished run.

    ``series``: the run's series table up to ``horizon``; ``levers``: the levers in force each
    month, a ``date`` column and one column per key of :data:`COST_LEVERS`.
    """
    rows = series[series["date"] == horizon]
    if rows.empty:
        raise ValueError(f"the run did not reach the horizon {horizon}")
    end = rows.iloc[0]
    after = series[(series["date"] >= branch) & (series["date"] <= horizon)]
    before = series[series["date"] < branch]
    seized_before = float(before["seized_h100e_cum"].iloc[-1]) if len(before) else 0.0
    acting = levers[(levers["date"] >= branch) & (levers["date"] <= horizon)]
    out = {
        "lead_months": float(end["lead_months"]),
        "log2_gap": math.log2(float(end["compute_gap"])),
        "govs_us": float(end["countries_official_us"]),
        "govs_cn": float(end["countries_official_cn"]),
        "sales_mh100e": float(after["licensed_h100e"].sum()) / MILLION,
        "premium_mh100e": float((after["smuggled_h100e"] * after["grey_premium"]).sum()) / MILLION,
        "seized_mh100e": (float(end["seized_h100e_cum"]) - seized_before) / MILLION,
    }
    for component, key in LEVER_COSTS.items():
        out[component] = float(acting[key].sum()) / 12.0
    return {name: out[name] for name in COMPONENT_NAMES}


def payoffs(components: Mapping[str, float], w: Weights) -> tuple[float, float]:
    """(US payoff, China payoff) of one run's components."""
    c = components
    us = (
        w.lead * c["lead_months"]
        + w.gap * c["log2_gap"]
        + w.governments * c["govs_us"]
        - w.enforcement * c["enforcement_years"]
        - w.promotion * c["promotion_years"]
        + w.sales * c["sales_mh100e"]
    )
    china = (
        -w.lead * c["lead_months"]
        - w.gap * c["log2_gap"]
        + w.governments * c["govs_cn"]
        - w.premium * c["premium_mh100e"]
        - w.seized * c["seized_mh100e"]
        - w.investment * c["investment_years"]
        - w.export_push * c["export_push_years"]
    )
    return us, china
