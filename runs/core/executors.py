"""Where runs execute: in this process, in a local process pool, or on a Dask cluster.

All three are ``concurrent.futures.Executor`` objects (Dask's through ``Client.get_executor``), so
the sweep driver submits chunks and waits on futures the same way whichever one it is given.
Workers are told how many numba threads to use: one per worker when processes already fill the
cores, so two workers on two cores do not fight over them.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

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


def init_worker(parent: int, threads: int) -> None:
    """Pool worker set-up: numba's thread count before numba loads, and exit with the parent.

    ``numba.set_num_threads`` later only caps the work split; numba still starts (and wakes)
    ``NUMBA_NUM_THREADS`` threads, which on a full machine made pool workers about twice slower.
    """
    if "numba" not in sys.modules:
        os.environ["NUMBA_NUM_THREADS"] = str(threads)
    exit_with_parent(parent)


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
def open_executor(workers: int | None = None, dask: str | None = None) -> Iterator[ExecutorInfo]:
    """Serial (``workers == 1``), a spawn-context process pool, or Dask (address or ``local``)."""
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
        initargs=(os.getpid(), threads),
    )
    try:
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
