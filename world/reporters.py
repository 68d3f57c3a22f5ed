"""What a run records, declared once: model-level series and the per-country table.

The column names are a contract with everything that reads a run folder (tables, sweeps, replays,
analyses); every model column is documented here with its unit, and both the DataCollector and
the run directory are built from these lists.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from chipwar.world.countries import REGIONS
from chipwar.world.stacks import STACK_CN, STACK_NONE, STACK_US

if TYPE_CHECKING:
    from chipwar.world.model import ChipWarModel

MODEL_COLUMNS: dict[str, str] = {
    "date": "month simulated, YYYY-MM",
    "compute_us_h100e": "AI compute held in the US (H100e)",
    "compute_cn_h100e": "AI compute available to China: held at home plus rented offshore (H100e)",
    "compute_gap": "compute_us_h100e / compute_cn_h100e",
    "compute_world_h100e": "AI compute held in every country, China included (H100e)",
    "power_us_gw": "power drawn by the AI compute held in the US, all-in (GW)",
    "power_cn_gw": "power drawn by the AI compute held in China, Hong Kong and Macao, all-in (GW)",
    "capability_us": "US frontier capability, log10 effective training FLOP",
    "capability_cn": "Chinese frontier capability, log10 effective training FLOP",
    "lead_months": "months the US frontier is ahead (negative if China leads)",
    "smuggled_h100e": "smuggled compute delivered to China this month (H100e)",
    "smuggled_h100e_cum": "smuggled compute delivered to China since the start (H100e)",
    "seized_h100e_cum": "compute seized in busts since the start (H100e)",
    "offshore_h100e": "offshore compute built for Chinese clients and rentable after KYC (H100e)",
    "distill_gain": "distillation bonus of China's leading lab (log10 effective FLOP)",
    "networks_active": "smuggling networks operating",
    "networks_server": "of which server-level pass-through networks shipping through Hong Kong",
    "largest_network_usd": "monthly capacity of the largest smuggling network, at list (USD)",
    "grey_premium": "premium over list China pays for smuggled chips this month (0.5 = +50%)",
    "cn_unmet_h100e": "H100e a month China's budget would buy at list beyond its licensed chips",
    "us_output_h100e": "US-bloc chip output this month (H100e)",
    "cn_domestic_output_h100e": "Chinese domestic chip output this month (H100e)",
    "licensed_h100e": "licensed chips delivered to China this month (H100e)",
    "licensed_h100e_cum": "licensed chips delivered to China since the start (H100e)",
    "cn_acquired_h100e": "compute China acquired this month: domestic, licensed, smuggled (H100e)",
    "frontier_run_flop_us": "compute of the leading US lab's frontier training run (FLOP)",
    "largest_run_flop": "compute of the largest frontier training run started this month (FLOP)",
    "largest_cluster_gw": "largest training site a US lab can power this month (GW)",
    "countries_cn_presence": "countries (China, HK, Macao excluded) with >= 2% adopters on CN",
    "countries_cn_majority": "countries (China, HK, Macao excluded) where more adopters use CN",
    "pop_cn_stack": "people outside China, HK and Macao under an official Chinese stack",
    "countries_official_cn": "countries (China, HK, Macao excluded) whose official stack is CN",
    "countries_official_us": "governments (US and Puerto Rico excluded) on the US stack",
}
for _region in REGIONS:
    MODEL_COLUMNS[f"cn_share_{_region}"] = f"share of adopters in {_region} on the Chinese stack"
    MODEL_COLUMNS[f"us_share_{_region}"] = f"share of adopters in {_region} on the US stack"

COUNTRY_COLUMNS: dict[str, str] = {
    "date": "month simulated, YYYY-MM",
    "iso_a3": "ISO 3166-1 alpha-3 code",
    "official_stack": "government's official stack: us, cn or hedged",
    "us_share": "share of the country's adopters on the US stack",
    "cn_share": "share of the country's adopters on the Chinese stack",
    "none_share": "share of the country's adopters on no AI stack",
    "legal_imports_h100e": "licensed chip imports this month, pass-through orders included (H100e)",
    "diverted_h100e": "chips taken from this country by smugglers this month (H100e)",
}

HEADLINE_METRICS = (
    "compute_gap",
    "lead_months",
    "smuggled_h100e_cum",
    "seized_h100e_cum",
    "offshore_h100e",
    "distill_gain",
    "countries_cn_majority",
    "pop_cn_stack",
    "countries_official_cn",
)


def _metric(name: str) -> Callable[[ChipWarModel], Any]:
    return lambda model: model.metrics[name]


def model_reporters() -> dict[str, Callable[[ChipWarModel], Any]]:
    return {name: _metric(name) for name in MODEL_COLUMNS}


def _shares(stack: int) -> Callable[[ChipWarModel], Any]:
    return lambda model: model.adoption_shares[:, stack].copy()


def country_reporters() -> dict[str, Callable[[ChipWarModel], Any]]:
    """How each column of :data:`COUNTRY_COLUMNS` is read, for every country at once (one value
    per country, in the country table's order): a month of the per-country table is one call
    per column. Vectorised because a per-agent collector spent a fifth of a run's time here."""
    return {
        "date": lambda model: [model.date] * len(model.buyers),
        "iso_a3": lambda model: [buyer.iso_a3 for buyer in model.buyers],
        "official_stack": lambda model: [buyer.official_stack for buyer in model.buyers],
        "us_share": _shares(STACK_US),
        "cn_share": _shares(STACK_CN),
        "none_share": _shares(STACK_NONE),
        # licensed imports, pass-through orders included, and diversions by smugglers
        "legal_imports_h100e": lambda model: model.ledger.legal_imports.astype(float),
        "diverted_h100e": lambda model: model.ledger.diverted.astype(float),
    }
