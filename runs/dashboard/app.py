"""The chipwar dashboard (Solara): explore the model, or run a wargame room from the browser.

Served by ``chipwar dashboard`` (``runs/dashboard_cli.py``). Which view a browser gets depends
on the address:

- without ``--session``: the explore view, open to anyone who can reach the server (it binds
  to 127.0.0.1 unless told otherwise);
- with ``--session FILE``: nothing without a join link (``/?token=...``). The facilitator's
  link opens the room's view (seats, advance, undo, the turn report and map) with links to the
  explore view and to each team's page; a team's link opens that team's page (its brief, its
  levers and actions, submit) and nothing else: ``&role=`` naming another role is refused.
"""

from __future__ import annotations

from urllib.parse import parse_qs, quote

import solara

from chipwar.runs.dashboard.explore import ExploreView
from chipwar.runs.dashboard.room import FacilitatorView, TeamView
from chipwar.runs.dashboard.state import SessionHub, config
from chipwar.runs.wargame.access import Grant

TITLE = "chipwar dashboard"


def _query(search: str | None) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(search or "", keep_blank_values=True).items()}


@solara.component
def NotAuthorised(reason: str):
    solara.Title(f"{TITLE}: not authorised")
    with solara.Card("Not authorised", classes=["chipwar-not-authorised"]):
        solara.Error(reason)
        solara.Text(
            "Open the join link the facilitator gave you (it ends in ?token=...); "
            "chipwar dashboard prints the links when it starts."
        )


@solara.component
def Nav(token: str, hub: SessionHub, current: str):
    """The facilitator's links: the room, the explore view and each team's page."""
    base = f"?token={quote(token)}"
    links = [("room", base), ("explore", f"{base}&view=explore")]
    links += [(f"team {r}", f"{base}&role={quote(r)}") for r in hub.session.roles]
    html = " · ".join(
        f"<b>{name}</b>" if name == current else f'<a href="{href}">{name}</a>'
        for name, href in links
    )
    solara.HTML("div", html, classes=["chipwar-nav"])


@solara.component
def Page():
    router = solara.use_router()
    query = _query(router.search)
    hub = config().hub
    if hub is None:
        solara.Title(f"{TITLE}: explore")
        ExploreView()
        return
    token = query.get("token", "")
    grant: Grant | None = hub.grant(token)
    if grant is None:
        reason = "This page needs a join link." if not token else "This link is not valid."
        NotAuthorised(reason + " No session data is shown without one.")
        return
    role = query.get("role") or None
    if not grant.facilitator:
        if role is not None and role != grant.role:
            NotAuthorised(
                f"This link is the {grant.role} team's: it cannot open another role's page."
            )
            return
        solara.Title(f"{TITLE}: {grant.role}")
        TeamView(hub, grant, grant.role)
        return
    if role is not None:
        if role not in hub.session.roles:
            NotAuthorised(f"The session has no role {role!r}.")
            return
        solara.Title(f"{TITLE}: {role} (facilitator)")
        Nav(token, hub, f"team {role}")
        TeamView(hub, grant, role)
    elif query.get("view") == "explore":
        solara.Title(f"{TITLE}: explore")
        Nav(token, hub, "explore")
        ExploreView()
    else:
        solara.Title(f"{TITLE}: room")
        Nav(token, hub, "room")
        FacilitatorView(hub, grant)
