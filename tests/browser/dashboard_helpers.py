"""Helpers of the browser tests: start `chipwar dashboard`, find Chromium, save screenshots.

Skipped (with the reason) when Playwright or Debian's Chromium (/usr/bin/chromium) is missing;
`.ci/run` installs Chromium, so in CI they run. No browser download: Playwright launches the
system Chromium, with background networking off so it contacts nothing but the local server.
Screenshots of every view go to ``test-artifacts/screenshots/`` (or ``$CHIPWAR_SCREENSHOTS``).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
REPO = Path(__file__).resolve().parents[2]
START_TIMEOUT = 300.0  # s: generous on a loaded machine; running out fails loudly


def screenshot_dir() -> Path:
    folder = Path(os.environ.get("CHIPWAR_SCREENSHOTS") or REPO / "test-artifacts" / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def chipwar_command() -> list[str]:
    script = Path(sys.executable).with_name("chipwar")
    return [str(script)] if script.exists() else [sys.executable, "-m", "chipwar.runs.cli"]


@dataclass
class Dashboard:
    url: str
    session: Path
    tokens: dict
    process: subprocess.Popen
    log: Path

    def link(self, who: str, **query: str) -> str:
        token = self.tokens["facilitator"] if who == "facilitator" else self.tokens["roles"][who]
        extra = "".join(f"&{k}={v}" for k, v in query.items())
        return f"{self.url}?token={token}{extra}"


def start_dashboard(folder: Path, args: list[str]) -> tuple[subprocess.Popen, str, Path]:
    port = free_port()
    log = folder / f"dashboard-{port}.log"
    env = {**os.environ, "CHIPWAR_DEBUG": "1", "MPLBACKEND": "Agg"}
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [*chipwar_command(), "dashboard", "--port", str(port), *args],
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=folder,
            env=env,
        )
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"chipwar dashboard exited: {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return process, url, log
        except OSError:
            time.sleep(0.3)
    process.kill()
    raise RuntimeError(f"chipwar dashboard did not answer in {START_TIMEOUT} s")


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def wait_for_app(page) -> None:
    """Solara renders after its websocket connects: wait for our content, not the load event."""
    page.locator(".chipwar-status, .chipwar-not-authorised, .chipwar-explore").first.wait_for(
        timeout=60_000
    )
