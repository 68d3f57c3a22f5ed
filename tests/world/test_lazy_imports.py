"""Deferred imports: a process the command line starts skips pandas, networkx and scipy.linalg
until they are used, a deferred module behaves like a normal one once touched, from any thread,
and importing the library alone never switches deferral on."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import threading
import types
from pathlib import Path

import pytest
from reliability import wait_until

from chipwar.world import lazy_imports

PATIENCE = 300.0  # seconds a wait may take on a loaded machine before the test fails

PROBE = textwrap.dedent(
    """
    import json, sys
    from chipwar.world import lazy_imports
    lazy_imports.install()  # what the chipwar command does first (runs/cli/main.py)
    from chipwar.world.model import ChipWarModel
    def ran():
        return {n: n in sys.modules and not lazy_imports.is_deferred(n)
                for n in sorted(lazy_imports.DEFERRED)}
    before = ran()
    model = ChipWarModel("current-policy", rng=1, scale=2000)
    model.step()
    after_step = ran()
    import pandas, networkx, scipy.linalg
    import mesa
    works = [
        pandas.DataFrame({"a": [1, 2]})["a"].sum() == 3,
        networkx.path_graph(4).number_of_edges() == 3,
        float(scipy.linalg.norm([3.0, 4.0])) == 5.0,
        mesa.discrete_space.OrthogonalMooreGrid.__name__ == "OrthogonalMooreGrid",
    ]
    after_use = ran()
    print(json.dumps({"before": before, "after_step": after_step, "works": [bool(w) for w in works],
                      "after_use": after_use}))
    """
)


def _probe(env_extra: dict[str, str] | None = None) -> dict:
    import os

    env = {**os.environ, **(env_extra or {})}
    if env_extra is None:
        env.pop("CHIPWAR_EAGER_IMPORTS", None)
    out = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True, env=env
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_a_run_defers_heavy_modules_until_used_and_they_then_work() -> None:
    result = _probe()
    assert not any(result["before"].values()), result["before"]
    assert not any(result["after_step"].values()), result["after_step"]
    assert result["works"] == [True, True, True, True]
    used = ("pandas", "networkx", "scipy.linalg", "mesa.discrete_space")
    assert all(result["after_use"][name] for name in used), result["after_use"]


@pytest.mark.slow
def test_eager_imports_switch_turns_deferral_off() -> None:
    result = _probe({"CHIPWAR_EAGER_IMPORTS": "1"})
    assert result["before"]["pandas"] and result["before"]["networkx"]
    assert result["works"] == [True, True, True, True]


@pytest.fixture
def gated_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A deferred module (by its own finder) whose code stops half-way until the test says go:
    ``STARTED`` is set, ``gate.running`` is set, then it waits for ``gate.proceed`` before
    ``VALUE``. Yields the module's name and the gate."""
    name = "chipwar_gated_probe_module"
    gate = types.ModuleType("chipwar_probe_gate")
    gate.running, gate.proceed = threading.Event(), threading.Event()
    monkeypatch.setitem(sys.modules, gate.__name__, gate)
    (tmp_path / f"{name}.py").write_text(
        "import chipwar_probe_gate as gate\n"
        "STARTED = True\n"
        "gate.running.set()\n"
        "assert gate.proceed.wait(300), 'the test never let the module finish'\n"
        "VALUE = 42\n",
        encoding="utf-8",
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    finder = lazy_imports._DeferringFinder(frozenset({name}))
    sys.meta_path.insert(0, finder)
    try:
        yield name, gate
    finally:
        gate.proceed.set()
        sys.meta_path.remove(finder)
        sys.modules.pop(name, None)


def test_deferred_module_runs_on_first_use(gated_module) -> None:
    name, gate = gated_module
    gate.proceed.set()
    module = __import__(name)
    assert lazy_imports.is_deferred(name)
    assert module.__name__ == name  # metadata does not trigger the load
    assert lazy_imports.is_deferred(name) and not gate.running.is_set()
    assert module.VALUE == 42
    assert not lazy_imports.is_deferred(name)


def _in_load(thread: threading.Thread) -> bool:
    """True while ``thread`` is inside the deferred-module loader (waiting for its lock)."""
    frame = sys._current_frames().get(thread.ident)
    while frame is not None:
        if frame.f_code is lazy_imports._load.__code__:
            return True
        frame = frame.f_back
    return False


def test_threads_never_see_a_half_run_module(gated_module) -> None:
    """Readers that arrive while another thread is half-way through the module's code wait for
    the whole module: with the module stopped half-way, each reader is seen waiting in the
    loader before the module may finish, so none can have read it early."""
    name, gate = gated_module
    module = __import__(name)
    seen: list[object] = []
    errors: list[BaseException] = []

    def read() -> None:
        try:
            seen.append(module.VALUE)
        except BaseException as exc:  # an AttributeError here is the bug this guards against
            errors.append(exc)

    first = threading.Thread(target=read)
    first.start()
    assert gate.running.wait(PATIENCE), "the module's code never started"
    namespace = object.__getattribute__(module, "__dict__")  # without asking for the load
    assert namespace.get("STARTED") and "VALUE" not in namespace  # half-run now
    readers = [threading.Thread(target=read) for _ in range(5)]
    for t in readers:
        t.start()

    def readers_waiting() -> bool:
        assert errors == [], errors  # a reader got through to the half-run module
        return all(_in_load(t) for t in readers)

    wait_until(readers_waiting, "the readers to reach the loader", PATIENCE)
    gate.proceed.set()
    for t in (first, *readers):
        t.join(PATIENCE)
        assert not t.is_alive()
    assert errors == []
    assert seen == [42] * 6


def test_a_module_that_fails_to_run_raises_and_is_not_left_half_imported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = "chipwar_broken_probe_module"
    (tmp_path / f"{name}.py").write_text("raise RuntimeError('broken on purpose')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    finder = lazy_imports._DeferringFinder(frozenset({name}))
    sys.meta_path.insert(0, finder)
    try:
        module = __import__(name)
        with pytest.raises(RuntimeError, match="broken on purpose"):
            _ = module.anything
        assert name not in sys.modules
    finally:
        sys.meta_path.remove(finder)
        sys.modules.pop(name, None)


def test_stop_deferring_runs_what_is_pending_and_defers_nothing_new(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    names = ("chipwar_pending_probe_a", "chipwar_pending_probe_b")
    for name in names:
        (tmp_path / f"{name}.py").write_text("VALUE = 7\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    finder = lazy_imports._DeferringFinder(frozenset(names))
    saved = list(sys.meta_path)
    sys.meta_path.insert(0, finder)
    try:
        __import__(names[0])
        assert lazy_imports.is_deferred(names[0])
        lazy_imports.stop_deferring()
        assert not lazy_imports.is_deferred(names[0])
        assert sys.modules[names[0]].VALUE == 7
        __import__(names[1])
        assert not lazy_imports.is_deferred(names[1])
    finally:
        sys.meta_path[:] = saved
        for name in names:
            sys.modules.pop(name, None)


# --- who switches deferral on: the command line, never a library import -------------------------
def _fresh(code: str) -> str:
    """The last line ``code`` prints in a fresh interpreter (deferral not forced either way)."""
    import os

    env = {k: v for k, v in os.environ.items() if k != "CHIPWAR_EAGER_IMPORTS"}
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    return done.stdout.strip().splitlines()[-1]


def test_importing_the_library_never_installs_the_hook() -> None:
    found = _fresh(
        """
        import json, sys
        import chipwar.world, chipwar.agents, chipwar.world.model
        from chipwar.world import lazy_imports
        hooks = [type(f).__name__ for f in sys.meta_path if "Deferring" in type(f).__name__]
        print(json.dumps({"hooks": hooks, "pandas": type(sys.modules["pandas"]).__name__}))
        """
    )
    assert json.loads(found) == {"hooks": [], "pandas": "module"}  # pandas ran as it was imported


@pytest.mark.parametrize(
    "call, installed",
    [
        ("sys.argv = ['chipwar', 'scenarios']; main()", True),  # the chipwar command
        ("main(['scenarios'])", False),  # called from Python with arguments
    ],
)
def test_the_command_line_entry_point_switches_deferral_on(call: str, installed: bool) -> None:
    found = _fresh(
        f"""
        import sys
        from chipwar.runs.cli.main import main
        from chipwar.world import lazy_imports
        assert not lazy_imports.is_installed()
        {call}
        print(lazy_imports.is_installed())
        """
    )
    assert found == str(installed)


@pytest.mark.slow
@pytest.mark.parametrize("parent_defers", [True, False])
def test_pool_workers_defer_imports_as_their_parent_does(tmp_path: Path, parent_defers: bool):
    (tmp_path / "chipwar_pool_probe.py").write_text(
        "def probe(_task):\n"
        "    import chipwar.world.model\n"
        "    from chipwar.world import lazy_imports\n"
        "    return [lazy_imports.is_installed(), lazy_imports.is_deferred('pandas')]\n",
        encoding="utf-8",
    )
    found = _fresh(
        f"""
        import json, sys
        sys.path.insert(0, {str(tmp_path)!r})
        from chipwar.world import lazy_imports
        if {parent_defers}:
            lazy_imports.install()  # as the chipwar command does
        from chipwar.runs.core.executors import open_executor, run_all
        from chipwar_pool_probe import probe
        with open_executor(2) as info:
            print(json.dumps(run_all(probe, [0, 1], info)))
        """
    )
    assert json.loads(found) == [[parent_defers, parent_defers]] * 2
