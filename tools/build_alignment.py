"""Build ``world/data/alignment.csv``: each government's security and diplomatic ties to the US.

Why a script: the alignment columns are hand-curated lists (treaties, designations, bases, Taiwan
recognition, UN voting bands). Keeping each list here with its source makes every cell traceable
and the file reproducible byte for byte. Run it once, by hand, after editing a list::

    .venv/bin/python tools/build_alignment.py [--out PATH]

It reads the country codes from ``world/data/countries.csv`` so that every buyer has exactly one
row. Nothing imports this file. SOURCES.md (section "alignment.csv") explains each column, the
judgement calls and the rows marked uncertain.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import sys
from pathlib import Path

from chipwar.world.alignment import COLUMNS  # the loader's column order is the contract

REPO_ROOT = Path(__file__).resolve().parents[1]
COUNTRIES = REPO_ROOT / "world" / "data" / "countries.csv"
DEFAULT_OUT = REPO_ROOT / "world" / "data" / "alignment.csv"

# --------------------------------------------------------------------------------------------
# US treaty allies: parties to a mutual-defence treaty with the United States in force in 2025.
# --------------------------------------------------------------------------------------------

# North Atlantic Treaty (1949): the 32 members after Finland (4 Apr 2023) and Sweden (7 Mar 2024)
# joined (NATO, "NATO member countries", 2024).
NATO = [
    "ALB",
    "BEL",
    "BGR",
    "CAN",
    "HRV",
    "CZE",
    "DNK",
    "EST",
    "FIN",
    "FRA",
    "DEU",
    "GRC",
    "HUN",
    "ISL",
    "ITA",
    "LVA",
    "LTU",
    "LUX",
    "MNE",
    "NLD",
    "MKD",
    "NOR",
    "POL",
    "PRT",
    "ROU",
    "SVK",
    "SVN",
    "ESP",
    "SWE",
    "TUR",
    "GBR",
    "USA",
]
# Bilateral and regional treaties in the Pacific (US State Department, "U.S. Collective Defense
# Arrangements"): Japan (Treaty of Mutual Cooperation and Security, 1960), South Korea (Mutual
# Defense Treaty, 1953), the Philippines (Mutual Defense Treaty, 1951), Australia (ANZUS, 1951),
# Thailand (Southeast Asia Collective Defense Treaty / Manila Pact, 1954, with the Thanat-Rusk
# communique of 1962; SEATO the organisation was dissolved in 1977, the treaty was not).
# New Zealand is NOT coded as a treaty ally: the US suspended its ANZUS obligations to New
# Zealand in 1986 after the nuclear-ship dispute, and the suspension stands; New Zealand is a
# major non-NATO ally (below), which carries it.
PACIFIC = ("JPN", "KOR", "PHL", "AUS", "THA")
# Inter-American Treaty of Reciprocal Assistance (Rio Treaty, 1947): parties in 2025 (OAS
# Department of International Law, treaty B-29 signatories and ratifications). Withdrawn: Mexico
# (effective 2004), Bolivia, Ecuador and Nicaragua (denunciations of 2012, effective 2014),
# Venezuela (effective 2013; the 2019 re-accession voted by the opposition-led National Assembly
# is not treated as binding the government in control).
RIO = [
    "ARG",
    "BHS",
    "BRA",
    "CHL",
    "COL",
    "CRI",
    "DOM",
    "SLV",
    "GTM",
    "HTI",
    "HND",
    "PAN",
    "PRY",
    "PER",
    "TTO",
    "URY",
    "USA",
]
# Dependent territories take the sovereign's alliance: Greenland (Kingdom of Denmark, inside the
# North Atlantic Treaty area of Article 6) and Puerto Rico (United States). New Caledonia is
# French but lies outside the Article 6 area, so it is not coded.
TERRITORIES = ("GRL", "PRI")
TREATY = set(NATO) | set(PACIFIC) | set(RIO) | set(TERRITORIES)

# --------------------------------------------------------------------------------------------
# Major non-NATO allies (22 U.S.C. 2321k; 22 CFR 120.32 lists the designations).
# --------------------------------------------------------------------------------------------
# Initial designations in the statute (1996): Australia, Egypt, Israel, Japan, South Korea, New
# Zealand. Presidential determinations: Jordan (1996), Argentina (1998), Bahrain (2002),
# Philippines (2003), Thailand (2003), Kuwait (2004), Morocco (2004), Pakistan (2004), Tunisia
# (2015), Brazil (2019), Colombia (2022), Qatar (2022), Kenya (2024). Taiwan is treated as though
# designated (Pub. L. 107-228, section 1206, 2002). Afghanistan, designated in 2012, had the
# designation rescinded in July 2022 and is not coded. Saudi Arabia: the designation was
# announced by the President on 18 November 2025; the formal notice to Congress was not checked
# here, so the row is marked uncertain.
MNNA = [
    "AUS",
    "EGY",
    "ISR",
    "JPN",
    "KOR",
    "NZL",
    "JOR",
    "ARG",
    "BHR",
    "PHL",
    "THA",
    "KWT",
    "MAR",
    "PAK",
    "TUN",
    "BRA",
    "COL",
    "QAT",
    "KEN",
    "TWN",
    "SAU",
]

# --------------------------------------------------------------------------------------------
# Hosts a significant permanent US military presence.
# --------------------------------------------------------------------------------------------
# Rule: a standing US installation hosted with the host government's consent (listed in the DoD
# Base Structure Report FY2018, the last one published, or a named main operating base since),
# or about 1,000 or more US personnel stationed there on a standing basis (Defense Manpower Data
# Center, quarterly "Military and Civilian Personnel by Service/Agency by State/Country", 2024).
# Rotational-only presences (Philippine EDCA sites, Norway, Bulgaria, the Baltic states) are not
# coded; nor are Guantanamo Bay (held against the Cuban government's will), Syria (no host
# consent) and Niger (Air Base 201 handed back in 2024).
BASES = (
    # Europe: Germany (Ramstein, Grafenwoehr), Italy (Aviano, Vicenza, Naples, Sigonella), UK
    # (Lakenheath, Mildenhall), Spain (Rota, Moron), Turkey (Incirlik), Belgium (SHAPE,
    # Chievres), Poland (Camp Kosciuszko, Redzikowo), Romania (Deveselu, Mihail Kogalniceanu),
    # Greece (Souda Bay), Portugal (Lajes Field), Kosovo (Camp Bondsteel), Greenland (Pituffik).
    *["DEU", "ITA", "GBR", "ESP", "TUR", "BEL", "POL", "ROU", "GRC", "PRT", "XKX", "GRL"],
    # Middle East and Africa: Bahrain (NSA Bahrain, Fifth Fleet), Qatar (Al Udeid), UAE (Al
    # Dhafra), Kuwait (Camp Arifjan, Ali Al Salem), Saudi Arabia (Prince Sultan Air Base, since
    # 2019), Jordan (Muwaffaq Salti), Iraq (Al Asad, Erbil), Djibouti (Camp Lemonnier).
    *["BHR", "QAT", "ARE", "KWT", "SAU", "JOR", "IRQ", "DJI"],
    # Asia-Pacific and the Americas: Japan (Yokosuka, Kadena, Misawa...), South Korea
    # (Humphreys, Osan), Australia (Pine Gap joint facility, Marine Rotational Force-Darwin),
    # Honduras (Soto Cano, Joint Task Force-Bravo), Puerto Rico (US territory).
    *["JPN", "KOR", "AUS", "HND", "PRI"],
)

# --------------------------------------------------------------------------------------------
# Recognises Taiwan (the Republic of China) rather than the PRC.
# --------------------------------------------------------------------------------------------
# The 12 states in 2025 (Taiwan MOFA, "Diplomatic Allies"): Belize, Guatemala, Haiti, Marshall
# Islands, Palau, Paraguay, Saint Kitts and Nevis, Saint Lucia, Saint Vincent and the Grenadines,
# Eswatini, Tuvalu, Holy See. Only five have a row here; the rest are microstates without one.
# Recent switches to the PRC: Nicaragua (Dec 2021), Honduras (Mar 2023), Nauru (Jan 2024).
# Taiwan itself is coded true (its government is the ROC).
TAIWAN_ALLIES = ("BLZ", "GTM", "HTI", "PRY", "SWZ", "TWN")
TAIWAN_ALLIES_WITHOUT_ROW = ("MHL", "PLW", "KNA", "LCA", "VCT", "TUV", "VAT")

# --------------------------------------------------------------------------------------------
# UN General Assembly voting with the United States: a coarse band score in [0, 1].
# --------------------------------------------------------------------------------------------
# Source: US Department of State, "Voting Practices in the United Nations" (annual report to
# Congress under Pub. L. 101-246): the percentage of contested General Assembly votes on which a
# member voted as the United States did. Bands of that coincidence:
#   1.0 = 60% or more, 0.75 = 45-60%, 0.5 = 30-45%, 0.25 = 20-30%, 0.0 = under 20%.
# Rows anchored in published figures (not marked uncertain):
#   - the ten highest in the 2017 report (released 26 Apr 2018: Israel, Micronesia, Canada,
#     Marshall Islands, Australia, UK, France, Palau, Ukraine, Czech Republic) and the 2018
#     report (Israel, Micronesia, Canada, Australia, Marshall Islands, UK, Hungary, France,
#     Poland, Czech Republic): band 1.0;
#   - the ten lowest in the 2017 report (Zimbabwe, Burundi, Iran, Syria, Venezuela, North Korea,
#     Turkmenistan, Cuba, Bolivia, South Africa) and the 2018 report (Burundi, Syria, North
#     Korea, Turkmenistan, Venezuela, Nicaragua, Niger, Cuba, Cambodia, Iran): band 0.0;
#   - the 2019 report's figures for WEOG members as tabulated by the Jewish Virtual Library
#     ("United Nations: Voting Coincidence with the United States"): Australia 66%, Austria 49%,
#     Belgium 55%, Canada 66%, Denmark 56%, Finland 51%.
TOP_TEN = ("ISR", "CAN", "AUS", "GBR", "FRA", "UKR", "CZE", "HUN", "POL")
BOTTOM_TEN = (
    "ZWE",
    "BDI",
    "IRN",
    "SYR",
    "VEN",
    "PRK",
    "TKM",
    "CUB",
    "BOL",
    "ZAF",
    "NIC",
    "NER",
    "KHM",
)
WEOG_2019 = {"AUS": 66, "AUT": 49, "BEL": 55, "CAN": 66, "DNK": 56, "FIN": 51}
# Every other UN member gets the band its voting group usually falls in, from the same reports'
# group tables and the compiler's reading of them; these rows are marked uncertain.
GROUP_BANDS: dict[float, str] = {
    # EU and EEA members, EU candidates and associates in Europe; Japan, South Korea, NZ.
    0.75: "DEU ITA ESP PRT NLD LUX IRL SWE NOR ISL CHE EST LVA LTU SVK SVN HRV ROU BGR GRC CYP "
    "MLT ALB MNE MKD BIH MDA GEO JPN KOR NZL",
    # Latin America and the Caribbean outside ALBA, the Pacific islands, Serbia, Turkey.
    0.5: "ARG BRA CHL COL CRI DOM ECU SLV GTM HTI HND MEX PAN PRY PER URY BHS BRB JAM TTO GUY "
    "SUR BLZ FJI PNG SLB VUT TLS SRB TUR",
    # Russia, China and Belarus vote against the US on nearly every contested country and
    # human-rights text; Eritrea likewise.
    0.0: "RUS CHN BLR ERI",
}
# The African Group, the Arab Group and Asia outside the lists above: band 0.25 (uncertain).
DEFAULT_GROUP_BAND = 0.25
# Not UN members (no General Assembly vote): left blank; the model uses the documented default
# (parameter alignment_un_default).
NOT_UN_MEMBERS = ("CYN", "ESH", "GRL", "HKG", "MAC", "NCL", "PRI", "PSE", "SOL", "TWN", "XKX")

# Other cells whose coding is a judgement (listed as "column" in the uncertain field).
UNCERTAIN_FLAGS = {
    "SAU": ("mnna", "us_bases"),
    "JOR": ("us_bases",),
    "IRQ": ("us_bases",),
    "PRT": ("us_bases",),
    "XKX": ("us_bases",),
    "HND": ("us_bases",),
    "ROU": ("us_bases",),
    "GRC": ("us_bases",),
    "AUS": ("us_bases",),
}


def band_of(iso: str) -> tuple[str, bool]:
    """The UN-voting band as CSV text and whether it is a group judgement (uncertain)."""
    if iso in NOT_UN_MEMBERS:
        return "", False
    if iso in TOP_TEN:
        return "1.0", False
    if iso in BOTTOM_TEN:
        return "0.0", False
    if iso in WEOG_2019:
        pct = WEOG_2019[iso]
        band = 1.0 if pct >= 60 else 0.75 if pct >= 45 else 0.5 if pct >= 30 else 0.25
        return f"{band}", False
    for band, codes in GROUP_BANDS.items():
        if iso in codes.split():
            return f"{band}", True
    return f"{DEFAULT_GROUP_BAND}", True


def fmt_bool(value: bool) -> str:
    return "true" if value else "false"


def build_rows(codes: list[str]) -> list[dict[str, str]]:
    curated = TREATY | set(MNNA) | set(BASES) | set(TAIWAN_ALLIES) | set(UNCERTAIN_FLAGS)
    curated |= set(TOP_TEN) | set(BOTTOM_TEN) | set(WEOG_2019) | set(NOT_UN_MEMBERS)
    for codes_text in GROUP_BANDS.values():
        curated |= set(codes_text.split())
    stray = curated - set(codes)
    if stray:
        raise SystemExit(f"build_alignment: curated codes with no country row: {sorted(stray)}")
    rows = []
    for iso in sorted(codes):
        band, group_judgement = band_of(iso)
        flags = list(UNCERTAIN_FLAGS.get(iso, ()))
        if group_judgement:
            flags.append("un_us_vote")
        rows.append(
            {
                "iso_a3": iso,
                "us_treaty": fmt_bool(iso in TREATY),
                "mnna": fmt_bool(iso in MNNA),
                "us_bases": fmt_bool(iso in BASES),
                "recognises_taiwan": fmt_bool(iso in TAIWAN_ALLIES),
                "un_us_vote": band,
                "uncertain": "|".join(flags),
            }
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="CSV to write")
    args = parser.parse_args(argv)
    with COUNTRIES.open(encoding="utf-8") as fh:
        codes = [row["iso_a3"] for row in csv.DictReader(fh)]
    rows = build_rows(codes)
    with args.out.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    bands = [float(r["un_us_vote"]) for r in rows if r["un_us_vote"]]
    print(
        f"wrote {len(rows)} rows to {args.out}: "
        f"treaty {sum(r['us_treaty'] == 'true' for r in rows)}"
        f", MNNA {sum(r['mnna'] == 'true' for r in rows)}"
        f", bases {sum(r['us_bases'] == 'true' for r in rows)}"
        f", Taiwan {sum(r['recognises_taiwan'] == 'true' for r in rows)}"
        f", UN band coded {len(bands)} (median {statistics.median(bands)})",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
