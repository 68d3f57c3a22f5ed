"""Where runs execute (in this process, a local process pool or a Dask cluster) and the one
runner that hands them out.

All three executors are ``concurrent.futures.Executor`` objects (Dask's through
``Client.get_executor``), opened by :func:`open_executor` as an :class:`ExecutorInfo`. Workers
are told how many numba threads to use: one per worker when processes already fill the cores, so
two workers on two cores do not fight over them.

:func:`run_many` (and :func:`run_all`, for a list of results) is how sweeps, comparisons,
calibration, attribution and the wargame outlook run many independent tasks on any of them::

    with open_executor(workers, dask) as info:
        results = run_all(measure, tasks, info, progress=Progress("check", show=True))

It hands out guided chunks (large first, smaller towards the end so no worker idles at the
tail), keeps at most two chunks per worker in flight, and yields each chunk as a :class:`Batch`
when it finishes. ``fn`` runs in the workers: it must be picklable (a module-level function, or
a ``functools.partial`` of one) and so must the tasks and results, except on the serial
executor. Results do not depend on the executor, so neither do the bytes a sweep writes.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import math
import multiprocessing
import os
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from tqdm import tqdm

from chipwar.world import lazy_imports
from chipwar.world.errors import InputError


class SerialExecutor(Executor):
    """Runs each call at submit time in this process; its future is already done.

    Ctrl-C (KeyboardInterrupt) is not captured in the future: it stops the caller at once.
    """

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except Exception as err:
            future.set_exception(err)
        return future


@dataclass
class ExecutorInfo:
    """An open executor and what the driver needs to know about it."""

    executor: Executor
    workers: int  # runs that can execute at once
    label: str  # for messages and the session log
    threads: int | None  # numba threads per run (None: leave the default)


def init_worker(
    parent: int,
    threads: int,
    defer_imports: bool = False,
    warm: Callable[[], Any] | None = None,
) -> None:
    """Pool worker set-up: numba's thread count before numba loads, the parent's deferred imports
    (world/lazy_imports.py: the ``chipwar`` command switches them on), exit with the parent, and
    ``warm`` (the imports and numba kernels the tasks will need), if given.

    ``numba.set_num_threads`` later only caps the work split; numba still starts (and wakes)
    ``NUMBA_NUM_THREADS`` threads, which on a full machine made pool workers about twice slower.
    """
    if "numba" not in sys.modules:
        os.environ["NUMBA_NUM_THREADS"] = str(threads)
    if defer_imports:
        lazy_imports.install()  # before the first task imports mesa
    exit_with_parent(parent)
    if warm is not None:
        # An optimisation only: if it fails, the tasks meet the fault again and report it.
        with contextlib.suppress(Exception):
            warm()
    atexit.register(_leave_now)  # after the imports above: it runs before their handlers


def _leave_now() -> None:
    """A worker's exit, once the pool has sent it away: flush its output and leave without
    tearing down its modules. Tearing down numba, llvmlite and pandas took 0.3-0.6 s a worker,
    which every pool paid at its end; results are already sent (the result queue writes as it
    is called) and nothing else in a worker needs finalising."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(0)


def _started() -> None:
    """A task that does nothing: submitted once per worker, it makes the pool start them all."""


def exit_with_parent(parent: int, interval: float = 0.5) -> None:
    """Leave as soon as the sweep process is gone (say, after ``kill -9``).

    Without it, pool workers orphaned by a killed sweep would finish their queue and then wait
    forever. Exiting mid-run is safe: files are written atomically and the run is redone on resume.
    """

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(interval)
        os._exit(70)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def cpu_count() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def check_executor_options(workers: int | None, dask: str | None) -> None:
    """Refuse option combinations before anything is created."""
    if dask is not None and dask != "local" and workers is not None:
        raise InputError("--workers", "workers", workers, "only with --dask local (or no --dask)")
    if dask is not None and not dask.strip():
        raise InputError("--dask", "dask", dask, "a scheduler address (tcp://host:8786) or 'local'")


