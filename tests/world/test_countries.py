"""The shipped country table, and the loader's refusal of bad rows.

These tests read only the repository (the package data file), never ../shared, so they run in CI.
"""

from __future__ import annotations

import csv
import functools
import io
from collections.abc import Callable
from importlib.resources import files
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from chipwar.world.countries import (
    COLUMNS,
    REGION_LABELS,
    REGIONS,
    Country,
    CountryTable,
    load_countries,
    parse_country_row,
)
from chipwar.world.errors import InputError

SMALL_STATES = ("SGP", "HKG", "BHR", "MUS", "MLT", "MAC", "MDV")
TIER1_NAMED = {
    "AUS", "BEL", "CAN", "DEU", "DNK", "ESP", "FIN", "FRA", "GBR", "IRL", "ITA", "JPN", "KOR",
    "NLD", "NOR", "NZL", "SWE", "TWN",
}  # fmt: skip


@pytest.fixture(scope="module")
def table() -> CountryTable:
    return load_countries()


@functools.cache
def shipped_text() -> str:
    return (files("chipwar.world") / "data" / "countries.csv").read_text(encoding="utf-8")


def shipped_rows() -> list[dict[str, str]]:
    """Fresh, mutable copies of the shipped rows."""
    return list(csv.DictReader(io.StringIO(shipped_text(), newline="")))


def write_csv(path: Path, rows: list[dict[str, str]], columns: tuple[str, ...] = COLUMNS) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns, lineterminator="\n", extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


def row_of(table: CountryTable, iso: str) -> Country:
    return table.countries[table.index(iso)]


# ------------------------------------------------------------------------------------------
# The shipped file
# ------------------------------------------------------------------------------------------
def test_shipped_file_loads_sorted_and_unique(table: CountryTable) -> None:
    assert len(table) >= 180
    codes = [c.iso_a3 for c in table]
    assert codes == sorted(codes)
    assert len(set(codes)) == len(codes)
    assert list(table.iso) == codes
    assert len(table.population) == len(table.lat) == len(table.region_index) == len(table)


def test_shipped_file_has_exact_column_order() -> None:
    assert tuple(shipped_text().splitlines()[0].split(",")) == COLUMNS


def test_every_polygon_country_kept_except_near_empty_territories(table: CountryTable) -> None:
    # 177 GeoJSON features minus Antarctica, Fr. S. Antarctic Lands and the Falklands.
    assert int(table.has_polygon.sum()) == 174
    for gone in ("ATA", "ATF", "FLK"):
        assert gone not in table
    for iso in ("USA", "CHN", "RUS", "BRA", "IND", "TWN", "XKX", "PSE", "GRL", "LUX", "QAT"):
        assert row_of(table, iso).has_polygon
    assert "-99" not in table


def test_small_states_added_without_polygon(table: CountryTable) -> None:
    for iso in SMALL_STATES:
        country = row_of(table, iso)
        assert not country.has_polygon, iso
        assert country.population > 50_000
        assert country.gdp_usd_m > 1_000
    # Brunei is large enough for a polygon at 1:110m.
    assert row_of(table, "BRN").has_polygon


def test_tiers(table: CountryTable) -> None:
    assert row_of(table, "USA").tier == 0
    assert int((table.tier == 0).sum()) == 1
    tier1 = {c.iso_a3 for c in table if c.tier == 1}
    assert tier1 >= TIER1_NAMED
    assert tier1 - TIER1_NAMED == {"PRI"}  # inside US export-control territory
    for iso in ("CHN", "HKG", "MAC", "RUS", "IRN", "PRK", "BLR", "VEN", "MMR", "KHM", "ZWE"):
        assert row_of(table, iso).tier == 3, iso
    for iso in ("SGP", "MYS", "IND", "ARE", "SAU", "ISR", "MEX", "PRT", "TUR", "POL"):
        assert row_of(table, iso).tier == 2, iso
    # D:5 (23) + Macau + Hong Kong + Somaliland (with Somalia).
    assert int((table.tier == 3).sum()) == 26


