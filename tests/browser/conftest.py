"""Fixtures of the browser tests: headless Chromium, and one dashboard server per module.

Skipped (with the reason) when Playwright or Debian's Chromium (/usr/bin/chromium) is missing;
`.ci/run` installs Chromium, so in CI they run.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator

import pytest
from dashboard_helpers import (
    CHROMIUM,
    CHROMIUM_ARGS,
    Dashboard,
    chipwar_command,
    screenshot_dir,
    start_dashboard,
    stop,
)


def _missing(reason: str) -> None:
    """Skip locally; fail where the browser tests must run (CI sets CHIPWAR_REQUIRE_BROWSER=1)."""
    if os.environ.get("CHIPWAR_REQUIRE_BROWSER"):
        pytest.fail(f"browser tests required but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    try:
        from playwright import sync_api
    except ImportError:
        _missing("playwright is not installed")
    if not CHROMIUM.exists():
        _missing(f"no Chromium at {CHROMIUM} (apt-get install chromium; .ci/run does)")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory, browser) -> Iterator[Dashboard]:
    """A small session (two human teams, bots elsewhere) served by `chipwar dashboard`."""
    folder = tmp_path_factory.mktemp("room")
    session = folder / "room.json"
    subprocess.run(
        [
            *chipwar_command(),
            "wargame",
            "new",
            str(session),
            "--scenario",
            "current-policy",
            "--seed",
            "3",
            "--human",
            "us,china",
            "--scale",
            "3000",
        ],
        check=True,
        capture_output=True,
        cwd=folder,
    )
    process, url, log = start_dashboard(folder, ["--session", str(session), "--scale", "3000"])
    tokens = json.loads(session.with_name("room.access.json").read_text())
    try:
        yield Dashboard(url, session, tokens, process, log)
    finally:
        stop(process)
        if os.environ.get("CHIPWAR_KEEP_LOGS"):
            shutil.copy(log, screenshot_dir() / log.name)
