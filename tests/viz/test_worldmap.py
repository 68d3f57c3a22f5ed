"""The replay's world map: every country drawn, in the Equal Earth projection."""

from __future__ import annotations

import numpy as np
import pytest

from chipwar.viz.worldmap import equal_earth, map_geometry
from chipwar.world.countries import load_countries


def test_every_country_is_a_polygon_or_a_marker():
    table = load_countries()
    geometry = map_geometry()
    drawn = set(geometry.ring_country[geometry.ring_country >= 0]) | set(geometry.marker_country)
    assert drawn == set(range(len(table)))
    assert table.index("XKX") in set(geometry.ring_country)  # Kosovo's "-99" polygon is keyed
    assert table.index("SGP") in set(geometry.marker_country)  # no polygon at 1:110m


def test_equal_earth_is_symmetric_and_bounded():
    x, y = equal_earth(np.array([-180.0, 0.0, 180.0, 30.0]), np.array([0.0, 0.0, 0.0, -45.0]))
    assert x[1] == 0 and y[1] == 0 and x[0] == pytest.approx(-x[2])
    _, pole = equal_earth(np.array([0.0]), np.array([90.0]))
    # Šavrič et al. (2018): half-width 2.7066 and half-height 1.3174 on the unit sphere (2.05:1).
    assert x[2] == pytest.approx(2.7066, abs=1e-4) and pole[0] == pytest.approx(1.3174, abs=1e-4)
    assert y[3] < 0 < x[3]