def test_hub_roles(table: CountryTable) -> None:
    assert {"transit", "billing"} <= set(row_of(table, "SGP").hub_roles)
    assert set(row_of(table, "MYS").hub_roles) == {"transit", "datacenter"}
    assert "transit" in row_of(table, "THA").hub_roles
    assert "transit" in row_of(table, "HKG").hub_roles
    assert "datacenter" in row_of(table, "IDN").hub_roles
    assert row_of(table, "ARE").hub_roles == ("compute_hub",)
    assert row_of(table, "SAU").hub_roles == ("compute_hub",)
    assert row_of(table, "USA").hub_role == ""


def test_regions(table: CountryTable) -> None:
    assert len(REGIONS) == 10
    assert tuple(REGION_LABELS) == REGIONS
    assert REGION_LABELS["mena"] == "Middle East & North Africa"
    used = {REGIONS[i] for i in table.region_index}
    assert used == set(REGIONS)
    for country, slug in zip(table.countries, table.region_index, strict=True):
        assert REGIONS[slug] == country.region
    expected = {
        "USA": "north_america",
        "CAN": "north_america",
        "MEX": "latin_america",
        "PAN": "latin_america",
        "CUB": "latin_america",
        "AFG": "south_asia",
        "IRN": "mena",
        "TUR": "mena",
        "MNG": "east_asia",
        "RUS": "europe",
        "ARM": "central_asia",
        "GEO": "central_asia",
        "KAZ": "central_asia",
        "SGP": "southeast_asia",
        "EGY": "mena",
        "NGA": "sub_saharan_africa",
        "AUS": "oceania",
    }
    for iso, slug in expected.items():
        assert row_of(table, iso).region == slug, iso


def test_population_and_gdp_totals(table: CountryTable) -> None:
    total = int(table.population.sum())
    assert abs(total - 7.6e9) <= 0.05 * 7.6e9
    assert row_of(table, "CHN").population > 1.3e9
    assert table.gdp_usd_m.sum() == pytest.approx(87e6, rel=0.1)  # world GDP 2019, ~USD 87 tn


def test_aigs_2019_all_75_listed_countries_present(table: CountryTable) -> None:
    # All 75 AIGS countries (incl. Hong Kong, Singapore, Bahrain, Malta, Mauritius) have a row.
    assert int(table.ai_surveillance_2019.sum()) == 75
    for iso in ("CHN", "USA", "SGP", "HKG", "MLT", "MUS", "BHR", "ZWE"):
        assert row_of(table, iso).ai_surveillance_2019, iso
    assert not row_of(table, "VNM").ai_surveillance_2019


def test_chinese_supplier_and_bri(table: CountryTable) -> None:
    for iso in ("MUS", "KEN", "UGA", "ZWE", "VEN", "SAU", "EGY", "SRB", "PAK", "CHN"):
        assert row_of(table, iso).cn_surveillance_supplier, iso
    # False means "not reported", e.g. Singapore.
    assert not row_of(table, "SGP").cn_surveillance_supplier
    assert row_of(table, "ITA").bri == "exited"
    assert row_of(table, "PAN").bri == "exited"
    assert row_of(table, "IND").bri == "none"
    assert row_of(table, "USA").bri == "none"
    for iso in ("PAK", "ARG", "COL", "KEN", "IDN", "HUN"):
        assert row_of(table, iso).bri == "member", iso
    assert int(table.bri_member.sum()) >= 120
    assert sum(c.bri == "unknown" for c in table) <= 10


def test_values_in_range(table: CountryTable) -> None:
    assert table.regime.min() >= 0 and table.regime.max() <= 3
    assert set(np.unique(table.regime)) == {0, 1, 2, 3}
    assert np.all(np.abs(table.lon) <= 180) and np.all(np.abs(table.lat) <= 90)
    assert np.all(table.population > 0) and np.all(table.gdp_usd_m > 0)
    usa = row_of(table, "USA")
    assert -125 < usa.lon < -67 and 25 < usa.lat < 49
    sgp = row_of(table, "SGP")
    assert sgp.lon == pytest.approx(103.85, abs=0.1) and sgp.lat == pytest.approx(1.29, abs=0.1)


