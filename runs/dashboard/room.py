"""The dashboard's wargame views: the facilitator's room screen and each team's page.

Every read and every change goes through :class:`~chipwar.runs.dashboard.state.SessionHub` with the
grant of the page's token, so the rules live on the server: a team's page gets its own brief
only and its moves are refused for any other role; only the facilitator's page can advance or
undo. Pages poll the hub's version once a second to show what other pages (or the command
line, on the same session file) changed.
"""

from __future__ import annotations

import html
import threading

import solara

from chipwar.runs.dashboard.figures import png, share_map
from chipwar.runs.dashboard.state import SessionHub, markdown_html
from chipwar.runs.wargame.access import Grant
from chipwar.runs.wargame.roles import INTEL, Role
from chipwar.world.errors import InputError
from chipwar.world.stacks import STACK_CN

POLL_SECONDS = 1.0


def use_hub_version(hub: SessionHub) -> int:
    """The hub's version, refreshed by a background poll (changes by others redraw the page)."""
    version, set_version = solara.use_state(hub.refresh())

    def poll(cancel: threading.Event) -> None:
        while not cancel.wait(POLL_SECONDS):
            current = hub.refresh()
            set_version(current)

    solara.use_thread(poll, dependencies=[])
    return version


def action_choices(role: Role) -> list[str]:
    """Every action the role may take this turn, targets spelled out (``raid:MYS``)."""
    out: list[str] = []
    for spec in role.actions:
        targets = role.action_targets(spec)
        out += [spec.name] if spec.target == "none" else [f"{spec.name}:{t}" for t in targets]
    return out


def _status_line(status: dict) -> str:
    if status["finished"]:
        return (
            f"Session {status['name']} has ended ({status['end']}): {status['turns_played']} turns."
        )
    turn = status["open_turn"]
    return (
        f"Session {status['name']} ({status['scenario']}, seed {status['seed']}): turn "
        f"{turn['number']} of {status['turns_total']} is open, {turn['from']} to {turn['to']}."
    )


@solara.component
def FacilitatorView(hub: SessionHub, grant: Grant):
    version = use_hub_version(hub)
    message = solara.use_reactive("")
    error = solara.use_reactive("")
    force = solara.use_reactive(False)
    status = hub.status()

    def act(what: str) -> None:
        message.set("")
        error.set("")
        try:
            if what == "advance":
                number = hub.advance(grant, force=force.value)
                message.set(f"Turn {number} played.")
            else:
                number = hub.undo(grant)
                message.set(f"Turn {number} undone; it is open again.")
        except InputError as err:
            error.set(str(err))

    def map_png() -> bytes:
        date, shares, _official = hub.latest_shares()
        return png(share_map(shares[:, STACK_CN], f"Adoption of the Chinese AI stack, {date}"))

    world = solara.use_memo(map_png, [version])
    report = hub.report_view(grant)
    key = report.key if report is not None else ""
    # The report's text shows at once; its charts are drawn off the session's lock, then shown.
    charts = solara.use_thread(
        lambda: hub.report_charts(grant, key) if key else None, dependencies=[key]
    )

    with solara.Column(classes=["chipwar-facilitator"]):
        solara.Text(_status_line(status), classes=["chipwar-status"])
        if hub.last_error:
            solara.Warning(hub.last_error)
        with solara.Columns([2, 3]):
            with solara.Column():
                with solara.Card("Seats"):
                    rows = []
                    for seat in status["roles"]:
                        if seat["moved"]:
                            state = "moved"
                        elif seat["player"] == "human":
                            state = "waiting"
                        else:
                            state = f"bot ({seat['personality']})"
                        cells = [seat["role"], seat["title"], seat["player"]]
                        rows.append(
                            f"<tr data-role='{html.escape(seat['role'])}'>"
                            + "".join(f"<td>{html.escape(c)}</td>" for c in cells)
                            + f"<td class='chipwar-seat-state'>{html.escape(state)}</td></tr>"
                        )
                    solara.HTML(
                        "table",
                        "<tr><th>role</th><th>seat</th><th>player</th><th>this turn</th></tr>"
                        + "".join(rows),
                        classes=["chipwar-seats"],
                    )
                    waiting = status["waiting_for"]
                    solara.Text(
                        "Waiting for: " + ", ".join(waiting)
                        if waiting
                        else "Every team has moved.",
                        classes=["chipwar-waiting"],
                    )
                with solara.Card("Turn"):
                    solara.Checkbox(label="force (carry over missing moves)", value=force)
                    with solara.Row():
                        solara.Button(
                            "Advance turn",
                            color="primary",
                            on_click=lambda: act("advance"),
                            disabled=status["finished"],
                        )
                        solara.Button(
                            "Undo last turn",
                            on_click=lambda: act("undo"),
                            disabled=status["turns_played"] == 0,
                        )
                    if message.value:
                        solara.Success(message.value)
                    if error.value:
                        solara.Error(error.value)
                headline = status["headline"]
                if headline.get("compute_gap") is not None:
                    solara.Text(
                        f"As of {status['date']}: compute gap {headline['compute_gap']:.2f}x, "
                        f"US lead {headline['lead_months']:.1f} months, "
                        f"{headline['countries_official_cn']} countries on an official "
                        "Chinese stack.",
                        classes=["chipwar-headline"],
                    )
            with solara.Column():
                solara.Image(world, format="png", width="100%", classes=["chipwar-map"])
        with solara.Card("Turn report", classes=["chipwar-report"]):
            if report is None:
                solara.Text("No turn played yet: the report appears after the first advance.")
            else:
                full = charts.value if charts.state == solara.ResultState.FINISHED else None
                if full is None:
                    solara.Text("Drawing the charts...", classes=["chipwar-report-drawing"])
                solara.HTML("div", full or report.text_html, classes=["chipwar-report-body"])


