"""The country table: one validated row per country, plus numpy columns for the kernels.

Why: every Buyer agent, the adoption field and the replay map are keyed by country. The facts
about countries live in a data file (``data/countries.csv``, sources in ``data/SOURCES.md``), and
this module is the single gate through which they enter the model: each row is validated
strictly, and any bad cell becomes a one-line :class:`~chipwar.world.errors.InputError` that names
the file, the row, the column, the value and what is allowed.
"""

from __future__ import annotations

import csv
import functools
import io
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

import numpy as np
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from chipwar.world.errors import InputError

Region = Literal[
    "east_asia",
    "southeast_asia",
    "south_asia",
    "central_asia",
    "mena",
    "sub_saharan_africa",
    "europe",
    "north_america",
    "latin_america",
    "oceania",
]
#: The ten region slugs, in the fixed order used for region-indexed arrays and output columns.
REGIONS: tuple[str, ...] = get_args(Region)

#: Human-readable region names for plots and briefs.
REGION_LABELS: dict[str, str] = {
    "east_asia": "East Asia",
    "southeast_asia": "Southeast Asia",
    "south_asia": "South Asia",
    "central_asia": "Central Asia & Caucasus",
    "mena": "Middle East & North Africa",
    "sub_saharan_africa": "Sub-Saharan Africa",
    "europe": "Europe",
    "north_america": "North America",
    "latin_america": "Latin America & Caribbean",
    "oceania": "Oceania",
}

Bri = Literal["member", "exited", "none", "unknown"]
BRI_STATUSES: tuple[str, ...] = get_args(Bri)

HubRole = Literal["transit", "datacenter", "billing", "compute_hub"]
HUB_ROLES: tuple[str, ...] = get_args(HubRole)

#: The CSV columns, in file order.
COLUMNS: tuple[str, ...] = (
    "iso_a3",
    "name",
    "region",
    "population",
    "gdp_usd_m",
    "regime",
    "tier",
    "ai_surveillance_2019",
    "cn_surveillance_supplier",
    "bri",
    "hub_role",
    "lon",
    "lat",
    "has_polygon",
)

#: What each column accepts, as shown in error messages.
ALLOWED: dict[str, str] = {
    "iso_a3": "three uppercase letters (ISO 3166-1 alpha-3)",
    "name": "a non-empty name",
    "region": "one of " + ", ".join(REGIONS),
    "population": "a whole number of people > 0",
    "gdp_usd_m": "a finite number > 0 (USD millions)",
    "regime": "a whole number 0-3 (Regimes of the World)",
    "tier": "a whole number 0-3 (0 = the United States, else AI Diffusion tier 1-3)",
    "ai_surveillance_2019": "'true' or 'false'",
    "cn_surveillance_supplier": "'true' or 'false'",
    "bri": "one of " + ", ".join(BRI_STATUSES),
    "hub_role": "empty, or distinct roles joined by '|' from " + ", ".join(HUB_ROLES),
    "lon": "a number of degrees in [-180, 180]",
    "lat": "a number of degrees in [-90, 90]",
    "has_polygon": "'true' or 'false'",
}

_INT_RE = re.compile(r"[+-]?[0-9]+")
_FLOAT_RE = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


# Parsers for CSV text. Python values of the right type pass through untouched so that the
# model's strict mode still refuses, say, a float population given in code.
def _parse_int(value: object) -> object:
    if isinstance(value, str):
        if not _INT_RE.fullmatch(value):
            raise ValueError("not a whole number")
        return int(value)
    return value


