"""Tiny experiment specs and sessions for the sweep, fault and dashboard tests: levers act from
the first month, 1,000 adopters, a few months.

``CHIPWAR_TEST_SCALE_FACTOR`` (default 1) multiplies the work of each of those runs, to show the
tests pass on machines of any speed: above 1 it multiplies the adopters and the months simulated
(10: 10,000 adopters, ten times the months, capped at 2030-12 and at 24-month turns); below 1 it
divides the months (down to what a test needs), since 1,000 adopters is the smallest field a
scenario accepts. Tests take their horizon and month counts from here (:data:`HORIZON`,
:data:`MONTHS`), never as literals.
"""

from __future__ import annotations

import os
from pathlib import Path

import tomli_w

from chipwar.runs.experiments.spec import Plan, load_experiment, plan_experiment
from chipwar.runs.wargame.session import MAX_TURN_MONTHS
from chipwar.world.calendar import format_month, months_between, parse_month
from chipwar.world.scenario import MAX_SCALE, MIN_SCALE, Scenario

SCALE_ENV = "CHIPWAR_TEST_SCALE_FACTOR"
SCALE_FACTOR = float(os.environ.get(SCALE_ENV) or 1)
if not 0 < SCALE_FACTOR < 1000:
    raise ValueError(f"{SCALE_ENV}={SCALE_FACTOR}: expected a factor above 0 (1 = as written)")
START, LAST = "2024-01", "2030-12"  # a history-free scenario's first and last month


def scaled_months(months: int, least: int = 1) -> int:
    """``months`` times the scale factor, at least ``least``, at most what fits before 2030-12."""
    return max(least, min(round(months * SCALE_FACTOR), months_between(START, LAST)))


def scaled_adopters(adopters: int = 1000) -> int:
    """Adopters times the scale factor when it is above 1 (a scenario's floor is 1,000)."""
    return max(MIN_SCALE, min(MAX_SCALE, round(adopters * max(SCALE_FACTOR, 1.0))))


def horizon(months: int, least: int = 1) -> str:
    """The last month of a run of ``months`` (scaled, at least ``least``) months from 2024-01."""
    return format_month(parse_month(START) + scaled_months(months, least) - 1)


# The default tiny sweep: 5 months as written, never under 3 (smuggling, and with it the
# factors' effect on the results the tests compare, starts in the third month).
MONTHS = scaled_months(5, least=3)
HORIZON = horizon(5, least=3)  # its last month ("2024-05" as written)

SCENARIO = f"""
name = "tiny-world"
history = false
branch = "2024-01"
scale = {scaled_adopters()}
"""


def scaled_scenario(scenario: Scenario) -> Scenario:
    """``scenario`` with its adopters scaled (for sessions)."""
    return scenario.model_copy(update={"scale": scaled_adopters(scenario.scale)})


def session_options(turn_months: int, turns: int) -> dict[str, object]:
    """``turn_months`` (scaled, fitting ``turns`` turns before 2030-12) and the ``until`` that
    makes ``turns`` turns, for :meth:`Session.new`."""
    fits = min(MAX_TURN_MONTHS, months_between(START, LAST) // turns)
    months = max(1, min(scaled_months(turn_months), fits))
    return {"turn_months": months, "until": format_month(parse_month(START) + turns * months - 1)}


def write_spec(folder: Path, **overrides) -> Path:
    """A spec file (and its scenario file) in ``folder``; overrides replace top-level keys."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "tiny-world.toml").write_text(SCENARIO)
    data = {
        "name": "tiny",
        "scenario": "tiny-world.toml",
        "horizon": HORIZON,
        "seed": 11,
        "replications": 2,
        "design": {"kind": "grid"},
        "factors": {
            "us.enforcement": {"values": [0.1, 0.9]},
            "params.detection_base": {"values": [0.002, 0.02]},
        },
        "outputs": {
            "metrics": ["lead_months", "compute_gap", "smuggled_h100e_cum"],
            "countries": True,
        },
    }
    data.update(overrides)
    path = folder / "spec.toml"
    path.write_text(tomli_w.dumps(data))
    return path


def tiny_plan(folder: Path, **overrides) -> Plan:
    path = write_spec(folder, **overrides)
    return plan_experiment(load_experiment(path), str(path), folder)


def store_files(out: Path) -> dict[str, bytes]:
    """Every result file of a sweep folder by relative path (logs and temporaries left out)."""
    return {
        str(p.relative_to(out)): p.read_bytes()
        for p in sorted(out.rglob("*"))
        if p.is_file() and p.name != "sessions.jsonl" and "analysis" not in p.parts
    }
