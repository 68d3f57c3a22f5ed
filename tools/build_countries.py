"""Build ``world/data/countries.csv`` from the shared reference data (run once, by hand).

Why a script: the country table mixes four published sources with hand-curated lists (AI Diffusion
tiers, Belt and Road status, smuggling hubs, small-state figures). Keeping those lists here, each
with its source, makes every cell of the CSV traceable and the file reproducible byte for byte.

Usage (from the repository root)::

    .venv/bin/pip install shapely       # build-time only; not a chipwar dependency
    .venv/bin/python tools/build_countries.py [--shared ../shared/data] [--out PATH]

This file is not part of the installed package (``world/data`` is package *data*, and only
``*.csv``/``*.toml``/``*.md`` files there are shipped); nothing imports it. See SOURCES.md beside it
for what each column means and which judgement calls were made.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from chipwar.world.countries import COLUMNS  # the loader's column order is the contract

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SHARED = REPO_ROOT / ".." / "shared" / "data"
DEFAULT_OUT = REPO_ROOT / "world" / "data" / "countries.csv"

# --------------------------------------------------------------------------------------------
# Rows of the GeoJSON that are dropped, and code / name / figure fixes.
# --------------------------------------------------------------------------------------------

# Polygons with (almost) no permanent population and no government of their own: a buyer agent
# there would be meaningless. Rule: Natural Earth pop_est < 10,000.
DROPPED = {
    "ATA": "Antarctica (pop_est 4,490: research staff, no state)",
    "ATF": "Fr. S. Antarctic Lands (pop_est 140, no permanent population)",
    "FLK": "Falkland Is. (pop_est 3,398, UK overseas territory, sovereignty disputed)",
}
MIN_POPULATION = 10_000

# Natural Earth gives Kosovo iso_a3 "-99"; XKX is the user-assigned code used by the EU and the
# World Bank. (France and Norway carry proper codes in this copy of the file; checked by the
# script: any other "-99" stops the build.)
ISO_FIXES = {("-99", "Kosovo"): "XKX"}

# Readable names where Natural Earth's short labels abbreviate.
NAME_FIXES = {
    "BIH": "Bosnia and Herzegovina",
    "CAF": "Central African Republic",
    "COD": "DR Congo",
    "CYN": "Northern Cyprus",
    "DOM": "Dominican Republic",
    "ESH": "Western Sahara",
    "GNQ": "Equatorial Guinea",
    "SLB": "Solomon Islands",
    "SSD": "South Sudan",
    "SWZ": "Eswatini",
    "USA": "United States",
}

# Natural Earth's gdp_md_est for Taiwan (1,127,000) is a PPP-scale figure, not nominal USD like
# every other row (it is not a World Bank economy). Replaced with the nominal 2019 figure,
# about USD 611 bn (DGBAS / IMF WEO, 2019).
GDP_FIXES_USD_M = {"TWN": 611_000.0}

# --------------------------------------------------------------------------------------------
# Small states with no polygon at 1:110m. Population: World Bank WDI SP.POP.TOTL, 2019;
# GDP: WDI NY.GDP.MKTP.CD, 2019, USD millions (Macao and Hong Kong are WDI economies too).
# Entered by hand: the build machine has no network access to the WDI API, so spot-check these
# before publication. Point: the capital (for Hong Kong, Central/Victoria).
# numeric = ISO 3166-1 numeric, used only to sanity-check the point against world-atlas 1:50m.
# --------------------------------------------------------------------------------------------
SMALL_STATES: dict[str, dict[str, Any]] = {
    "BHR": dict(name="Bahrain", numeric="048", pop=1_641_172, gdp=38_574.0, lon=50.586, lat=26.229),
    "BRB": dict(name="Barbados", numeric="052", pop=287_025, gdp=5_209.0, lon=-59.617, lat=13.098),
    "COM": dict(name="Comoros", numeric="174", pop=850_886, gdp=1_180.0, lon=43.255, lat=-11.702),
    "CPV": dict(
        name="Cabo Verde", numeric="132", pop=549_935, gdp=1_982.0, lon=-23.513, lat=14.933
    ),
    "HKG": dict(
        name="Hong Kong", numeric="344", pop=7_507_400, gdp=365_711.0, lon=114.159, lat=22.282
    ),
    "MAC": dict(name="Macau", numeric="446", pop=640_445, gdp=53_859.0, lon=113.544, lat=22.199),
    "MDV": dict(name="Maldives", numeric="462", pop=530_953, gdp=5_642.0, lon=73.509, lat=4.175),
    "MLT": dict(name="Malta", numeric="470", pop=502_653, gdp=14_989.0, lon=14.515, lat=35.899),
    "MUS": dict(
        name="Mauritius", numeric="480", pop=1_265_711, gdp=14_048.0, lon=57.501, lat=-20.161
    ),
    "SGP": dict(
        name="Singapore", numeric="702", pop=5_703_569, gdp=372_062.0, lon=103.852, lat=1.290
    ),
    "STP": dict(
        name="São Tomé and Príncipe", numeric="678", pop=215_056, gdp=429.0, lon=6.727, lat=0.337
    ),
    "SYC": dict(name="Seychelles", numeric="690", pop=97_625, gdp=1_699.0, lon=55.451, lat=-4.619),
}

# --------------------------------------------------------------------------------------------
# Regions: UN M49 subregions, regrouped into the model's ten slugs.
# --------------------------------------------------------------------------------------------
REGION_MEMBERS: dict[str, tuple[str, ...]] = {
    # M49 Eastern Asia (+ Taiwan, Hong Kong, Macao; Mongolia is M49 Eastern Asia already).
    "east_asia": ("CHN", "HKG", "JPN", "KOR", "MAC", "MNG", "PRK", "TWN"),
    # M49 South-eastern Asia.
    "southeast_asia": (
        "BRN", "IDN", "KHM", "LAO", "MMR", "MYS", "PHL", "SGP", "THA", "TLS", "VNM",
    ),
    # M49 Southern Asia minus Iran (moved to mena). Afghanistan stays here.
    "south_asia": ("AFG", "BGD", "BTN", "IND", "LKA", "MDV", "NPL", "PAK"),
    # M49 Central Asia plus the South Caucasus (M49 Western Asia): post-Soviet states between
    # Russia, Turkey, Iran and China, the IMF's "Caucasus and Central Asia" grouping.
    "central_asia": ("ARM", "AZE", "GEO", "KAZ", "KGZ", "TJK", "TKM", "UZB"),
    # M49 Northern Africa (incl. Sudan, Western Sahara) + Western Asia minus the Caucasus and
    # Cyprus, plus Iran. Turkey is placed here (as facts.md §7 does), not in Europe.
    "mena": (
        "ARE", "BHR", "DZA", "EGY", "ESH", "IRN", "IRQ", "ISR", "JOR", "KWT", "LBN", "LBY",
        "MAR", "OMN", "PSE", "QAT", "SAU", "SDN", "SYR", "TUN", "TUR", "YEM",
    ),
    # M49 Sub-Saharan Africa (incl. island states; Somaliland with Somalia).
    "sub_saharan_africa": (
        "AGO", "BDI", "BEN", "BFA", "BWA", "CAF", "CIV", "CMR", "COD", "COG", "COM", "CPV",
        "DJI", "ERI", "ETH", "GAB", "GHA", "GIN", "GMB", "GNB", "GNQ", "KEN", "LBR", "LSO",
        "MDG", "MLI", "MOZ", "MRT", "MUS", "MWI", "NAM", "NER", "NGA", "RWA", "SEN", "SLE",
        "SOL", "SOM", "SSD", "STP", "SWZ", "SYC", "TCD", "TGO", "TZA", "UGA", "ZAF", "ZMB",
        "ZWE",
    ),
    # M49 Europe (Russia included) plus Cyprus and Northern Cyprus (M49 Western Asia; EU).
    "europe": (
        "ALB", "AUT", "BEL", "BGR", "BIH", "BLR", "CHE", "CYN", "CYP", "CZE", "DEU", "DNK",
        "ESP", "EST", "FIN", "FRA", "GBR", "GRC", "HRV", "HUN", "IRL", "ISL", "ITA", "LTU",
        "LUX", "LVA", "MDA", "MKD", "MLT", "MNE", "NLD", "NOR", "POL", "PRT", "ROU", "RUS",
        "SRB", "SVK", "SVN", "SWE", "UKR", "XKX",
    ),
    # M49 Northern America minus Bermuda etc.: USA, Canada, Greenland.
    "north_america": ("CAN", "GRL", "USA"),
    # M49 Latin America and the Caribbean (Mexico, Central America, Caribbean, South America).
    "latin_america": (
        "ARG", "BHS", "BLZ", "BOL", "BRA", "BRB", "CHL", "COL", "CRI", "CUB", "DOM", "ECU",
        "GTM", "GUY", "HND", "HTI", "JAM", "MEX", "NIC", "PAN", "PER", "PRI", "PRY", "SLV",
        "SUR", "TTO", "URY", "VEN",
    ),
    # M49 Oceania.
    "oceania": ("AUS", "FJI", "NCL", "NZL", "PNG", "SLB", "VUT"),
}  # fmt: skip

# --------------------------------------------------------------------------------------------
# Regime for rows missing from regimes_row_2024.csv (none of them is in facts.md §7, so all are
# judgements; see SOURCES.md). 0 closed autocracy, 1 electoral autocracy, 2 electoral democracy,
# 3 liberal democracy.
# --------------------------------------------------------------------------------------------
REGIME_JUDGEMENTS: dict[str, tuple[int, str]] = {
    "BHS": (3, "Westminster parliamentary democracy, alternating governments; like Barbados (3)"),
    "BLZ": (2, "competitive elections with rule-of-law weaknesses"),
    "BRN": (0, "absolute monarchy, no national elections"),
    "CYN": (2, "de facto state with competitive multiparty elections"),
    "ESH": (0, "mostly administered by Morocco (V-Dem 0)"),
    "GRL": (3, "self-governing part of the Kingdom of Denmark (V-Dem 3)"),
    "MAC": (0, "Chinese SAR, chief executive chosen by a small committee; as Hong Kong (V-Dem 0)"),
    "NCL": (3, "French overseas collectivity with elected congress; as France (V-Dem 3)"),
    "PRI": (3, "US territory with elected government; as the United States (V-Dem 3)"),
    "PSE": (0, "no national elections since 2006; rule by decree (West Bank) and Hamas (Gaza)"),
    "SOL": (1, "de facto state with elections but restricted opposition and press"),
    "XKX": (2, "competitive elections and peaceful turnovers"),
}

# --------------------------------------------------------------------------------------------
# AI Diffusion Framework tiers (IFR of 15 Jan 2025; rescinded 13 May 2025), facts.md §5 and §7.
# --------------------------------------------------------------------------------------------
EXPORTER = "USA"  # tier 0
# Tier 1: the 18 countries named in the rule (facts.md §5).
TIER1 = (
    "AUS", "BEL", "CAN", "DEU", "DNK", "ESP", "FIN", "FRA", "GBR", "IRL", "ITA", "JPN", "KOR",
    "NLD", "NOR", "NZL", "SWE", "TWN",
)  # fmt: skip
# Puerto Rico is inside US export-control territory (shipping there is not an export), so it is
# unrestricted in substance: tier 1, not 0, because tier 0 marks the single exporter row.
TIER1_TERRITORIES = ("PRI",)
# Tier 3: Country Group D:5 (15 CFR Part 740, Supplement No. 1) as in force in January 2025, 23
# countries ("23 embargoed nations plus Macau", facts.md §5). Cambodia was removed from D:5 only
# on 3 Feb 2026 (91 FR 5091), so it is tier 3 here. Cross-checked against a public code listing
# of the 22 D:5 countries after that removal (the list below minus Cambodia).
D5 = (
    "AFG", "BLR", "CAF", "CHN", "COD", "CUB", "ERI", "HTI", "IRN", "IRQ", "KHM", "LBN", "LBY",
    "MMR", "NIC", "PRK", "RUS", "SDN", "SOM", "SSD", "SYR", "VEN", "ZWE",
)  # fmt: skip
# Also tier 3: Macau (named in the rule), Hong Kong (treated as China by the EAR since 2020), and
# Somaliland (the US treats it as part of Somalia).
TIER3_EXTRA = ("HKG", "MAC", "SOL")

# --------------------------------------------------------------------------------------------
# Chinese AI-surveillance supplier reported (facts.md §6-§7). False means "not reported in those
# sources", never "no".
# --------------------------------------------------------------------------------------------
CN_SUPPLIER_SOURCES: dict[str, tuple[str, ...]] = {
    # [C1] AIGS 2019 via press: Huawei supplies these Arab states.
    "C1": ("BHR", "DZA", "EGY", "IRQ", "MAR", "OMN", "SAU"),
    # [C2] AIGS 2019 via Kyodo/Nikkei: Chinese firms.
    "C2": ("IRN", "MMR", "VEN", "ZWE"),
    # [C3] AIGS 2019 key findings: Chinese soft loans for surveillance.
    "C3": ("KEN", "LAO", "MNG", "UGA", "UZB"),
    # [C4] AIGS 2019 report text: Huawei prime contractor, China Exim financing.
    "C4": ("MUS",),
    # [C5] CSIS 2019 (via D. Shinn): Huawei safe-city MoUs with 16 African states.
    "C5": (
        "AGO", "BWA", "CIV", "CMR", "DZA", "EGY", "ETH", "GHA", "KEN", "MAR", "MDG", "MUS",
        "NGA", "TUN", "UGA", "ZAF",
    ),
    # [C6] other reporting: Belgrade, Lahore, Ecuador/Bolivia/Venezuela safe cities,
    # CloudWalk (Zimbabwe), Dahua (Mongolia), Nairobi, Uganda CCTV.
    "C6": ("BOL", "ECU", "KEN", "MNG", "PAK", "SRB", "UGA", "VEN", "ZWE"),
    # facts.md §7 row 2: China's own suppliers (Huawei, Hikvision, Dahua) at home.
    "domestic": ("CHN",),
}  # fmt: skip

# --------------------------------------------------------------------------------------------
# Belt and Road status. Row-level sources from facts.md first; then the compiler's knowledge of
# the Green Finance & Development Center (GFDC) list of BRI MoU countries (~148 countries,
# 2022-2025 updates), marked as such in SOURCES.md.
# --------------------------------------------------------------------------------------------
BRI_FACTS: dict[str, tuple[str, str]] = {
    "ITA": ("exited", "B1: exited Dec 2023"),
    "PAN": ("exited", "B2: exited Feb 2025"),
    "ARG": ("member", "B3: MoU Feb 2022"),
    "COL": ("member", "B4: joined May 2025"),
    "BRA": ("none", "B5: not joined"),
    "PRY": ("none", "B5: not joined"),
    "BOL": ("member", "B5 (inference: other South American states joined)"),
    "CHL": ("member", "B5 (inference)"),
    "ECU": ("member", "B5 (inference)"),
    "GUY": ("member", "B5 (inference)"),
    "PER": ("member", "B5 (inference)"),
    "SUR": ("member", "B5 (inference)"),
    "URY": ("member", "B5 (inference)"),
    "VEN": ("member", "B5 (inference)"),
    "IND": ("none", "B6: declined"),
    "PAK": ("member", "B6/B7: CPEC, Gwadar"),
    "MNG": ("member", "B6: China-Mongolia-Russia corridor"),
    "RUS": ("member", "B6 corridor; GFDC says 'unclear', PRC MFA 2015 says member (B11)"),
    "HUN": ("member", "B7"),
    "SRB": ("member", "B7"),
    "THA": ("member", "B7"),
    "IDN": ("member", "B7"),
    "LAO": ("member", "B7"),
    "LKA": ("member", "B7"),
    "ARE": ("member", "B7"),
    "EGY": ("member", "B7"),
    "BLR": ("member", "B7"),
    "GRC": ("member", "B7: Piraeus"),
    "KEN": ("member", "B8"),
    "ETH": ("member", "B8"),
    "UGA": ("member", "B8"),
    "ZAF": ("member", "B9"),
    "MAR": ("member", "B10"),
    "USA": ("none", "B1: only Italy of the G7 signed"),
    "JPN": ("none", "B1"),
    "DEU": ("none", "B1"),
    "GBR": ("none", "B1"),
    "FRA": ("none", "B1"),
    "CAN": ("none", "B1"),
}
# China (and its SARs) launched the initiative; GFDC's count of 149 includes China.
BRI_INITIATOR = ("CHN", "HKG", "MAC")
# GFDC list members, compiler's knowledge (as of 2025: Honduras joined 2023).
BRI_GFDC_MEMBERS = (
    # East and Southeast Asia, Oceania
    "BRN", "FJI", "KHM", "MMR", "MYS", "NZL", "PHL", "PNG", "SGP", "SLB", "TLS", "VNM", "VUT",
    # South and Central Asia, Caucasus
    "AFG", "ARM", "AZE", "BGD", "GEO", "KAZ", "KGZ", "MDV", "NPL", "TJK", "TKM", "UZB",
    # Middle East and North Africa
    "BHR", "DZA", "IRN", "IRQ", "KWT", "LBN", "LBY", "OMN", "QAT", "SAU", "SDN", "SYR", "TUN",
    "TUR", "YEM",
    # Europe
    "ALB", "BGR", "BIH", "CYP", "CZE", "EST", "HRV", "LTU", "LUX", "LVA", "MDA", "MKD", "MLT",
    "MNE", "POL", "PRT", "ROU", "SVK", "SVN", "UKR",
    # Sub-Saharan Africa: all 48 except Eswatini (recognises Taiwan) and Mauritius, which
    # matches "52 African countries" (CCTV, Aug 2024, facts.md §6.2) once North Africa is added.
    "AGO", "BDI", "BEN", "BFA", "BWA", "CAF", "CIV", "CMR", "COD", "COG", "COM", "CPV", "DJI",
    "ERI", "GAB", "GHA", "GIN", "GMB", "GNB", "GNQ", "LBR", "LSO", "MDG", "MLI", "MOZ", "MRT",
    "MWI", "NAM", "NER", "NGA", "RWA", "SEN", "SLE", "SOM", "SSD", "STP", "SYC", "TCD", "TGO",
    "TZA", "ZMB", "ZWE",
    # Latin America and the Caribbean (21 by Jun 2023, facts.md §6.2, plus Honduras 2023)
    "BRB", "CRI", "CUB", "DOM", "HND", "JAM", "NIC", "SLV", "TTO",
)  # fmt: skip
# Truly uncertain: GFDC itself lists Austria as "unclear"; for Jordan, Palestine and South Korea
# the compiler could not settle whether an MoU is on the list.
BRI_UNKNOWN = ("AUT", "JOR", "KOR", "PSE")
# Everything else: "none" (Western Europe, North America, Israel, Japan, Taiwan, Australia,
# India, Bhutan, Brazil, Paraguay, Mexico, the Taiwan-recognising states, Eswatini, Mauritius,
# territories and de facto states China does not recognise).

# --------------------------------------------------------------------------------------------
# Hub roles (facts.md §3.2 and §7). Order within a cell follows HUB_ROLES.
# --------------------------------------------------------------------------------------------
HUB_ROLES = ("transit", "datacenter", "billing", "compute_hub")
HUBS: dict[str, tuple[str, ...]] = {
    # 18-22% of Nvidia revenue billed to Singapore, <1% shipped there; $390M server fraud case
    # (servers declared for Malaysia); Megaspeed.
    "SGP": ("transit", "billing"),
    # Megaspeed's Malaysian subsidiary and data centres; Kuala Lumpur rented-server training;
    # GPU imports up >3,400% H1 2025; permit regime Jul 2025.
    "MYS": ("transit", "datacenter"),
    # FT: Thailand as a transit hub; US draft licence rule (Jul 2025).
    "THA": ("transit",),
    # Operation Gatekeeper and the Super Micro case route to the mainland.
    "HKG": ("transit",),
    # Super Micro Taiwan GM and contractor (SDNY, Mar 2026).
    "TWN": ("transit",),
    # Reported transshipment point in the Taiwan case (facts.md §7).
    "JPN": ("transit",),
    # Megaspeed data centres serving Chinese clients remotely.
    "IDN": ("datacenter",),
    # Licensed mega-deals: 500k chips/yr preliminary (UAE, G42), Humain (Saudi Arabia).
    "ARE": ("compute_hub",),
    "SAU": ("compute_hub",),
}


# --------------------------------------------------------------------------------------------
# Geometry
# --------------------------------------------------------------------------------------------
def representative_point(geometry: dict[str, Any]) -> tuple[float, float]:
    """Pole of inaccessibility of the largest polygon: always inside, good for labels."""
    from shapely.geometry import shape
    from shapely.ops import polylabel

    geom = shape(geometry)
    parts = list(geom.geoms) if geom.geom_type == "MultiPolygon" else [geom]
    largest = max(parts, key=lambda p: p.area)
    point = polylabel(largest, tolerance=0.01)
    if not largest.contains(point):  # polylabel is inside by construction; be sure
        point = largest.representative_point()
    return round(point.x, 3), round(point.y, 3)


def topojson_bboxes(path: Path) -> dict[str, tuple[float, float, float, float]]:
    """Bounding boxes (lon0, lat0, lon1, lat1) of every world-atlas geometry, by numeric id."""
    topo = json.loads(path.read_text(encoding="utf-8"))
    sx, sy = topo["transform"]["scale"]
    tx, ty = topo["transform"]["translate"]
    arcs: list[list[tuple[float, float]]] = []
    for arc in topo["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:
            x += dx
            y += dy
            points.append((x * sx + tx, y * sy + ty))
        arcs.append(points)

    def arc_indices(obj: Any) -> Iterable[int]:
        if isinstance(obj, int):
            yield obj
        else:
            for item in obj:
                yield from arc_indices(item)

    boxes = {}
    for geom in topo["objects"]["countries"]["geometries"]:
        if "id" not in geom or "arcs" not in geom:
            continue
        pts = [p for i in arc_indices(geom["arcs"]) for p in arcs[i if i >= 0 else ~i]]
        xs, ys = [p[0] for p in pts], [p[1] for p in pts]
        boxes[str(geom["id"])] = (min(xs), min(ys), max(xs), max(ys))
    return boxes


# --------------------------------------------------------------------------------------------
# Assembly
# --------------------------------------------------------------------------------------------
def fmt_bool(value: bool) -> str:
    return "true" if value else "false"


def region_of(iso: str, lookup: dict[str, str]) -> str:
    if iso not in lookup:
        raise SystemExit(f"build_countries: no region assigned to {iso}")
    return lookup[iso]


def bri_of(iso: str) -> str:
    if iso in BRI_FACTS:
        return BRI_FACTS[iso][0]
    if iso in BRI_INITIATOR or iso in BRI_GFDC_MEMBERS:
        return "member"
    if iso in BRI_UNKNOWN:
        return "unknown"
    return "none"


def tier_of(iso: str) -> int:
    if iso == EXPORTER:
        return 0
    if iso in TIER1 or iso in TIER1_TERRITORIES:
        return 1
    if iso in D5 or iso in TIER3_EXTRA:
        return 3
    return 2


def check_curated_lists(region_lookup: dict[str, str]) -> None:
    """Fail loudly if a hand list is inconsistent (duplicates, overlaps, wrong sizes)."""
    all_region_codes = [c for codes in REGION_MEMBERS.values() for c in codes]
    dup = {c for c in all_region_codes if all_region_codes.count(c) > 1}
    if dup:
        raise SystemExit(f"build_countries: codes in two regions: {sorted(dup)}")
    if len(set(TIER1)) != 18 or len(set(D5)) != 23:
        raise SystemExit("build_countries: tier 1 must have 18 codes and D:5 23")
    if set(TIER1) & set(D5):
        raise SystemExit("build_countries: a code is both tier 1 and D:5")
    overlap = set(BRI_GFDC_MEMBERS) & (set(BRI_FACTS) | set(BRI_UNKNOWN))
    if overlap or len(set(BRI_GFDC_MEMBERS)) != len(BRI_GFDC_MEMBERS):
        raise SystemExit(f"build_countries: BRI lists overlap or repeat: {sorted(overlap)}")
    for iso, roles in HUBS.items():
        if any(r not in HUB_ROLES for r in roles):
            raise SystemExit(f"build_countries: bad hub role for {iso}: {roles}")


def build_rows(shared: Path) -> list[dict[str, str]]:
    """Read the shared data and return the finished rows, sorted by iso_a3."""
    geo = json.loads((shared / "countries_110m.geojson").read_text(encoding="utf-8"))
    with (shared / "regimes_row_2024.csv").open(encoding="utf-8", newline="") as fh:
        regimes = {r["iso_a3"]: int(r["regime_row"]) for r in csv.DictReader(fh)}
    with (shared / "aigs_2019_countries.csv").open(encoding="utf-8", newline="") as fh:
        aigs = {r["iso_a3"] for r in csv.DictReader(fh)}
    bboxes = topojson_bboxes(shared / "world-atlas" / "countries-50m.json")

    region_lookup = {iso: slug for slug, codes in REGION_MEMBERS.items() for iso in codes}
    check_curated_lists(region_lookup)
    cn_supplier = {iso for codes in CN_SUPPLIER_SOURCES.values() for iso in codes}

    base: dict[str, dict[str, Any]] = {}
    for feature in geo["features"]:
        props = feature["properties"]
        iso = ISO_FIXES.get((props["iso_a3"], props["name"]), props["iso_a3"])
        if iso in DROPPED:
            if props["pop_est"] >= MIN_POPULATION:
                raise SystemExit(f"build_countries: {iso} is populous, do not drop it")
            continue
        if props["pop_est"] < MIN_POPULATION:
            raise SystemExit(f"build_countries: {iso} is below {MIN_POPULATION}, decide on it")
        if not (len(iso) == 3 and iso.isalpha() and iso.isupper()):
            raise SystemExit(f"build_countries: bad code {iso!r} for {props['name']}")
        lon, lat = representative_point(feature["geometry"])
        base[iso] = dict(
            name=NAME_FIXES.get(iso, props["name"]),
            population=int(props["pop_est"]),
            gdp=float(GDP_FIXES_USD_M.get(iso, props["gdp_md_est"])),
            lon=lon,
            lat=lat,
            has_polygon=True,
        )
    for iso, s in SMALL_STATES.items():
        if iso in base:
            raise SystemExit(f"build_countries: {iso} has a polygon, not a small state")
        box = bboxes.get(s["numeric"])
        margin = 0.3
        if box is None or not (
            box[0] - margin <= s["lon"] <= box[2] + margin
            and box[1] - margin <= s["lat"] <= box[3] + margin
        ):
            raise SystemExit(f"build_countries: capital of {iso} is outside its 1:50m outline")
        base[iso] = dict(
            name=s["name"],
            population=s["pop"],
            gdp=s["gdp"],
            lon=s["lon"],
            lat=s["lat"],
            has_polygon=False,
        )

    missing_aigs = aigs - set(base)
    if missing_aigs:
        raise SystemExit(f"build_countries: AIGS countries with no row: {sorted(missing_aigs)}")
    stray = (set(region_lookup) | set(regimes)) - set(base)
    if stray:
        raise SystemExit(f"build_countries: curated codes with no row: {sorted(stray)}")

    rows = []
    for iso in sorted(base):
        b = base[iso]
        if iso in regimes:
            regime = regimes[iso]
        elif iso in REGIME_JUDGEMENTS:
            regime = REGIME_JUDGEMENTS[iso][0]
        else:
            raise SystemExit(f"build_countries: no regime for {iso}")
        rows.append(
            {
                "iso_a3": iso,
                "name": b["name"],
                "region": region_of(iso, region_lookup),
                "population": str(b["population"]),
                "gdp_usd_m": f"{b['gdp']:.1f}",
                "regime": str(regime),
                "tier": str(tier_of(iso)),
                "ai_surveillance_2019": fmt_bool(iso in aigs),
                "cn_surveillance_supplier": fmt_bool(iso in cn_supplier),
                "bri": bri_of(iso),
                "hub_role": "|".join(r for r in HUB_ROLES if r in HUBS.get(iso, ())),
                "lon": f"{b['lon']:.3f}",
                "lat": f"{b['lat']:.3f}",
                "has_polygon": fmt_bool(b["has_polygon"]),
            }
        )
    return rows


def write_csv(rows: list[dict[str, str]], out: Path) -> None:
    with out.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED, help="shared data folder")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="CSV to write")
    args = parser.parse_args(argv)
    rows = build_rows(args.shared)
    write_csv(rows, args.out)
    n_bri = sum(r["bri"] == "member" for r in rows)
    n_sup = sum(r["cn_surveillance_supplier"] == "true" for r in rows)
    print(
        f"wrote {len(rows)} rows to {args.out} "
        f"({sum(r['has_polygon'] == 'false' for r in rows)} without polygon; "
        f"BRI members {n_bri}; Chinese supplier reported {n_sup})",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
