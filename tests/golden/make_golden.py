"""Write the golden outputs that the restructure and later refactors must reproduce byte for byte.

Run from the repository root with the project's venv: ``python tests/golden/make_golden.py``.
It drives only the command line (``chipwar run``, ``wargame``, ``sweep``), so the files do not
depend on where the code lives. Regenerate them only when a change is *meant* to change the
model's numbers, and say so in the commit message.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent
DATA = HERE / "data"
PRESETS = ("current-policy", "loopholes-closed", "porous")
SEEDS = (1, 2)
SCALE = "1000"

SWEEP_SCENARIO = """name = "tiny-world"
history = false
branch = "2024-01"
scale = 1000
"""
SWEEP_SPEC = """name = "golden-sweep"
scenario = "tiny-world.toml"
horizon = "2024-09"
seed = 11
replications = 2

[design]
kind = "grid"

[factors."us.enforcement"]
values = [0.1, 0.9]

[factors."params.detection_base"]
values = [0.002, 0.02]

[outputs]
metrics = ["lead_months", "compute_gap", "smuggled_h100e_cum"]
dates = ["2024-09"]
countries = true
"""


def chipwar(*argv: str) -> None:
    command = [str(Path(sys.executable).parent / "chipwar"), *argv]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)


def wargame_script(folder: Path) -> None:
    """Two turns of a session with two human teams and bots, undo included, then export."""
    folder.mkdir(parents=True)
    game = str(folder / "game.json")
    chipwar(
        "wargame",
        "new",
        game,
        "--scenario",
        "current-policy",
        "--seed",
        "7",
        "--human",
        "us,china",
        "--scale",
        SCALE,
    )
    chipwar(
        "wargame", "move", game, "--role", "us", "--set", "enforcement=0.8", "--action", "raid:MYS"
    )
    chipwar("wargame", "move", game, "--role", "china", "--set", "smuggling_demand=0.9")
    chipwar("wargame", "advance", game)
    chipwar("wargame", "move", game, "--role", "us", "--set", "kyc=0.7")
    chipwar("wargame", "move", game, "--role", "china", "--set", "smuggling_demand=0.2")
    chipwar("wargame", "advance", game)
    chipwar("wargame", "export", game, "--out", str(folder / "export"))


# Files that hold secrets, locks, timings or rendered pictures (which depend on the installed
# matplotlib), not the model's results: left out of the golden set.
VOLATILE_NAMES = {".game.json.lock", "game.access.json", "game.json.good", "sessions.jsonl"}
VOLATILE_SUFFIXES = {".png", ".html"}


def generate(out: Path) -> None:
    """Every golden output, written under ``out`` by the command line, volatile files removed."""
    out.mkdir(parents=True, exist_ok=True)
    for preset in PRESETS:
        for seed in SEEDS:
            chipwar(
                "run",
                "--scenario",
                preset,
                "--seed",
                str(seed),
                "--scale",
                SCALE,
                "--out",
                str(out / "runs" / f"{preset}-{seed}"),
            )
    wargame_script(out / "wargame")
    sweep = out / "sweep-spec"
    sweep.mkdir()
    (sweep / "tiny-world.toml").write_text(SWEEP_SCENARIO)
    (sweep / "spec.toml").write_text(SWEEP_SPEC)
    chipwar("sweep", str(sweep / "spec.toml"), "--out", str(out / "sweep"), "--workers", "1")
    for path in list(out.rglob("*")):
        if path.is_file() and (path.name in VOLATILE_NAMES or path.suffix in VOLATILE_SUFFIXES):
            path.unlink()


def main() -> None:
    if DATA.exists():
        shutil.rmtree(DATA)
    generate(DATA)


if __name__ == "__main__":
    main()