def test_table_is_read_only_and_indexable(table: CountryTable) -> None:
    with pytest.raises(ValueError):
        table.population[0] = 1
    with pytest.raises(KeyError, match="XXX"):
        table.index("XXX")
    assert "SGP" in table and "XXX" not in table
    assert table.name_of(table.index("SGP")) == "Singapore"
    assert load_countries() is table  # the default table is built once
    with pytest.raises(ValueError):
        CountryTable.from_countries([row_of(table, "SGP"), row_of(table, "SGP")])


def test_loading_an_explicit_path_matches_default(tmp_path: Path, table: CountryTable) -> None:
    path = write_csv(tmp_path / "countries.csv", list(reversed(shipped_rows())))
    other = load_countries(path)
    assert list(other.iso) == list(table.iso)
    assert np.array_equal(other.population, table.population)
    assert load_countries(str(path)).countries == table.countries


def test_country_model_is_strict_for_python_values() -> None:
    good = shipped_rows()[0]
    assert parse_country_row(good, "t").iso_a3 == good["iso_a3"]
    typed = parse_country_row(good, "t").model_dump()
    assert Country.model_validate(typed) == parse_country_row(good, "t")
    with pytest.raises(ValidationError):
        Country.model_validate({**typed, "population": 5.0})
    with pytest.raises(ValidationError):
        Country.model_validate({**typed, "has_polygon": 1})


# ------------------------------------------------------------------------------------------
# Bad input: one-line InputError naming row and column
# ------------------------------------------------------------------------------------------
Mutation = Callable[[list[dict[str, str]]], None]


def _set(index: int, column: str, value: str) -> Mutation:
    def mutate(rows: list[dict[str, str]]) -> None:
        rows[index][column] = value

    return mutate


def _duplicate(rows: list[dict[str, str]]) -> None:
    rows.insert(5, dict(rows[2]))


BAD_ROWS = [
    ("bad region", _set(3, "region", "atlantis"), 5, "region", "atlantis"),
    ("regime 7", _set(0, "regime", "7"), 2, "regime", "7"),
    ("negative population", _set(10, "population", "-5"), 12, "population", "-5"),
    ("fractional population", _set(10, "population", "12.5"), 12, "population", "12.5"),
    ("zero gdp", _set(4, "gdp_usd_m", "0"), 6, "gdp_usd_m", "0"),
    ("nan gdp", _set(4, "gdp_usd_m", "nan"), 6, "gdp_usd_m", "nan"),
    ("yes for true", _set(15, "has_polygon", "yes"), 17, "has_polygon", "yes"),
    (
        "True capitalised",
        _set(1, "ai_surveillance_2019", "True"),
        3,
        "ai_surveillance_2019",
        "True",
    ),
    ("lowercase iso", _set(2, "iso_a3", "afg"), 4, "iso_a3", "afg"),
    ("tier 4", _set(2, "tier", "4"), 4, "tier", "4"),
    ("bri maybe", _set(2, "bri", "maybe"), 4, "bri", "maybe"),
    ("unknown hub role", _set(2, "hub_role", "transit|port"), 4, "hub_role", "transit|port"),
    ("repeated hub role", _set(2, "hub_role", "transit|transit"), 4, "hub_role", "transit|transit"),
    ("lat out of range", _set(2, "lat", "91"), 4, "lat", "91"),
    ("lon out of range", _set(2, "lon", "-180.5"), 4, "lon", "-180.5"),
    ("empty name", _set(2, "name", ""), 4, "name", ""),
    ("duplicate iso", _duplicate, 7, "iso_a3", None),
]


