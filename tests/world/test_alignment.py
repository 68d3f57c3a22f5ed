"""The shipped alignment table (ties to the US) and the loader's refusal of bad rows."""

from __future__ import annotations

import csv
import io
from importlib.resources import files
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chipwar.world.alignment import (
    BEIJING,
    COLUMNS,
    WASHINGTON,
    Alignment,
    load_alignment,
)
from chipwar.world.countries import CountryTable, load_countries
from chipwar.world.errors import InputError

NATO_2024 = {
    "ALB", "BEL", "BGR", "CAN", "HRV", "CZE", "DNK", "EST", "FIN", "FRA", "DEU", "GRC", "HUN",
    "ISL", "ITA", "LVA", "LTU", "LUX", "MNE", "NLD", "MKD", "NOR", "POL", "PRT", "ROU", "SVK",
    "SVN", "ESP", "SWE", "TUR", "GBR", "USA",
}  # fmt: skip
MNNA_2025 = {
    "ARG", "AUS", "BHR", "BRA", "COL", "EGY", "ISR", "JPN", "JOR", "KEN", "KWT", "MAR", "NZL",
    "PAK", "PHL", "QAT", "KOR", "THA", "TUN", "TWN",
}  # fmt: skip


@pytest.fixture(scope="module")
def countries() -> CountryTable:
    return load_countries()


@pytest.fixture(scope="module")
def ties(countries: CountryTable) -> Alignment:
    return load_alignment(countries)


def _set(countries: CountryTable, column: np.ndarray) -> set[str]:
    return {str(iso) for iso in countries.iso[column]}


def _shipped_text() -> str:
    return (files("chipwar.world") / "data" / "alignment.csv").read_text("utf-8")


def test_every_country_has_exactly_one_row_in_table_order(countries, ties):
    rows = list(csv.DictReader(io.StringIO(_shipped_text())))
    assert [r["iso_a3"] for r in rows] == [str(i) for i in countries.iso]
    assert len(ties.us_treaty) == len(countries)


def test_treaty_allies_are_nato_the_pacific_treaties_and_rio(countries, ties):
    treaty = _set(countries, ties.us_treaty)
    assert treaty >= NATO_2024
    assert {"JPN", "KOR", "PHL", "AUS", "THA"} <= treaty
    assert {"ARG", "BRA", "COL", "PRY", "HTI"} <= treaty  # Rio Treaty parties
    assert not {"MEX", "BOL", "ECU", "NIC", "VEN"} & treaty  # withdrew from Rio
    assert "NZL" not in treaty  # ANZUS obligations to New Zealand suspended since 1986


def test_major_non_nato_allies(countries, ties):
    mnna = _set(countries, ties.mnna)
    assert mnna >= MNNA_2025
    assert "AFG" not in mnna  # rescinded in 2022
    assert mnna - MNNA_2025 <= {"SAU"}  # announced Nov 2025, marked uncertain


def test_taiwan_recognition_and_bases(countries, ties):
    assert _set(countries, ties.recognises_taiwan) == {"BLZ", "GTM", "HTI", "PRY", "SWZ", "TWN"}
    bases = _set(countries, ties.us_bases)
    assert {"JPN", "DEU", "KOR", "ITA", "GBR", "BHR", "QAT", "DJI"} <= bases
    assert "CUB" not in bases  # Guantanamo is held against the host's will


def test_un_band_is_blank_only_outside_the_un_and_in_range(countries, ties):
    blank = _set(countries, np.isnan(ties.un_us_vote))
    assert {"TWN", "HKG", "MAC", "XKX", "PSE"} <= blank
    assert "CHN" not in blank and "USA" not in blank
    coded = ties.un_us_vote[~np.isnan(ties.un_us_vote)]
    assert ((coded >= 0) & (coded <= 1)).all()
    assert set(np.round(coded * 4)) <= {0, 1, 2, 3, 4}  # the five bands
    filled = ties.un_filled(0.25)
    assert not np.isnan(filled).any()


def test_beijing_and_washington_are_rows_of_the_table(countries):
    for iso in BEIJING + WASHINGTON:
        assert iso in countries


# --- refusals ----------------------------------------------------------------------------------


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "alignment.csv"
    path.write_text(text, encoding="utf-8")
    return path


def _with_cell(iso: str, column: str, value: str) -> str:
    rows = list(csv.DictReader(io.StringIO(_shipped_text())))
    for row in rows:
        if row["iso_a3"] == iso:
            row[column] = value
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("us_treaty", "yes"),
        ("mnna", "1"),
        ("un_us_vote", "1.5"),
        ("un_us_vote", "-0.1"),
        ("un_us_vote", "nan"),
        ("un_us_vote", "high"),
        ("uncertain", "tier"),
        ("uncertain", "mnna|mnna"),
        ("iso_a3", "ZZZ"),
    ],
)
def test_bad_cells_are_refused_in_one_line(tmp_path, countries, column, value):
    path = _write(tmp_path, _with_cell("FRA", column, value))
    with pytest.raises(InputError) as err:
        load_alignment(countries, path)
    assert "\n" not in str(err.value) and column in str(err.value)


def test_a_missing_country_or_a_repeated_row_is_refused(tmp_path, countries):
    lines = _shipped_text().splitlines(keepends=True)
    with pytest.raises(InputError, match="every country"):
        load_alignment(countries, _write(tmp_path, "".join(lines[:-1])))
    with pytest.raises(InputError, match="not used before"):
        load_alignment(countries, _write(tmp_path, "".join(lines + lines[-1:])))


def test_a_bad_header_or_an_unreadable_file_is_refused(tmp_path, countries):
    with pytest.raises(InputError, match="columns"):
        load_alignment(countries, _write(tmp_path, "iso_a3,mnna\nFRA,true\n"))
    with pytest.raises(InputError, match="readable"):
        load_alignment(countries, tmp_path / "absent.csv")


@settings(max_examples=40, deadline=None)
@given(st.text(max_size=12))
def test_any_text_in_a_band_cell_loads_or_is_refused_cleanly(tmp_path_factory, text):
    path = _write(tmp_path_factory.mktemp("a"), _with_cell("FRA", "un_us_vote", text))
    countries = load_countries()
    try:
        ties = load_alignment(countries, path)
    except InputError as err:
        assert "\n" not in str(err)
    else:
        value = ties.un_us_vote[countries.index("FRA")]
        assert np.isnan(value) or 0.0 <= value <= 1.0
