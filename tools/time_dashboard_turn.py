"""Time a 6-month wargame turn at the default scale: in the browser page and through Python.

Not a test (timings on a shared machine are not assertions): run it by hand and read the JSON.

    .venv/bin/python tools/time_dashboard_turn.py [--repeats 3] [--scale 200000]

It creates a session (current-policy, two human teams), starts `chipwar dashboard` on a free
local port, and in headless Chromium clicks "Advance turn" on the facilitator's page, timing
from the click until the new turn's report is on the screen (the server adjudicates the turn,
the bots move, the page redraws the map, the report and its three charts). Each repeat is
undone from the page before the next. Then the same turn through the Python API
(`Session.advance`, and `Session.report` with its charts) in this process, side by side.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "browser"))

from dashboard_helpers import (
    CHROMIUM,
    CHROMIUM_ARGS,
    start_dashboard,
    stop,
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--scale", type=int, default=None, help="default: the preset's (200000)")
    args = parser.parse_args()

    from playwright.sync_api import expect, sync_playwright

    from chipwar.runs.wargame.session import Session

    folder = Path(tempfile.mkdtemp(prefix="chipwar-timing-"))
    path = folder / "timing.json"
    session = Session.new(path, "current-policy", seed=7, humans=["us", "china"], scale=args.scale)
    scale = session.record.scenario.scale
    session.submit("us", {"enforcement": 0.8}, ["raid:MYS"])
    session.submit("china", {"smuggling_demand": 0.9})

    # The Python API: the same turn, in this process (after one warm-up turn and undo).
    api_advance, api_report = [], []
    for k in range(args.repeats + 1):
        started = time.perf_counter()
        session.advance(force=True)
        advanced = time.perf_counter()
        session.report().png()
        reported = time.perf_counter()
        session.undo()
        if k:
            api_advance.append(advanced - started)
            api_report.append(reported - started)

    process, url, _log = start_dashboard(folder, ["--session", str(path)])
    tokens = json.loads(path.with_name("timing.access.json").read_text())
    page_times, text_times = [], []
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(f"{url}?token={tokens['facilitator']}")
            report = page.locator(".chipwar-report")
            expect(report).to_contain_text("No turn played yet", timeout=120_000)
            page.get_by_text("force (carry over missing moves)").click()
            for k in range(args.repeats + 1):
                started = time.perf_counter()
                page.get_by_role("button", name="Advance turn").click()
                expect(report).to_contain_text("Turn 1: 2026-06 to 2026-11", timeout=60_000)
                text_shown = time.perf_counter()
                expect(report.locator("img")).to_have_count(3, timeout=60_000)
                if k:  # the first click also warms up matplotlib in the server
                    page_times.append(time.perf_counter() - started)
                    text_times.append(text_shown - started)
                page.get_by_role("button", name="Undo last turn").click()
                expect(report).to_contain_text("No turn played yet", timeout=60_000)
            browser.close()
    finally:
        stop(process)

    result = {
        "scale": scale,
        "turn_months": 6,
        "page_advance_to_report_s": [round(t, 3) for t in page_times],
        "page_median_s": round(statistics.median(page_times), 3),
        "page_advance_to_report_text_s": [round(t, 3) for t in text_times],
        "api_advance_s": [round(t, 3) for t in api_advance],
        "api_advance_and_report_s": [round(t, 3) for t in api_report],
    }
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