@pytest.mark.parametrize(
    ("mutate", "line", "field", "value"),
    [case[1:] for case in BAD_ROWS],
    ids=[case[0] for case in BAD_ROWS],
)
def test_bad_row_is_refused_naming_row_and_field(
    tmp_path: Path, mutate: Mutation, line: int, field: str, value: str | None
) -> None:
    rows = shipped_rows()
    mutate(rows)
    path = write_csv(tmp_path / "countries.csv", rows)
    with pytest.raises(InputError) as info:
        load_countries(path)
    err = info.value
    assert err.source == f"countries.csv row {line}"
    assert err.field == field
    if value is not None:
        assert err.value == value
    assert "\n" not in str(err)
    assert str(err).startswith(f"countries.csv row {line}: {field} = ")


def test_duplicate_iso_names_first_occurrence(tmp_path: Path) -> None:
    rows = shipped_rows()
    _duplicate(rows)
    with pytest.raises(InputError, match=r"already on row 4"):
        load_countries(write_csv(tmp_path / "c.csv", rows))


def test_missing_column_is_refused(tmp_path: Path) -> None:
    columns = tuple(c for c in COLUMNS if c != "bri")
    path = write_csv(tmp_path / "countries.csv", shipped_rows(), columns)
    with pytest.raises(InputError) as info:
        load_countries(path)
    assert info.value.source == "countries.csv header"
    assert info.value.field == "bri"


def test_extra_column_is_refused(tmp_path: Path) -> None:
    rows = [{**r, "notes": "x"} for r in shipped_rows()]
    path = write_csv(tmp_path / "countries.csv", rows, (*COLUMNS, "notes"))
    with pytest.raises(InputError) as info:
        load_countries(path)
    assert info.value.field == "notes"


def test_reordered_columns_are_refused(tmp_path: Path) -> None:
    columns = (COLUMNS[1], COLUMNS[0], *COLUMNS[2:])
    path = write_csv(tmp_path / "countries.csv", shipped_rows(), columns)
    with pytest.raises(InputError, match="order"):
        load_countries(path)


@pytest.mark.parametrize(
    ("content", "field"),
    [
        (b"", "header"),
        (",".join(COLUMNS).encode() + b"\n", "rows"),
        (b"\xff\xfe\x00garbage", "path"),
        (",".join(COLUMNS).encode() + b"\nSGP,Singapore\n", "region"),
        (",".join(COLUMNS).encode() + b"\n" + b"a," * 20 + b"\n", "row"),
    ],
    ids=["empty", "header only", "not utf-8", "short row", "long row"],
)
def test_malformed_files_give_input_error(tmp_path: Path, content: bytes, field: str) -> None:
    path = tmp_path / "countries.csv"
    path.write_bytes(content)
    with pytest.raises(InputError) as info:
        load_countries(path)
    assert info.value.field == field


def test_missing_file_gives_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError) as info:
        load_countries(tmp_path / "nope.csv")
    assert info.value.field == "path"


# ------------------------------------------------------------------------------------------
# Properties
# ------------------------------------------------------------------------------------------
@settings(max_examples=200, deadline=None)
@given(st.text(max_size=30).filter(lambda s: s not in REGIONS))
def test_any_invalid_region_is_refused(region: str) -> None:
    row = {**shipped_rows()[0], "region": region}
    with pytest.raises(InputError) as info:
        parse_country_row(row, "countries.csv row 2")
    assert info.value.field == "region"
    assert info.value.value == region


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=12).filter(lambda s: s not in ("true", "false")))
def test_only_true_and_false_are_booleans(text: str) -> None:
    row = {**shipped_rows()[0], "cn_surveillance_supplier": text}
    with pytest.raises(InputError) as info:
        parse_country_row(row, "countries.csv row 2")
    assert info.value.field == "cn_surveillance_supplier"


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=-(10**12), max_value=10**12))
def test_population_accepted_iff_positive(population: int) -> None:
    row = {**shipped_rows()[0], "population": str(population)}
    if population > 0:
        assert parse_country_row(row, "r").population == population
    else:
        with pytest.raises(InputError):
            parse_country_row(row, "r")
