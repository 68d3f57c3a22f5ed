"""Helpers for the reliability tests: call the command line in-process, check a refusal, hash
folders, and count fuzzed inputs.

Counting: with ``CHIPWAR_FUZZ_TALLY=FILE`` set, every fuzzed input appends one JSON line
``{"kind": ..., "outcome": "refused" | "accepted"}`` to FILE (a refusal is counted only once it
has passed every check: exit status 2, one line, file and field named, no file changed); the
fault and determinism tests add their kills and checks with other outcomes. The closing note's
tables: ``python tests/reliability.py FILE``.

Waiting: tests never sleep hoping something has happened by then. :func:`wait_until` waits for a
condition and fails loudly when a generous deadline passes; :func:`start_paused` starts a
command with a fault from ``runs/core/faults.py`` and returns once it is paused at that point,
so a ``kill -9`` lands where the test says, on any machine.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

from chipwar.runs.cli.main import main
from chipwar.runs.core import faults

CLI = [sys.executable, "-m", "chipwar.runs.cli"]
PATIENCE = 300.0  # seconds any wait may take on a loaded 2-core machine before the test fails


def run_cli(argv: Sequence[str]) -> tuple[int, str, str]:
    """``chipwar ARGV`` in this process: (exit status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(list(argv))
        except SystemExit as exit_:  # argparse refusals
            code = exit_.code if isinstance(exit_.code, int) else 1
    return code, out.getvalue(), err.getvalue()


def assert_clean_refusal(code: int, err: str, *needles: str) -> None:
    """Exit status 2 and exactly one line on stderr, no traceback, holding every needle."""
    assert code == 2, f"exit status {code}: {err!r}"
    assert err.endswith("\n") and err.count("\n") == 1, f"not one line: {err!r}"
    assert "Traceback" not in err and "internal error" not in err, err
    for needle in needles:
        assert needle in err, f"{needle!r} not in {err!r}"


def folder_hashes(folder: Path) -> dict[str, str]:
    """sha256 of every file under ``folder`` (hidden ones too), by relative path."""
    folder = Path(folder)
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def wait_until(condition: Callable[[], object], what: str, timeout: float = PATIENCE) -> None:
    """Return as soon as ``condition()`` is true; fail naming ``what`` if it never becomes so."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {timeout:.0f} s waiting for {what}")
        time.sleep(0.01)


def start_paused(argv: Sequence[str], fault: str, flag: Path) -> tuple[subprocess.Popen, str]:
    """``chipwar ARGV`` in a new process with ``CHIPWAR_FAULT=fault`` (a ``pause``); returns the
    process and the flag's text (``"<pid> <point>=<count>"``) once it is paused there.

    Fails, with the process's stderr, if the process ends before it gets there.
    """
    flag.unlink(missing_ok=True)
    env = {**os.environ, faults.FAULT_ENV: fault, faults.FLAG_ENV: str(flag)}
    env.pop("CHIPWAR_DEBUG", None)
    process = subprocess.Popen(
        [*CLI, *argv], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        wait_until(lambda: flag.exists() or process.poll() is not None, f"{fault} in {argv}")
    except AssertionError:
        kill_tree(process)
        raise
    if not flag.exists():
        err = process.stderr.read().decode(errors="replace") if process.stderr else ""
        raise AssertionError(f"{argv} ended ({process.returncode}) before {fault}: {err}")
    return process, flag.read_text()


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def kill_tree(victim: subprocess.Popen) -> None:
    """``kill -9`` the process (not its children), then wait until its children are gone too:
    a sweep's pool workers must notice and leave by themselves."""
    workers = _children(victim.pid)
    with contextlib.suppress(ProcessLookupError):
        os.kill(victim.pid, signal.SIGKILL)
    victim.wait()
    if victim.stderr:
        victim.stderr.close()
    wait_until(
        lambda: not any(_alive(w) for w in workers), "the killed process's pool workers to exit"
    )


def tally(kind: str, outcome: str) -> None:
    """Count one fuzzed input of a file kind (only when CHIPWAR_FUZZ_TALLY names a file)."""
    path = os.environ.get("CHIPWAR_FUZZ_TALLY")
    if path:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps({"kind": kind, "outcome": outcome}) + "\n")


def tally_table(path: Path) -> str:
    """A markdown table of a tally file: inputs tried per kind, refused cleanly, accepted."""
    counts: Counter[tuple[str, str]] = Counter()
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        counts[row["kind"], row["outcome"]] += 1
    inputs = sorted({k for k, o in counts if o in ("refused", "accepted")})
    lines = [
        "| file kind | inputs tried | refused cleanly | valid (accepted) |",
        "|---|---:|---:|---:|",
    ]
    for kind in inputs:
        refused, accepted = counts[kind, "refused"], counts[kind, "accepted"]
        lines.append(f"| {kind} | {refused + accepted} | {refused} | {accepted} |")
    others = sorted((k, o) for k, o in counts if o not in ("refused", "accepted"))
    if others:  # kills survived, determinism checks passed, ...
        lines += ["", "| check | outcome | count |", "|---|---|---:|"]
        lines += [f"| {kind} | {outcome} | {counts[kind, outcome]} |" for kind, outcome in others]
    return "\n".join(lines)


if __name__ == "__main__":  # python tests/reliability.py TALLY_FILE
    import sys

    print(tally_table(Path(sys.argv[1])))