@solara.component
def TeamView(hub: SessionHub, grant: Grant, role_id: str):
    use_hub_version(hub)  # redraw when the session changes
    role: Role = hub.role(role_id)
    brief = hub.brief(grant, role_id)
    pending = hub.pending(grant, role_id)
    status = hub.status()
    choices = action_choices(role)
    starting = {key: float(brief.lever(key) or 0.0) for key in role.levers}
    starting[INTEL] = float(brief.intel)
    if pending is not None:
        starting.update(pending.set)
    values = solara.use_reactive(starting)
    chosen = solara.use_reactive(list(pending.actions) if pending else [])
    note = solara.use_reactive(pending.note if pending else "")
    message = solara.use_reactive("")
    error = solara.use_reactive("")

    def reset_controls() -> None:
        values.set(dict(starting))
        chosen.set(list(pending.actions) if pending else [])

    solara.use_effect(reset_controls, [status["turns_played"]])

    def submit() -> None:
        message.set("")
        error.set("")
        base = {key: float(brief.lever(key) or 0.0) for key in role.levers}
        base[INTEL] = float(brief.intel)
        settings = {k: v for k, v in values.value.items() if round(v, 6) != round(base[k], 6)}
        try:
            move = hub.submit(grant, role_id, settings, list(chosen.value), note.value)
        except InputError as err:
            error.set(str(err))
            return
        shown = ", ".join([f"{k}={v:g}" for k, v in move.set.items()] + move.actions)
        message.set(
            f"Move recorded for turn {status['open_turn']['number']}: {shown or 'no change'}."
        )

    def withdraw() -> None:
        try:
            hub.withdraw(grant, role_id)
            message.set("Move withdrawn.")
        except InputError as err:
            error.set(str(err))

    def toggle(action: str, on: bool) -> None:
        current = [a for a in chosen.value if a != action]
        chosen.set([*current, action] if on else current)

    with solara.Column(classes=["chipwar-team", f"chipwar-team-{role_id}"]):
        solara.Text(
            f"{role.title} ({role_id}). " + _status_line(status), classes=["chipwar-status"]
        )
        with solara.Columns([2, 3]):
            with solara.Column(), solara.Card("Your move"):
                if status["finished"]:
                    solara.Text("The session has ended.")
                else:
                    for key in [*role.levers, INTEL]:
                        solara.SliderFloat(
                            f"{key}  {values.value.get(key, 0.0):.2f}",  # the value, always shown
                            value=values.value.get(key, 0.0),
                            min=0.0,
                            max=1.0,
                            step=0.05,
                            on_value=lambda v, key=key: values.set({**values.value, key: float(v)}),
                        )
                    if choices:
                        solara.Text("Actions (at most 3):")
                        for action in choices:
                            solara.Checkbox(
                                label=action,
                                value=action in chosen.value,
                                on_value=lambda on, action=action: toggle(action, on),
                            )
                    solara.InputText("note (kept in the log)", value=note)
                    with solara.Row():
                        solara.Button("Submit move", color="primary", on_click=submit)
                        if pending is not None:
                            solara.Button("Withdraw move", on_click=withdraw)
                    state = (
                        "Your move for this turn is recorded."
                        if pending
                        else ("You have not moved this turn.")
                    )
                    solara.Text(state, classes=["chipwar-move-state"])
                if message.value:
                    solara.Success(message.value)
                if error.value:
                    solara.Error(error.value)
            with (
                solara.Column(),
                solara.Card(f"Brief: turn {brief.turn}", classes=["chipwar-brief"]),
            ):
                solara.HTML("div", markdown_html(brief.to_markdown()))
