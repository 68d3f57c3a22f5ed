"""Helpers for the reliability tests: call the command line in-process, check a refusal, hash
folders, and count fuzzed inputs.

Counting: with ``CHIPWAR_FUZZ_TALLY=FILE`` set, every fuzzed input appends one JSON line
``{"kind": ..., "outcome": "refused" | "accepted"}`` to FILE (a refusal is counted only once it
has passed every check: exit status 2, one line, file and field named, no file changed); the
fault and determinism tests add their kills and checks with other outcomes. The closing note's
tables: ``python tests/reliability.py FILE``.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from chipwar.runs.cli.main import main


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
