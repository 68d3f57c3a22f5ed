"""numba's kernel cache follows edits to every file of the adoption package.

The end-to-end test builds a two-file package whose cached kernel inlines a function from its
sibling file, edits the sibling, and shows numba alone keeps the old machine code while
``forget_stale_kernels`` makes it compile the new one.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from chipwar.world.adoption.cache import STAMP_NAME, forget_stale_kernels, sources_digest


def make_package(root: Path, value: int) -> Path:
    """``pkg.outer.outer()`` (cached) returns ``pkg.inner.inner()`` (another file), = value.

    Called again, only ``inner.py`` is rewritten: ``outer.py`` keeps its bytes and its mtime.
    """
    package = root / "pkg"
    (package / "inner.py").parent.mkdir(exist_ok=True)
    (package / "inner.py").write_text(
        f"from numba import njit\n\n\n@njit(cache=True)\ndef inner():\n    return {value}\n"
    )
    if (package / "outer.py").exists():
        return package
    (package / "__init__.py").write_text("")
    (package / "outer.py").write_text(
        textwrap.dedent(
            """
            from numba import njit

            from pkg.inner import inner


            @njit(cache=True)
            def outer():
                return inner()
            """
        )
    )
    return package


def call_outer(root: Path, guard: bool) -> int:
    """``outer()`` in a fresh interpreter (loading numba's cache), optionally guarded first."""
    code = f"import sys; sys.path.insert(0, {str(root)!r})\n"
    if guard:
        code += (
            "from pathlib import Path\n"
            "from chipwar.world.adoption.cache import forget_stale_kernels\n"
            f"forget_stale_kernels(Path({str(root / 'pkg')!r}))\n"
        )
    code += "from pkg.outer import outer\nprint(outer())\n"
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    return int(done.stdout.strip())


def test_an_edit_to_an_inlined_sibling_reaches_the_cached_kernel(tmp_path: Path) -> None:
    make_package(tmp_path, 1)
    assert call_outer(tmp_path, guard=True) == 1  # compiled and cached
    make_package(tmp_path, 2)
    assert call_outer(tmp_path, guard=False) == 1  # numba alone: the stale kernel
    assert call_outer(tmp_path, guard=True) == 2  # the guard drops it; numba recompiles
    assert call_outer(tmp_path, guard=True) == 2  # and the new cache is kept


def test_indexes_are_removed_only_when_the_sources_change(tmp_path: Path) -> None:
    package = make_package(tmp_path, 1)
    cache = package / "__pycache__"
    cache.mkdir()
    ours = [cache / "outer.outer-7.py312.nbi", cache / "inner.inner-4.py312.nbi"]
    data = cache / "outer.outer-7.py312.1.nbc"
    foreign = cache / "elsewhere.f-1.py312.nbi"  # not a module of this package
    for path in (*ours, data, foreign):
        path.write_bytes(b"x")

    assert sorted(forget_stale_kernels(package)) == sorted(ours)  # no stamp yet: unknown sources
    assert (cache / STAMP_NAME).read_text().strip() == sources_digest(package)
    assert data.exists() and foreign.exists()  # numba overwrites data files; not ours to remove

    ours[0].write_bytes(b"x")
    assert forget_stale_kernels(package) == []  # same sources: the cache is kept
    make_package(tmp_path, 2)
    assert forget_stale_kernels(package) == [ours[0]]
