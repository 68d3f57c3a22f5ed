"""The one runner: every task once, results in the tasks' order on any executor, failures
reported per batch, and a hand-out that can be stopped."""

from __future__ import annotations

import math
import operator
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import Executor, Future
from functools import partial
from typing import Any

import pytest

from chipwar.runs.core.executors import (
    ExecutorInfo,
    Progress,
    SerialExecutor,
    chunk_size,
    open_executor,
    run_all,
    run_many,
    serial,
)


class Recording(Executor):
    """Runs each call at submit time, like the serial executor, but as many workers as told (so
    the runner keeps several chunks in flight) and refusing work after ``refuse_after`` chunks,
    as a broken pool does."""

    def __init__(self, refuse_after: int | None = None) -> None:
        self.chunks: list[tuple[int, ...]] = []
        self.refuse_after = refuse_after

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        if self.refuse_after is not None and len(self.chunks) >= self.refuse_after:
            raise RuntimeError("cannot schedule new futures after shutdown")
        self.chunks.append(tuple(args[1]))  # call_chunk(fn, tasks, threads)
        return SerialExecutor().submit(fn, *args, **kwargs)


def test_guided_chunks_shrink_towards_the_end() -> None:
    assert chunk_size(200, 1) == 1
    assert chunk_size(200, 2) == 16 and chunk_size(40, 2) == 5 and chunk_size(3, 2) == 1


def test_results_come_back_in_the_tasks_order_serially_and_on_a_pool() -> None:
    tasks = list(range(23))
    assert run_all(partial(pow, 3), tasks, serial()) == [3**k for k in tasks]
    with open_executor(workers=2) as info:
        assert info.workers == 2
        assert run_all(partial(pow, 3), tasks, info) == [3**k for k in tasks]


def test_the_first_error_is_raised_and_stops_the_hand_out() -> None:
    seen: list[float] = []

    def sqrt(x: float) -> float:
        seen.append(x)
        return math.sqrt(x)

    with pytest.raises(ValueError, match="math domain"):
        run_all(sqrt, [4.0, -1.0, 9.0, 16.0], serial())
    assert seen == [4.0, -1.0]  # nothing after the failed task was started


def test_a_failed_batch_names_its_tasks_and_the_others_go_on() -> None:
    batches = list(run_many(operator.neg, [1, "x", 3], serial()))
    assert [b.tasks for b in batches] == [(1,), ("x",), (3,)]
    assert batches[0].results == [-1] and batches[2].results == [-3]
    assert isinstance(batches[1].error, TypeError) and batches[1].results is None


def test_two_chunks_per_worker_in_flight_and_stop_delivers_them_but_hands_out_no_more() -> None:
    executor = Recording()
    runner = run_many(operator.neg, list(range(40)), ExecutorInfo(executor, 2, "two", None))
    batches = iter(runner)
    first = next(batches)
    assert [len(c) for c in executor.chunks] == [5, 5, 4, 4]  # guided, two per worker
    assert runner.stop() == 40 - 18
    rest = list(batches)
    assert len(executor.chunks) == 4  # nothing handed out after the stop
    delivered = [t for b in [first, *rest] for t in b.tasks]
    assert sorted(delivered) == list(range(18))
    assert all(b.results == [-t for t in b.tasks] for b in [first, *rest])


def test_a_pool_that_breaks_fails_every_task_it_did_not_take_in_one_batch() -> None:
    executor = Recording(refuse_after=2)
    batches = list(run_many(operator.neg, list(range(40)), ExecutorInfo(executor, 2, "x", None)))
    refused = [b for b in batches if b.error is not None]
    assert len(refused) == 1 and isinstance(refused[0].error, RuntimeError)
    assert refused[0].start == 10 and refused[0].tasks == tuple(range(10, 40))
    assert sorted(t for b in batches for t in b.tasks) == list(range(40))


def test_progress_counts_finished_tasks_and_closing_ends_the_bar(capsys) -> None:
    run_all(operator.neg, [1, 2, 3], serial(), Progress("demo", unit="task", show=True))
    err = capsys.readouterr().err
    assert "demo" in err and "3/3" in err
    runner = run_many(operator.neg, [1], serial(), Progress("never", show=True))
    runner.close()
    assert runner.bar.disable  # closed although never iterated


WARMED: list[int] = []


def _warm() -> None:
    WARMED.append(1)


def _was_warmed(_task: int) -> int:
    return len(WARMED)


def test_a_pool_runs_warm_once_in_every_worker_before_its_tasks() -> None:
    with open_executor(workers=2, warm=_warm) as info:
        assert run_all(_was_warmed, list(range(6)), info) == [1] * 6
    assert WARMED == []  # only the workers ran it


def test_workers_leave_without_losing_what_they_printed(tmp_path) -> None:
    """Finished workers exit at once (runs/core/executors.py ``_leave_now``), after flushing
    their output: a line a task printed to a piped stdout still arrives."""
    script = tmp_path / "shout.py"
    script.write_text(
        "from chipwar.runs.core.executors import open_executor, run_all\n"
        "def shout(k):\n"
        "    print(f'task {k} was here')\n"
        "    return k\n"
        "if __name__ == '__main__':\n"
        "    with open_executor(workers=2) as info:\n"
        "        assert run_all(shout, [1, 2], info) == [1, 2]\n"
    )
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, check=False, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert "task 1 was here" in done.stdout and "task 2 was here" in done.stdout
