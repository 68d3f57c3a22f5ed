"""One whole model run in a fresh process, reporting its timings and peak memory as JSON.

Run as a script by the bench (``python wholerun.py --scale N --spawned-at T``): a process per run
keeps the peak resident memory of one run clean, and measures start-up as a user meets it: with
the deferred imports the ``chipwar`` command switches on (world/lazy_imports.py), or without them
under ``CHIPWAR_EAGER_IMPORTS=1``.
"""

from __future__ import annotations

import argparse
import json
import resource
import time


def _rss_bytes() -> int:
    """Current resident memory (Linux /proc), to separate the field from the interpreter."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize()


def _peak_rss_bytes() -> int:
    """This process's peak resident memory. Not ru_maxrss: Linux carries that over from the
    parent across fork and exec, so a child of a big bench process would report the parent's."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # pragma: no cover


def field_first_step(scale: int | None, seed: int, spawned_at: float, started: float) -> None:
    """Only the adoption field (no Mesa, no model): how soon a fresh process runs its first step
    with the kernels loaded from the numba cache."""
    import numpy as np

    from chipwar.world import lazy_imports
    from chipwar.world.adoption import AdoptionConfig, AdoptionField

    imported = time.time()
    n_countries, scale = 175, scale or 200_000
    rng = np.random.default_rng(seed)
    sizes = np.full(n_countries, scale // n_countries, dtype=np.int64)
    shares = np.tile([0.8, 0.15, 0.05], (n_countries, 1))
    config = AdoptionConfig(4, 2, 0.06, 1.5, 1.0, 1.5, 0.6)
    field = AdoptionField(sizes, rng.random((n_countries, n_countries)), shares, config, rng)
    built = time.time()
    field.step(rng.normal(size=(n_countries, 3)), np.zeros(n_countries, dtype=np.int8), 0)
    first = time.time()
    print(
        json.dumps(
            {
                "n_adopters": field.n_adopters,
                "python_start_s": started - spawned_at,
                "import_s": imported - started,
                "build_s": built - imported,
                "first_step_s": first - built,
                "first_step_at_s": first - spawned_at,
                "deferred_imports": lazy_imports.is_installed(),
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--preset", default="current-policy")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--scale", type=int, default=None)
    parser.add_argument("--spawned-at", type=float, required=True, help="parent's time.time()")
    parser.add_argument("--profile", action="store_true", help="time adoption and collection")
    parser.add_argument("--field-only", action="store_true", help="only the field's first step")
    args = parser.parse_args()
    started = time.time()
    from chipwar.world import lazy_imports

    lazy_imports.install()  # as the chipwar command does; a no-op under CHIPWAR_EAGER_IMPORTS=1
    if args.field_only:
        field_first_step(args.scale, args.seed, args.spawned_at, started)
    else:
        whole_run(args.preset, args.seed, args.scale, args.profile, args.spawned_at, started)


def whole_run(
    preset: str, seed: int, scale: int | None, profile: bool, spawned_at: float, started: float
) -> None:
    """One model run, timed from the process's start: imports, building the model, the first
    step and the whole run."""
    from chipwar.world import lazy_imports
    from chipwar.world.model import ChipWarModel

    imported = time.time()
    rss_imported = _rss_bytes()
    model = ChipWarModel(preset, rng=seed, scale=scale)
    built = time.time()
    parts = {"adoption_s": 0.0, "collect_s": 0.0}
    if profile:
        # Instance attributes only: the model's own code is untouched.
        for obj, name, key in (
            (model.adoption, "step", "adoption_s"),
            (model.datacollector, "collect", "collect_s"),
        ):
            inner = getattr(obj, name)

            def timed(*a: object, _inner: object = inner, _key: str = key, **k: object) -> object:
                t = time.perf_counter()
                try:
                    return _inner(*a, **k)  # type: ignore[operator]
                finally:
                    parts[_key] += time.perf_counter() - t

            setattr(obj, name, timed)
    model.step()
    first = time.time()
    steps = 1
    while model.running:
        model.step()
        steps += 1
    done = time.time()
    field = model.adoption
    print(
        json.dumps(
            {
                "scale": scale,
                "n_adopters": field.n_adopters,
                "months": steps,
                "python_start_s": started - spawned_at,
                "import_s": imported - started,
                "build_s": built - imported,
                "first_step_at_s": first - spawned_at,
                "steps_s": done - built,
                "steps_per_s": steps / (done - built),
                "total_s": done - spawned_at,
                "deferred_imports": lazy_imports.is_installed(),
                "peak_rss_bytes": _peak_rss_bytes(),
                "rss_after_import_bytes": rss_imported,
                "field_bytes": field.nbytes(),
                **({k: round(v, 4) for k, v in parts.items()} if profile else {}),
            }
        )
    )


if __name__ == "__main__":
    main()
