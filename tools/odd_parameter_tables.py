"""Regenerate the parameter and target tables of docs/ODD.md from world/data/*.toml.

Why: docs/ODD.md lists every parameter with its value, range, unit, basis, fitted mark, source and
where the code uses it. Written by hand, those tables drift from the data file after every fit.
Each section of parameters.toml (a ``# --- Title ---`` comment) has one table in the ODD, under a
line ``**Parameters: Title** (generated from `parameters.toml`...):``; this script rewrites the
table under each such line and the counts of §6.2, and says which sections have no table. The
targets table of §8.1 (under "Generated from `targets.toml`:") and its list of what each target
measures are rewritten from world/data/targets.toml in the same way.

Usage (from the repository root)::

    .venv/bin/python tools/odd_parameter_tables.py [--check]

``--check`` exits 1 if the ODD is not up to date (nothing is written).
"""

from __future__ import annotations

import argparse
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PARAMETERS = ROOT / "world" / "data" / "parameters.toml"
CALIBRATION = ROOT / "world" / "data" / "calibration.toml"
TARGETS = ROOT / "world" / "data" / "targets.toml"
ODD = ROOT / "docs" / "ODD.md"
CODE = {
    "world/market.py": "market",
    "world/model.py": "model",
    "world/capability.py": "capability",
    "world/power.py": "power",
    "world/appeal.py": "appeal",
    "world/adoption.py": "adoption",
    "world/alignment.py": "alignment",
    "agents/smuggling.py": "smuggling",
    "agents/lab.py": "lab",
    "agents/state.py": "state",
    "agents/buyer.py": "buyer",
}
HEADER = re.compile(r"^\*\*Parameters: (?P<title>.+?)\*\* \(generated from `parameters.toml`.*\):$")


def sections() -> list[tuple[str, list[str]]]:
    """(title, parameter names) in file order, from the ``# --- Title ---`` comments."""
    result: list[tuple[str, list[str]]] = []
    for line in PARAMETERS.read_text().splitlines():
        if line.startswith("# --- "):
            result.append((line[6:].rstrip("- ").strip(), []))
        elif line.startswith("[") and result:
            result[-1][1].append(line.strip("[]"))
    return result


def basis(source: str) -> str:
    """S sourced, S/A sourced but an assumption, A assumption, D fixed by the design."""
    if source.startswith("DESIGN"):
        return "D"
    if "ssumption" not in source:
        return "S"
    cites = any(ch.isdigit() for ch in source) or any(
        mark in source for mark in ("facts.md", "SOURCES.md", ".csv", ".toml")
    )
    return "S/A" if cites else "A"


def number(value: float) -> str:
    if value != 0 and (abs(value) >= 1e9 or abs(value) < 1e-3):
        text = f"{value:.3g}"
        if "e" in text:
            mantissa, exponent = text.split("e")
            return f"{mantissa}e{int(exponent)}"
        return text
    if abs(value) >= 1000:
        return f"{value:,.0f}" if value == int(value) else f"{value:,.1f}"
    return f"{value:g}"


def used_in(name: str) -> str:
    pattern = re.compile(rf"\b{re.escape(name)}\b")
    return ", ".join(
        label for path, label in CODE.items() if pattern.search((ROOT / path).read_text())
    )


