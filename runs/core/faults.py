"""Deterministic fault injection: make a process pause, exit or die at a named point of its work.

Why: a test that kills a sweep "about 0.3 s in" or "once three runs are done, if it is still
running" depends on the machine's speed; on a faster machine the sweep is finished before the
kill lands, on a slower or busier one the kill comes before anything was written. So the code
calls :func:`reached` at a few fixed points, and a test chooses which point fires and what
happens there. With nothing chosen a call costs one dictionary look-up.

Choosing a fault (for a whole process, through its environment)::

    CHIPWAR_FAULT="after-runs=3:pause"      # a sweep stops after recording its third run
    CHIPWAR_FAULT="after-writes=5:kill"     # dies (SIGKILL) right after its fifth file
    CHIPWAR_FAULT="after-runs=0:pause,after-writes=9:exit"   # several, comma-separated
    CHIPWAR_FAULT_FLAG=/tmp/t/paused        # the file a ``pause`` creates (needed by pause)

``POINT=N:ACTION`` fires once, the first time the point is reached with a count of at least
``N``. The points, and what their count is:

``after-runs``
    :func:`chipwar.runs.experiments.sweep.run_sweep`, in the driver process: once the store is
    open and before any run is handed out (count 0), then after each finished chunk has been
    recorded (count: runs this process recorded). With ``--workers 1`` a chunk is one run and
    nothing else is running, so ``after-runs=3`` stops with exactly 3 new row files; with a
    pool, the chunks already handed out still finish while the driver is paused.
``after-writes``
    :mod:`chipwar.runs.core.atomic` (every writer there), after a file has been renamed into
    place (count: files this process wrote that way). A wargame advance writes the session
    file, its ``.good`` copy, the turn's report files, each role's brief and the outputs
    stamp, in that order (:mod:`chipwar.runs.wargame.session`); a serial sweep writes each
    run's series files, then its row file (:mod:`chipwar.runs.experiments.sweep`).
``before-turn-files``
    :class:`chipwar.runs.dashboard.state.SessionHub`'s writer thread, after the turn's charts
    are drawn and before it takes the session lock to write the turn's files (count: turns
    whose files this process started to write).

The actions:

``pause``
    Create the flag file (written atomically; it holds ``"<pid> <point>=<count>"``) and block
    until the file is removed. A test waits for the file to appear (the process is now at the
    point), then kills the process with SIGKILL, or removes the file to let it go on. A pause
    nobody ends gives up after ``CHIPWAR_FAULT_TIMEOUT`` seconds (default 600) and exits with
    :data:`EXIT_STATUS`, so a test that died never leaves a process waiting for ever.
``exit``
    ``os._exit(EXIT_STATUS)`` at once: no ``finally`` blocks, no clean-up, no flushed output.
``kill``
    SIGKILL to itself: the death ``kill -9`` gives, at exactly this point.

Within one process (threads, not environments), :func:`hold` holds a point instead::

    with faults.hold("before-turn-files") as gate:
        hub.advance(...)                     # the writer thread stops at the point
        assert gate.arrived.wait(120)        # ... and is there now
        hub.undo(...)                        # what a test wants to happen meanwhile
    # leaving the block releases the thread

Counting starts when a fault is first chosen and restarts whenever ``CHIPWAR_FAULT`` changes.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

FAULT_ENV = "CHIPWAR_FAULT"
FLAG_ENV = "CHIPWAR_FAULT_FLAG"
TIMEOUT_ENV = "CHIPWAR_FAULT_TIMEOUT"
POINTS = ("after-runs", "after-writes", "before-turn-files")
ACTIONS = ("pause", "exit", "kill")
EXIT_STATUS = 86  # what ``exit`` (and a pause nobody ended) exits with
PAUSE_POLL = 0.01  # seconds between looks at the flag file during a pause


@dataclass
class Fault:
    """One ``POINT=N:ACTION`` of ``CHIPWAR_FAULT``."""

    point: str
    at: int
    action: str
    fired: bool = False


def parse(text: str) -> list[Fault]:
    """``POINT=N:ACTION[,POINT=N:ACTION...]``; a typo is an error, never a fault that won't fire."""
    faults = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        point, _, rest = part.partition("=")
        count, _, action = rest.partition(":")
        if point not in POINTS or action not in ACTIONS or not count.isdigit():
            raise ValueError(
                f"{FAULT_ENV}: {part!r} is not POINT=N:ACTION with POINT one of "
                f"{', '.join(POINTS)} and ACTION one of {', '.join(ACTIONS)}"
            )
        faults.append(Fault(point, int(count), action))
    return faults


@dataclass
class Gate:
    """An in-process hold on a point: ``arrived`` is set when a thread gets there, and that
    thread waits until ``release`` is set."""

    point: str
    arrived: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)


_lock = threading.Lock()
_spec: str | None = None  # the CHIPWAR_FAULT the state below belongs to
_faults: list[Fault] = []
_counts: dict[str, int] = {}
_gates: dict[str, Gate] = {}


def reached(point: str, count: int | None = None) -> None:
    """The code is at ``point`` (with ``count`` done so far, or the point's own call count)."""
    gate = _gates.get(point)
    if gate is not None:
        gate.arrived.set()
        gate.release.wait()
    spec = os.environ.get(FAULT_ENV)
    if not spec and _spec is None:
        return
    due = _due(spec, point, count)
    if due is not None:
        _act(due, count if count is not None else _counts[point])


def _due(spec: str | None, point: str, count: int | None) -> Fault | None:
    """The fault that fires now, if any (each fires once)."""
    global _spec, _faults
    with _lock:
        if spec != _spec:  # chosen, changed or cleared: start counting afresh
            _spec, _faults = spec, parse(spec) if spec else []
            _counts.clear()
        if point not in POINTS:
            raise ValueError(f"unknown fault point {point!r}")
        if count is None:
            count = _counts[point] = _counts.get(point, 0) + 1
        for fault in _faults:
            if fault.point == point and not fault.fired and count >= fault.at:
                fault.fired = True
                return fault
    return None


def _act(fault: Fault, count: int) -> None:
    if fault.action == "exit":
        os._exit(EXIT_STATUS)
    if fault.action == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    _pause(f"{fault.point}={count}")


def _pause(where: str) -> None:
    """Announce the pause in the flag file, then wait until the file is gone."""
    flag = os.environ.get(FLAG_ENV)
    if not flag:
        raise ValueError(f"{FAULT_ENV} asks for a pause but {FLAG_ENV} names no flag file")
    path = Path(flag)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(f"{os.getpid()} {where}\n")
    os.replace(tmp, path)  # the test never reads half a line
    deadline = time.monotonic() + float(os.environ.get(TIMEOUT_ENV) or 600)
    while path.exists():
        if time.monotonic() > deadline:
            print(f"chipwar: fault pause at {where} was never ended", file=sys.stderr)
            os._exit(EXIT_STATUS)
        time.sleep(PAUSE_POLL)


@contextmanager
def hold(point: str) -> Iterator[Gate]:
    """Hold every thread that reaches ``point`` until the block ends (see the module doc)."""
    if point not in POINTS:
        raise ValueError(f"unknown fault point {point!r}")
    gate = Gate(point)
    _gates[point] = gate
    try:
        yield gate
    finally:
        del _gates[point]
        gate.release.set()