@contextmanager
def open_executor(
    workers: int | None = None,
    dask: str | None = None,
    warm: Callable[[], Any] | None = None,
) -> Iterator[ExecutorInfo]:
    """Serial (``workers == 1``), a spawn-context process pool, or Dask (address or ``local``).

    ``warm`` (a module-level function): a pool starts every worker at once and each runs it
    first, so that their start-up (interpreter, imports, numba's kernels) overlaps what the
    caller still does before handing out tasks. Serial and Dask executors ignore it.
    """
    check_executor_options(workers, dask)
    if dask is not None:
        with _dask_executor(dask, workers) as info:
            yield info
        return
    workers = workers or cpu_count()
    if workers == 1:
        yield ExecutorInfo(SerialExecutor(), 1, "serial", None)
        return
    threads = max(1, cpu_count() // workers)
    # Spawn explicitly: mesa sets it anyway, and fork would copy numba's threads and locks.
    pool = ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=init_worker,
        initargs=(os.getpid(), threads, lazy_imports.is_installed(), warm),
    )
    try:
        if warm is not None:
            for _ in range(workers):  # each submit starts one more worker, up to the pool's size
                pool.submit(_started)
        yield ExecutorInfo(pool, workers, f"process pool ({workers} workers)", threads)
    except BaseException:
        _stop_now(pool)
        raise
    pool.shutdown(wait=True)