def _parse_float(value: object) -> object:
    if isinstance(value, str):
        if not _FLOAT_RE.fullmatch(value):
            raise ValueError("not a decimal number")
        return float(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def _parse_bool(value: object) -> object:
    if isinstance(value, str):
        if value == "true":
            return True
        if value == "false":
            return False
        raise ValueError("expected 'true' or 'false'")
    return value


def _check_roles(value: str) -> str:
    roles = value.split("|") if value else []
    unknown = [r for r in roles if r not in HUB_ROLES]
    if unknown:
        raise ValueError(f"unknown hub role {unknown[0]!r}")
    if len(set(roles)) != len(roles):
        raise ValueError("a role is repeated")
    return value


CsvInt = Annotated[int, BeforeValidator(_parse_int)]
CsvFloat = Annotated[float, BeforeValidator(_parse_float)]
CsvBool = Annotated[bool, BeforeValidator(_parse_bool)]


class Country(BaseModel):
    """One country row, validated strictly (see ``data/SOURCES.md`` for each field's source)."""

    model_config = ConfigDict(strict=True, frozen=True, extra="forbid")

    iso_a3: Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
    name: Annotated[str, Field(min_length=1)]
    region: Region
    population: Annotated[CsvInt, Field(gt=0)]
    gdp_usd_m: Annotated[CsvFloat, Field(gt=0, allow_inf_nan=False)]
    regime: Annotated[CsvInt, Field(ge=0, le=3)]
    tier: Annotated[CsvInt, Field(ge=0, le=3)]
    ai_surveillance_2019: CsvBool
    cn_surveillance_supplier: CsvBool
    bri: Bri
    hub_role: Annotated[str, AfterValidator(_check_roles)]  # "" or e.g. "transit|billing"
    lon: Annotated[CsvFloat, Field(ge=-180, le=180, allow_inf_nan=False)]
    lat: Annotated[CsvFloat, Field(ge=-90, le=90, allow_inf_nan=False)]
    has_polygon: CsvBool

    @property
    def hub_roles(self) -> tuple[str, ...]:
        """The hub roles as a tuple (empty when the country is no hub)."""
        return tuple(self.hub_role.split("|")) if self.hub_role else ()


def parse_country_row(row: Mapping[str, Any], source: str) -> Country:
    """Validate one row (column name -> CSV text) into a Country, or raise InputError.

    ``source`` names where the row came from, e.g. ``"countries.csv row 17"``.
    """
    try:
        return Country.model_validate(dict(row))
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        loc = first.get("loc") or ("row",)
        column = str(loc[0])
        if first.get("type") == "extra_forbidden":
            raise InputError(source, column, row.get(column), "not a known column") from None
        value = row.get(column, first.get("input"))
        allowed = ALLOWED.get(column, first.get("msg", "a valid value"))
        raise InputError(source, column, value, allowed) from None


@dataclass(frozen=True, eq=False)
class CountryTable:
    """All countries, sorted by iso_a3, with read-only numpy columns built once.

    Why arrays: the adoption kernels and the aggregations work per country in vectorised form;
    row ``i`` of every array is ``countries[i]``.
    """

    countries: tuple[Country, ...]
    iso: np.ndarray
    population: np.ndarray
    gdp_usd_m: np.ndarray
    regime: np.ndarray
    tier: np.ndarray
    region_index: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    ai_surveillance_2019: np.ndarray
    cn_surveillance_supplier: np.ndarray
    bri_member: np.ndarray
    has_polygon: np.ndarray
    _positions: dict[str, int] = field(repr=False)

    @classmethod
    def from_countries(cls, countries: Iterable[Country]) -> CountryTable:
        """Sort by iso_a3 and build the columns; duplicate codes are a ValueError."""
        rows = tuple(sorted(countries, key=lambda c: c.iso_a3))
        positions = {c.iso_a3: i for i, c in enumerate(rows)}
        if len(positions) != len(rows):
            raise ValueError("duplicate iso_a3 codes in the country table")

        def column(values: Iterable[Any], dtype: Any) -> np.ndarray:
            arr = np.fromiter(values, dtype=dtype, count=len(rows))
            arr.flags.writeable = False
            return arr

        region_pos = {slug: i for i, slug in enumerate(REGIONS)}
        iso = np.array([c.iso_a3 for c in rows], dtype="<U3")
        iso.flags.writeable = False
        return cls(
            countries=rows,
            iso=iso,
            population=column((c.population for c in rows), np.int64),
            gdp_usd_m=column((c.gdp_usd_m for c in rows), np.float64),
            regime=column((c.regime for c in rows), np.int8),
            tier=column((c.tier for c in rows), np.int8),
            region_index=column((region_pos[c.region] for c in rows), np.int8),
            lon=column((c.lon for c in rows), np.float64),
            lat=column((c.lat for c in rows), np.float64),
            ai_surveillance_2019=column((c.ai_surveillance_2019 for c in rows), np.bool_),
            cn_surveillance_supplier=column((c.cn_surveillance_supplier for c in rows), np.bool_),
            bri_member=column((c.bri == "member" for c in rows), np.bool_),
            has_polygon=column((c.has_polygon for c in rows), np.bool_),
            _positions=positions,
        )

    def index(self, iso: str) -> int:
        """Row position of a country code; KeyError names the unknown code."""
        try:
            return self._positions[iso]
        except KeyError:
            raise KeyError(f"unknown country code {iso!r}") from None

    def name_of(self, index: int) -> str:
        """Display name of the country at a row position (for events and briefs)."""
        return self.countries[index].name

    def __len__(self) -> int:
        return len(self.countries)

    def __contains__(self, iso: object) -> bool:
        return iso in self._positions

    def __iter__(self) -> Iterator[Country]:
        return iter(self.countries)


def _read_rows(text: str, name: str) -> list[Country]:
    reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
    try:
        header = reader.fieldnames
    except csv.Error as exc:
        raise InputError(f"{name} header", "header", None, f"unreadable CSV ({exc})") from None
    if not header:
        raise InputError(name, "header", None, "an empty file; expected a header row") from None
    expected = ", ".join(COLUMNS)
    for col in COLUMNS:
        if col not in header:
            raise InputError(
                f"{name} header", col, None, f"a required column, missing here; expected {expected}"
            )
    for col in header:
        if col not in COLUMNS or header.count(col) > 1:
            raise InputError(
                f"{name} header", col, col, f"unknown or repeated column; expected {expected}"
            )
    if tuple(header) != COLUMNS:
        raise InputError(f"{name} header", "header", header, f"columns in the order {expected}")

    countries: list[Country] = []
    seen: dict[str, int] = {}
    try:
        for raw in reader:
            # Line number in the file (the header is line 1), as editors and spreadsheets show.
            source = f"{name} row {reader.line_num}"
            if None in raw:
                extra = raw[None]  # type: ignore[index]
                raise InputError(
                    source, "row", extra, f"exactly {len(COLUMNS)} fields (this row has more)"
                )
            short = [col for col in COLUMNS if raw.get(col) is None]
            if short:
                raise InputError(source, short[0], None, "a value (the row has too few fields)")
            country = parse_country_row(raw, source)
            if country.iso_a3 in seen:
                raise InputError(
                    source,
                    "iso_a3",
                    country.iso_a3,
                    f"a code not used before (already on row {seen[country.iso_a3]})",
                )
            seen[country.iso_a3] = reader.line_num
            countries.append(country)
    except csv.Error as exc:
        raise InputError(
            f"{name} row {reader.line_num}", "row", None, f"valid CSV ({exc})"
        ) from None
    if not countries:
        raise InputError(name, "rows", 0, "at least one country row")
    return countries


def load_countries(path: str | Path | None = None) -> CountryTable:
    """Load and validate a country CSV (default: the shipped ``data/countries.csv``).

    Every failure (unreadable file, bad header, bad cell, duplicate code) is an InputError.
    The default table is cached: it is immutable, and sweeps build many models.
    """
    if path is None:
        return _default_table()
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise InputError(str(p), "path", str(p), f"a readable UTF-8 CSV file ({reason})") from None
    return CountryTable.from_countries(_read_rows(text, p.name))


@functools.cache
def _default_table() -> CountryTable:
    resource = files("chipwar.world") / "data" / "countries.csv"
    return CountryTable.from_countries(
        _read_rows(resource.read_text(encoding="utf-8-sig"), "countries.csv")
    )
