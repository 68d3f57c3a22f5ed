"""The command line reproduces the golden outputs: three presets at two seeds, a scripted wargame
session and a small sweep, written before the code was restructured (tests/golden/make_golden.py).

Parquet files are compared as tables (column names, types and every value bit for bit) when their
bytes differ, because the file footer names the pyarrow version that wrote it; ``meta.json`` drops
its timings and library versions. Everything else must match byte for byte.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from golden.make_golden import DATA, generate

LIBRARY_FIELDS = ("timings_s", "python", "mesa", "numpy", "numba")


def _files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def _same_parquet(a: Path, b: Path) -> bool:
    left, right = pq.read_table(a), pq.read_table(b)
    return left.schema.remove_metadata() == right.schema.remove_metadata() and left.equals(right)


def _meta(path: Path) -> dict:
    meta = json.loads(path.read_text())
    for name in LIBRARY_FIELDS:
        meta.pop(name, None)
    return meta


@pytest.mark.slow
def test_outputs_are_the_golden_bytes(tmp_path):
    generate(tmp_path)
    assert _files(tmp_path) == _files(DATA)
    different = []
    for name in _files(DATA):
        want, got = DATA / name, tmp_path / name
        if want.read_bytes() == got.read_bytes():
            continue
        if want.suffix == ".parquet" and _same_parquet(want, got):
            continue
        if want.name == "meta.json" and _meta(want) == _meta(got):
            continue
        different.append(name)
    assert different == []
