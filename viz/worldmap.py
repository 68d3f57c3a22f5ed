"""World map geometry for replays: Natural Earth polygons in the Equal Earth projection.

Why a module of its own: a replay draws the map once and then only recolours it every frame, so
the geometry (projected rings, which country each ring belongs to, markers for small states) is
prepared here once, cached, and keyed by row of the country table the run tables use.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from importlib.resources import files

import numpy as np

from chipwar.world.countries import CountryTable, load_countries

#: Where the shipped polygons live (Natural Earth 1:110m, public domain; see data/README.md).
GEOJSON = "countries_110m.geojson"
ATTRIBUTION = "Map: Natural Earth (public domain)"

# Natural Earth codes that differ from the country table's ISO 3166 alpha-3 codes, by name.
_NAME_TO_ISO = {"Kosovo": "XKX"}
# Left off the map: no buyer lives there and it would take a fifth of the height.
_SKIP = {"ATA"}
# Latitude band shown: Tierra del Fuego to northern Greenland.
LAT_MIN, LAT_MAX = -58.0, 84.0

# Equal Earth (Šavrič, Patterson and Jenny, 2018): equal-area, and continents keep familiar shapes.
_A1, _A2, _A3, _A4 = 1.340264, -0.081106, 0.000893, 0.003796
_M = np.sqrt(3.0) / 2.0


def equal_earth(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Project degrees of longitude and latitude to Equal Earth map units (unit sphere)."""
    lam = np.radians(np.asarray(lon, dtype=float))
    theta = np.arcsin(_M * np.sin(np.radians(np.asarray(lat, dtype=float))))
    t2 = theta * theta
    t6 = t2 * t2 * t2
    x = lam * np.cos(theta) / (_M * (_A1 + 3 * _A2 * t2 + t6 * (7 * _A3 + 9 * _A4 * t2)))
    y = theta * (_A1 + _A2 * t2 + t6 * (_A3 + _A4 * t2))
    return x, y


def _project(ring: list[list[float]]) -> np.ndarray:
    coords = np.asarray(ring, dtype=float)
    x, y = equal_earth(coords[:, 0], coords[:, 1])
    return np.column_stack([x, y])


def _area(ring: np.ndarray) -> float:
    x, y = ring[:, 0], ring[:, 1]
    return 0.5 * abs(float(np.dot(x, np.roll(y, 1)) - np.dot(y, np.roll(x, 1))))


@dataclass(frozen=True, eq=False)
class MapGeometry:
    """Projected map pieces, ready for a PolyCollection and a scatter.

    ``ring_country[i]`` is the country-table row of ``rings[i]`` (-1 when the polygon has no row,
    e.g. the Falkland Islands); rings are ordered largest first so that enclaves such as Lesotho
    are drawn on top of the country around them (PolyCollection has no holes).
    """

    rings: tuple[np.ndarray, ...]
    ring_country: np.ndarray
    marker_xy: np.ndarray
    marker_country: np.ndarray
    outline: np.ndarray
    xlim: tuple[float, float]
    ylim: tuple[float, float]


@functools.cache
def map_geometry() -> MapGeometry:
    """The map for the shipped country table (cached: it never changes within a process)."""
    return build_geometry(load_countries(), _read_geojson())


def _read_geojson() -> dict:
    return json.loads((files("chipwar.viz") / "data" / GEOJSON).read_text(encoding="utf-8"))


def build_geometry(table: CountryTable, geojson: dict) -> MapGeometry:
    """Project every polygon, key it to a table row, and place markers for the rest."""
    pieces: list[tuple[float, np.ndarray, int]] = []
    drawn: set[int] = set()
    for feature in geojson["features"]:
        props = feature["properties"]
        iso = _NAME_TO_ISO.get(props.get("name", ""), props.get("iso_a3", ""))
        if iso in _SKIP:
            continue
        row = table.index(iso) if iso in table else -1
        geometry = feature["geometry"]
        polygons = (
            [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
        )
        for polygon in polygons:
            ring = _project(polygon[0])  # exterior ring; holes are covered by drawing order
            pieces.append((_area(ring), ring, row))
        if row >= 0:
            drawn.add(row)
    pieces.sort(key=lambda piece: -piece[0])
    markers = np.array([i for i in range(len(table)) if i not in drawn], dtype=np.int64)
    mx, my = equal_earth(table.lon[markers], table.lat[markers])

    # The globe's outline (the ocean), cut to the latitude band shown.
    lats = np.linspace(LAT_MIN, 90.0, 60)
    west = np.column_stack(equal_earth(np.full_like(lats, -180.0), lats))
    east = np.column_stack(equal_earth(np.full_like(lats, 180.0), lats))[::-1]
    outline = np.vstack([west, east])
    _, y_top = equal_earth(np.array([180.0]), np.array([LAT_MAX]))
    _, y_bottom = equal_earth(np.array([0.0]), np.array([LAT_MIN]))
    x_max = float(equal_earth(np.array([180.0]), np.array([0.0]))[0][0])
    pad = 0.01 * x_max
    return MapGeometry(
        rings=tuple(piece[1] for piece in pieces),
        ring_country=np.array([piece[2] for piece in pieces], dtype=np.int64),
        marker_xy=np.column_stack([mx, my]),
        marker_country=markers,
        outline=outline,
        xlim=(-x_max - pad, x_max + pad),
        ylim=(float(y_bottom[0]) - pad, float(y_top[0]) + pad),
    )
