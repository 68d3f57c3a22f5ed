"""Each government's security and diplomatic ties to the United States (``data/alignment.csv``).

Why: whether a government would put its official AI stack in Chinese hands depends on who
guarantees its security, whose troops it hosts and which China it recognises, not only on export
tiers. The facts live in a data file (built by ``tools/build_alignment.py``, sources in
``data/SOURCES.md``), joined to the country table by ``iso_a3``; this module is their one gate:
every cell is validated and any bad one is a one-line :class:`InputError`.
"""

from __future__ import annotations

import csv
import functools
import io
import math
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Annotated, Any

import numpy as np
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from chipwar.world.countries import CountryTable, _parse_bool
from chipwar.world.errors import InputError

#: Governed from Beijing: China and its two special administrative regions. They are not foreign
#: governments: their official stack is China's, and no count of foreign governments includes
#: them (Hong Kong and Macao conduct no foreign or defence policy of their own: Basic Laws,
#: Art. 13-14).
BEIJING: tuple[str, ...] = ("CHN", "HKG", "MAC")
#: Governed from Washington: the United States and Puerto Rico (a US territory inside US
#: export-control territory, with no foreign policy of its own).
WASHINGTON: tuple[str, ...] = ("USA", "PRI")

#: The CSV columns, in file order.
COLUMNS: tuple[str, ...] = (
    "iso_a3",
    "us_treaty",
    "mnna",
    "us_bases",
    "recognises_taiwan",
    "un_us_vote",
    "uncertain",
)

ALLOWED: dict[str, str] = {
    "iso_a3": "a code of the country table (three uppercase letters)",
    "us_treaty": "'true' or 'false' (party to a mutual-defence treaty with the US)",
    "mnna": "'true' or 'false' (major non-NATO ally, 22 U.S.C. 2321k)",
    "us_bases": "'true' or 'false' (hosts a significant permanent US military presence)",
    "recognises_taiwan": "'true' or 'false'",
    "un_us_vote": "empty (not known) or a number in [0, 1] (UN voting band with the US)",
    "uncertain": "empty, or column names joined by '|'",
}

_FLAG_COLUMNS = ("us_treaty", "mnna", "us_bases", "recognises_taiwan", "un_us_vote")


def _parse_band(value: object) -> object:
    if value == "":
        return None
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            raise ValueError("not a number") from None
    return value


def _check_uncertain(value: str) -> str:
    names = value.split("|") if value else []
    if any(name not in _FLAG_COLUMNS for name in names) or len(set(names)) != len(names):
        raise ValueError("unknown or repeated column name")
    return value


CsvBool = Annotated[bool, BeforeValidator(_parse_bool)]


class AlignmentRow(BaseModel):
    """One validated row of ``alignment.csv``."""

    model_config = ConfigDict(strict=True, frozen=True, extra="forbid")

    iso_a3: Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
    us_treaty: CsvBool
    mnna: CsvBool
    us_bases: CsvBool
    recognises_taiwan: CsvBool
    un_us_vote: Annotated[
        Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)] | None,
        BeforeValidator(_parse_band),
    ]
    uncertain: Annotated[str, BeforeValidator(_check_uncertain)]


@dataclass(frozen=True, eq=False)
class Alignment:
    """Alignment columns in country-table row order (row ``i`` is ``countries[i]``).

    ``un_us_vote`` is NaN where the file leaves it blank (not a UN member); the model fills it
    with the parameter ``alignment_un_default``.
    """

    us_treaty: np.ndarray
    mnna: np.ndarray
    us_bases: np.ndarray
    recognises_taiwan: np.ndarray
    un_us_vote: np.ndarray

    @property
    def us_ally(self) -> np.ndarray:
        """A US treaty ally or a major non-NATO ally: the set the model's checks protect."""
        return self.us_treaty | self.mnna

    def un_filled(self, default: float) -> np.ndarray:
        """The UN voting band with blanks replaced by ``default``."""
        return np.where(np.isnan(self.un_us_vote), default, self.un_us_vote)


def _rows(text: str, name: str) -> list[AlignmentRow]:
    reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
    try:
        header = reader.fieldnames
    except csv.Error as exc:
        raise InputError(f"{name} header", "header", None, f"unreadable CSV ({exc})") from None
    expected = ", ".join(COLUMNS)
    if not header or tuple(header) != COLUMNS:
        raise InputError(f"{name} header", "header", header, f"the columns {expected}")
    rows: list[AlignmentRow] = []
    try:
        for raw in reader:
            source = f"{name} row {reader.line_num}"
            if None in raw or any(raw.get(col) is None for col in COLUMNS):
                raise InputError(source, "row", None, f"exactly {len(COLUMNS)} fields")
            try:
                rows.append(AlignmentRow.model_validate(dict(raw)))
            except ValidationError as exc:
                first = exc.errors(include_url=False)[0]
                column = str((first.get("loc") or ("row",))[0])
                raise InputError(
                    source, column, raw.get(column), ALLOWED.get(column, "a valid value")
                ) from None
    except csv.Error as exc:
        raise InputError(
            f"{name} row {reader.line_num}", "row", None, f"valid CSV ({exc})"
        ) from None
    return rows


def alignment_from_rows(
    rows: list[AlignmentRow], countries: CountryTable, name: str = "alignment.csv"
) -> Alignment:
    """Join rows to the country table: exactly one row per country, no stray codes."""
    by_iso: dict[str, AlignmentRow] = {}
    for row in rows:
        if row.iso_a3 in by_iso:
            raise InputError(name, "iso_a3", row.iso_a3, "a code not used before in the file")
        if row.iso_a3 not in countries:
            raise InputError(name, "iso_a3", row.iso_a3, ALLOWED["iso_a3"])
        by_iso[row.iso_a3] = row
    missing = [str(iso) for iso in countries.iso if iso not in by_iso]
    if missing:
        raise InputError(name, "iso_a3", missing[0], "a row for every country of the table")
    ordered = [by_iso[str(iso)] for iso in countries.iso]

    def column(attr: str, dtype: Any) -> np.ndarray:
        values = [getattr(r, attr) for r in ordered]
        if dtype is np.float64:
            values = [math.nan if v is None else v for v in values]
        arr = np.array(values, dtype=dtype)
        arr.flags.writeable = False
        return arr

    return Alignment(
        us_treaty=column("us_treaty", np.bool_),
        mnna=column("mnna", np.bool_),
        us_bases=column("us_bases", np.bool_),
        recognises_taiwan=column("recognises_taiwan", np.bool_),
        un_us_vote=column("un_us_vote", np.float64),
    )


def load_alignment(countries: CountryTable, path: str | Path | None = None) -> Alignment:
    """Load, validate and join an alignment CSV (default: the shipped ``data/alignment.csv``)."""
    if path is None:
        return _joined(countries)
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(str(p), "path", str(p), f"a readable UTF-8 CSV file ({exc})") from None
    return alignment_from_rows(_rows(text, p.name), countries, p.name)


@functools.cache
def _default_rows() -> tuple[AlignmentRow, ...]:
    resource = files("chipwar.world") / "data" / "alignment.csv"
    return tuple(_rows(resource.read_text(encoding="utf-8-sig"), "alignment.csv"))


@functools.lru_cache(maxsize=4)
def _joined(countries: CountryTable) -> Alignment:
    return alignment_from_rows(list(_default_rows()), countries)