def table(names: list[str], rows: dict, fitted: set[str]) -> list[str]:
    lines = [
        "| name | value | range | unit | basis | fitted | source / rationale | used in |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name in names:
        row = rows[name]
        source = " ".join(row["source"].split()).replace("|", "/")
        lines.append(
            f"| `{name}` | {number(row['value'])} | {number(row['min'])} – {number(row['max'])} "
            f"| {row['unit']} | {basis(row['source'])} | {'**fitted**' if name in fitted else ''} "
            f"| {source} | {used_in(name)} |"
        )
    return lines


def _measure(row: dict) -> str:
    kind, column = row["measure"], f"`{row.get('column', '')}`"
    span = f"{row.get('from', '')} to {row.get('to', '')}"
    if kind == "value":
        return f"{column} at {row['date']}"
    if kind == "sum":
        return f"sum of {column}, {span}"
    if kind == "ratio":
        return f"sum of {column} / sum of `{row['column2']}`, {span}"
    if kind == "growth":
        return f"yearly growth factor of {column}, {span}"
    if kind == "max":
        return f"max of {column} × {number(row.get('multiplier', 1.0))}, {span}"
    return f"change in control-preferring Global South governments with official stack `cn`, {span}"


def target_lines() -> tuple[list[str], list[str]]:
    """The §8.1 table and the "what each measures" list, from targets.toml."""
    rows = tomllib.loads(TARGETS.read_text())
    table = [
        "| name | use | preset | measure | range | central | scale | source |",
        "|---|---|---|---|---|---|---|---|",
    ]
    meanings = []
    for name, row in rows.items():
        scale = "log" if row.get("log") else "linear"
        table.append(
            f"| `{name}` | {row['use']} | `{row['preset']}` | {_measure(row)} "
            f"| {number(row['lower'])} – {number(row['upper'])} | {number(row['central'])} "
            f"| {scale} | {row['source']} |"
        )
        meanings.append(f"- `{name}`: {row['description']}.")
    return table, meanings


def _replace_block(lines: list[str], marker: str, prefix: str, new: list[str]) -> list[str]:
    """Replace the block of lines starting with ``prefix`` that follows the line ``marker``."""
    if marker not in lines:
        return lines
    k = lines.index(marker) + 1
    while k < len(lines) and not lines[k].startswith(prefix):
        k += 1
    end = k
    while end < len(lines) and lines[end].startswith(prefix):
        end += 1
    return lines[:k] + new + lines[end:]


def regenerate(text: str) -> tuple[str, list[str]]:
    rows = tomllib.loads(PARAMETERS.read_text())
    fitted = set(tomllib.loads(CALIBRATION.read_text())["fit_parameters"])
    wanted = dict(sections())
    lines, out, seen = text.splitlines(), [], set()
    k = 0
    while k < len(lines):
        line = lines[k]
        out.append(line)
        match = HEADER.match(line)
        k += 1
        if match and match["title"] in wanted:
            seen.add(match["title"])
            while k < len(lines) and not lines[k].startswith("|"):
                out.append(lines[k])
                k += 1
            while k < len(lines) and lines[k].startswith("|"):
                k += 1
            out.extend(table(wanted[match["title"]], rows, fitted))
    table_rows, meanings = target_lines()
    out = _replace_block(
        out, "from `current-policy`. Generated from `targets.toml`:", "|", table_rows
    )
    out = _replace_block(out, "What each measures:", "- `", meanings)
    text = "\n".join(out) + "\n"
    counts: dict[str, list[str]] = {"S": [], "S/A": [], "A": [], "D": []}
    for name, row in rows.items():
        counts[basis(row["source"])].append(name)
    s_names = ", ".join(f"`{n}`" for n in counts["S"])
    replacements = [
        (
            r"`world/data/parameters.toml`: \d+ parameters",
            f"`world/data/parameters.toml`: {len(rows)} parameters",
        ),
        (
            r"assumption \(\d+ parameters: [^)]*\)\.",
            f"assumption ({len(counts['S'])} parameters: {s_names}).",
        ),
        (
            r"calls the value an assumption\n  \(\d+\)\.",
            f"calls the value an assumption\n  ({len(counts['S/A'])}).",
        ),
        (
            r"an assumption with no source \(\d+\)\.",
            f"an assumption with no source ({len(counts['A'])}).",
        ),
        (r"(?m)^\d+ parameters are \*\*fitted\*\*", f"{len(fitted)} parameters are **fitted**"),
    ]
    for pattern, replacement in replacements:
        text = re.sub(pattern, lambda _m, r=replacement: r, text)
    missing = [title for title in wanted if title not in seen]
    return text, missing


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    before = ODD.read_text()
    after, missing = regenerate(before)
    for title in missing:
        print(f"no table in ODD.md for the section {title!r}", file=sys.stderr)
    if args.check:
        return 0 if after == before and not missing else 1
    ODD.write_text(after)
    print("ODD.md parameter tables " + ("unchanged" if after == before else "rewritten"))
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