def _stop_now(pool: ProcessPoolExecutor) -> None:
    """Ctrl-C or an error: end the workers instead of letting them drain their queued chunks.

    Python 3.12's pool has no public way to do this (3.14 adds ``terminate_workers``). Stopping a
    run half-way is safe: its files are written atomically and ``--resume`` redoes it.
    """
    processes = list(getattr(pool, "_processes", {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.terminate()
    for process in processes:
        process.join(timeout=5)
    pool.shutdown(wait=True)  # the manager thread sees the broken pool and closes its queues


@contextmanager
def _dask_executor(address: str, workers: int | None) -> Iterator[ExecutorInfo]:
    try:
        from distributed import Client, LocalCluster
    except ImportError as err:  # pragma: no cover - a declared dependency
        raise InputError("--dask", "dask", address, "dask[distributed] installed") from err
    cluster = None
    if address == "local":
        import dask

        n = workers or cpu_count()
        # Dask's statistical profiler samples every worker thread's stack each 10 ms: with deep
        # model stacks that costs about a quarter of the CPU time of the runs. Nobody reads it here.
        # Numba's thread count goes to the worker processes only (see init_worker): Dask's
        # pre-spawn environment is set in this process while spawning, which changed numba's
        # configuration here under the caller's feet.
        with dask.config.set({"distributed.worker.profile.enabled": False}):
            cluster = LocalCluster(
                n_workers=n,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                silence_logs=logging.ERROR,
                env={"NUMBA_NUM_THREADS": "1"},
            )
        client = Client(cluster)
        label = f"Dask LocalCluster ({n} workers)"
    else:
        try:
            client = Client(address, timeout="10s")
        except (OSError, TimeoutError, ValueError) as err:
            raise InputError(
                "--dask", "dask", address, f"a reachable Dask scheduler or 'local' ({err})"
            ) from None
        label = f"Dask cluster at {address}"
    try:
        slots = sum(client.nthreads().values()) or 1
        executor = client.get_executor(pure=False)
        yield ExecutorInfo(executor, slots, label, 1)
        executor.shutdown(wait=True)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


# --- the runner -----------------------------------------------------------------------------------
MAX_CHUNK = 16


def chunk_size(remaining: int, workers: int) -> int:
    """Guided chunking: about a quarter of each worker's share of what is left, at most 16."""
    if workers <= 1:
        return 1
    return max(1, min(MAX_CHUNK, math.ceil(remaining / (4 * workers))))


def call_chunk[T, R](fn: Callable[[T], R], tasks: Sequence[T], threads: int | None) -> list[R]:
    """Worker side: cap numba's threads as the executor asks, then ``fn`` on each task in turn."""
    if threads:
        import numba

        numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    return [fn(task) for task in tasks]


@dataclass(frozen=True)
class Progress:
    """A progress bar over tasks (tqdm on stderr); ``show=None``: only on a terminal."""

    desc: str = ""
    unit: str = "run"
    show: bool | None = False
    total: int | None = None  # default: initial + the number of tasks
    initial: int = 0  # done before (a resumed sweep)
    leave: bool = True

    def bar(self, tasks: int) -> tqdm:
        hidden = self.show is False or (self.show is None and not sys.stderr.isatty())
        return tqdm(
            total=self.initial + tasks if self.total is None else self.total,
            initial=self.initial,
            desc=self.desc,
            unit=self.unit,
            disable=hidden,
            leave=self.leave,
            dynamic_ncols=True,
        )


@dataclass(frozen=True)
class Batch[T, R]:
    """Tasks handed out together (``tasks[start:start + len]`` of the list) and their outcome:
    one result per task, in order, or the error that lost the whole batch (a worker that died,
    a task that raised, a broken pool that refused it)."""

    start: int
    tasks: tuple[T, ...]
    results: list[R] | None
    error: BaseException | None = None


class Runner[T, R]:
    """Runs ``fn`` over ``tasks`` on an executor; iterate to get each :class:`Batch` as it ends.

    :meth:`stop` hands out nothing more (the batches in flight still arrive); :meth:`close` also
    cancels what has not started. A pool that refuses new work (it broke) ends the hand-out with
    one failed batch holding every task not handed out.
    """

    def __init__(
        self,
        fn: Callable[[T], R],
        tasks: Sequence[T],
        info: ExecutorInfo,
        progress: Progress | None = None,
    ) -> None:
        self.fn, self.info = fn, info
        self.tasks = list(tasks)
        self.bar = (progress or Progress()).bar(len(self.tasks))
        self._pending: deque[int] = deque(range(len(self.tasks)))
        self._in_flight: dict[Future, tuple[int, int]] = {}
        self._iterator = self._run()

    def __iter__(self) -> Iterator[Batch[T, R]]:
        return self._iterator

    def stop(self) -> int:
        """Hand out no more tasks; returns how many were never handed out."""
        count = len(self._pending)
        self._pending.clear()
        return count

    def close(self) -> None:
        """Stop, cancel the batches not started, close the progress bar."""
        self._iterator.close()
        self.bar.close()  # also when the iteration never started

    def _batch(self, start: int, size: int, **outcome: Any) -> Batch[T, R]:
        return Batch(start, tuple(self.tasks[start : start + size]), **outcome)

    def _run(self) -> Iterator[Batch[T, R]]:
        info, pending, in_flight = self.info, self._pending, self._in_flight
        most = 1 if info.workers <= 1 else 2 * info.workers
        try:
            while pending or in_flight:
                while pending and len(in_flight) < most:
                    size = min(chunk_size(len(pending), info.workers), len(pending))
                    start = pending[0]
                    try:
                        future = info.executor.submit(
                            call_chunk, self.fn, self.tasks[start : start + size], info.threads
                        )
                    except RuntimeError as err:  # a broken pool refuses new work
                        left = self.stop()
                        yield self._batch(start, left, results=None, error=err)
                        break
                    for _ in range(size):
                        pending.popleft()
                    in_flight[future] = (start, size)
                if not in_flight:
                    break
                finished, _ = wait(in_flight, return_when=FIRST_COMPLETED)
                for future in finished:
                    start, size = in_flight.pop(future)
                    try:
                        results = future.result()
                    except Exception as err:
                        yield self._batch(start, size, results=None, error=err)
                        continue
                    self.bar.update(size)
                    yield self._batch(start, size, results=results)
        finally:
            for future in in_flight:
                future.cancel()
            self.bar.close()


def run_many[T, R](
    fn: Callable[[T], R],
    tasks: Sequence[T],
    info: ExecutorInfo,
    progress: Progress | None = None,
) -> Runner[T, R]:
    """A :class:`Runner` of ``fn`` over ``tasks`` on ``info``'s executor (iterate it)."""
    return Runner(fn, tasks, info, progress)


def run_all[T, R](
    fn: Callable[[T], R],
    tasks: Sequence[T],
    info: ExecutorInfo,
    progress: Progress | None = None,
) -> list[R]:
    """``[fn(task) for task in tasks]`` on the executor, in the tasks' order; the first error
    stops the hand-out and is raised."""
    results: list[Any] = [None] * len(tasks)
    runner = run_many(fn, tasks, info, progress)
    try:
        for batch in runner:
            if batch.error is not None:
                raise batch.error
            assert batch.results is not None
            results[batch.start : batch.start + len(batch.tasks)] = batch.results
    finally:
        runner.close()
    return results


def serial() -> ExecutorInfo:
    """This process, one task at a time (what :func:`open_executor` gives for one worker)."""
    return ExecutorInfo(SerialExecutor(), 1, "serial", None)
