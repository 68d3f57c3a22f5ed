"""The dashboard's explore view: a preset, lever sliders, run or step, the map and the charts.

Mesa style: the model is a plain :class:`ChipWarModel` built from the preset with the sliders'
levers (canonical keys such as ``us.enforcement``, world/levers.py), and the sliders are Mesa's
``UserInputs`` of ``Slider`` parameters. Levers act from the scenario's branch date (the real
policy timeline drives the months before it), so:

- **Run** builds a fresh model with the preset, the seed and the sliders, and runs it to the end
  (the last run stays on the chart, dashed, to compare);
- **Step** plays the next six months of the current model; sliders moved since the model was
  built take effect from the next month (or at the branch date, if the model is before it);
- **Reset** goes back to the first month.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd
import solara
from mesa.visualization.solara_viz import UserInputs
from mesa.visualization.user_param import Slider

from chipwar.runs.dashboard.figures import headline_chart, png, share_map
from chipwar.runs.dashboard.state import EXPLORE_MONTHS, config
from chipwar.world.calendar import parse_month
from chipwar.world.levers import lever_keys
from chipwar.world.model import ChipWarModel
from chipwar.world.scenario import load_scenario, preset_names, with_overrides
from chipwar.world.stacks import STACK_CN

DEFAULT_PRESET = "current-policy"


def preset_levers(preset: str) -> dict[str, float]:
    """The levers a preset sets at its branch date (the sliders' starting values)."""
    return load_scenario(preset).levers.flat()


@dataclass
class ExploreRun:
    """One browser's explore model and the run before it (plain state, no widgets)."""

    preset: str
    seed: int
    levers: dict[str, float]
    scale: int | None = None
    model: ChipWarModel = field(init=False)
    applied: dict[str, float] = field(init=False)
    previous: pd.DataFrame | None = None
    runs: int = 0  # runs started with Run, shown on the page

    def __post_init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        scenario = with_overrides(load_scenario(self.preset), self.levers, source="explore")
        self.model = ChipWarModel(scenario, rng=self.seed, scale=self.scale)
        self.applied = dict(self.levers)

    def step(self, months: int = EXPLORE_MONTHS) -> None:
        """Play ``months`` months; lever changes since the last step apply from the next month."""
        model = self.model
        changed = {k: v for k, v in self.levers.items() if self.applied.get(k) != v}
        if changed and model.running:
            branch = parse_month(model.spec.branch) if model.spec.history else 0
            ahead = max(0, branch - (model.start_month + model.months))
            model.schedule_change(changed, "explore: levers moved", months_ahead=ahead)
            self.applied.update(changed)
        for _ in range(months):
            if not model.running:
                break
            model.step()

    def run(self) -> None:
        """A fresh model with the current settings, run to its last month."""
        if self.model.months:
            self.previous = self.series()
        self.reset()
        self.runs += 1
        while self.model.running:
            self.model.step()

    def series(self) -> pd.DataFrame:
        return self.model.series_table()

    def headline(self) -> dict[str, str]:
        """Numbers shown above the charts: the last month, and 2028-12 once it is reached."""
        frame = self.series()
        if frame.empty:
            return {"date": "not started", "gap": "-", "lead": "-", "lead_2028": "-"}
        last = frame.iloc[-1]
        at = frame[frame["date"] == "2028-12"]
        return {
            "date": str(last["date"]),
            "gap": f"{float(last['compute_gap']):.2f}x",
            "lead": f"{float(last['lead_months']):.1f}",
            "lead_2028": f"{float(at['lead_months'].iloc[0]):.1f}" if len(at) else "-",
        }


@solara.component
def ExploreView():
    scale = config().scale
    preset = solara.use_reactive(DEFAULT_PRESET)
    seed = solara.use_reactive(0)
    levers = solara.use_reactive(preset_levers(DEFAULT_PRESET))
    tick, set_tick = solara.use_state(0)
    error = solara.use_reactive("")

    def first_run() -> ExploreRun:
        explore = ExploreRun(DEFAULT_PRESET, 0, preset_levers(DEFAULT_PRESET), scale)
        explore.run()  # the page opens on the preset's path to the end
        return explore

    run = solara.use_memo(first_run, [])

    def redraw() -> None:
        set_tick(lambda t: t + 1)

    def on_preset(name: str) -> None:
        preset.set(name)
        levers.set(preset_levers(name))

    def on_lever(key: str, value: float) -> None:
        levers.set({**levers.value, key: float(value)})

    def configure_run() -> None:
        run.preset, run.seed, run.levers = preset.value, int(seed.value), dict(levers.value)

    def do_run() -> None:
        error.set("")
        configure_run()
        run.run()
        redraw()

    def do_step() -> None:
        error.set("")
        if run.preset != preset.value or run.seed != int(seed.value) or not run.model.running:
            configure_run()  # another preset or seed, or the last run ended: from the start
            run.reset()
        run.levers = dict(levers.value)
        run.step()
        redraw()

    def do_reset() -> None:
        configure_run()
        run.reset()
        redraw()

    with solara.Columns([1, 3]):
        with solara.Column():
            with solara.Card("Scenario"):
                solara.Select(
                    "preset", value=preset.value, values=preset_names(), on_value=on_preset
                )
                solara.InputInt("seed", value=seed)
                with solara.Row():
                    solara.Button("Run", color="primary", on_click=do_run)
                    solara.Button(f"Step {EXPLORE_MONTHS} months", on_click=do_step)
                    solara.Button("Reset", on_click=do_reset)
                solara.Text(
                    "Levers act from the branch date; before it the real 2024-26 policy "
                    "timeline drives them."
                )
            with solara.Card("Levers"):
                UserInputs(
                    {
                        key: Slider(key, levers.value[key], 0.0, 1.0, 0.05, dtype=float)
                        for key in lever_keys()
                    },
                    on_change=on_lever,
                )
        with solara.Column():
            ExploreOutput(run, tick)
            if error.value:
                solara.Error(error.value)


@solara.component
def ExploreOutput(run: ExploreRun, tick: int):
    """The headline numbers, the world map and the chart of the explore model."""
    numbers = run.headline()
    model = run.model

    def figures() -> tuple[bytes, bytes]:
        shares = model.observe().shares[:, STACK_CN]
        world = share_map(shares, f"{run.preset}, seed {run.seed}: {numbers['date']}")
        chart = headline_chart(run.series(), run.previous)
        return png(world), png(chart)

    world_png, chart_png = solara.use_memo(figures, [tick, id(model)])
    title = f"{run.preset}, seed {run.seed} — run {run.runs}, as of {numbers['date']}"
    with solara.Card(title, classes=["chipwar-explore"]):
        with solara.Row(classes=["chipwar-explore-headline"]):
            solara.Text(f"compute gap {numbers['gap']}")
            solara.Text(f"US lead {numbers['lead']} months")
            solara.Text(f"US lead at 2028-12: {numbers['lead_2028']} months")
        solara.Image(world_png, format="png", width="100%", classes=["chipwar-map"])
        solara.Image(chart_png, format="png", width="100%", classes=["chipwar-chart"])
