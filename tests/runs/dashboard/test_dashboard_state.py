"""The dashboard's server side without a browser: the session hub, the explore model, HTML.

The hub writes a turn's files in a background thread; tests wait for that thread (failing if it
is still writing after a generous time) and hold it at a point (runs/core/faults.py) to make an
undo land while the files are pending, instead of hoping a sleep lines the two up.
"""

from __future__ import annotations

import json

import pytest
from helpers import small_scenario
from reliability import PATIENCE
from sweep_helpers import scaled_scenario, session_options

from chipwar.runs.core import faults
from chipwar.runs.dashboard.explore import ExploreRun, preset_levers
from chipwar.runs.dashboard.room import action_choices
from chipwar.runs.dashboard.state import SessionHub, markdown_html, report_body
from chipwar.runs.wargame.access import AccessTokens
from chipwar.runs.wargame.session import Session
from chipwar.world.errors import InputError


@pytest.fixture
def hub(tmp_path) -> SessionHub:
    path = tmp_path / "game.json"
    session = Session.new(
        path,
        scaled_scenario(small_scenario()),
        seed=4,
        humans=["us", "china"],
        **session_options(2, 3),
    )
    tokens = AccessTokens.issue("game", session.roles)
    return SessionHub(Session.open(path), tokens, write_files=False)


def grants(hub: SessionHub):
    return (
        hub.grant(hub.tokens.facilitator),
        hub.grant(hub.tokens.roles["us"]),
        hub.grant(hub.tokens.roles["china"]),
    )


def test_a_team_moves_only_for_its_own_role_and_the_file_is_untouched_when_refused(hub):
    _facilitator, us, _china = grants(hub)
    before = hub.session.path.read_bytes()
    with pytest.raises(InputError, match="a team's link sees and moves only for its own role"):
        hub.submit(us, "china", {"smuggling_demand": 1.0}, [])
    with pytest.raises(InputError):
        hub.brief(us, "china")
    with pytest.raises(InputError):
        hub.submit(None, "us", {"enforcement": 1.0}, [])
    assert hub.session.path.read_bytes() == before
    move = hub.submit(us, "us", {"enforcement": 0.9}, ["kyc-rule"], "note")
    assert move.set == {"us.enforcement": 0.9}
    assert json.loads(hub.session.path.read_text())["pending"]["us"]["actions"] == ["kyc-rule"]


def test_only_the_facilitator_advances_undoes_and_reads_the_report(hub):
    facilitator, us, _china = grants(hub)
    for call in (lambda: hub.advance(us, force=True), lambda: hub.undo(us)):
        with pytest.raises(InputError, match="facilitator"):
            call()
    with pytest.raises(InputError):
        hub.report_view(us)
    assert hub.report_view(facilitator) is None
    version = hub.version
    assert hub.advance(facilitator, force=True) == 1
    assert hub.version > version
    view = hub.report_view(facilitator)
    assert view.turn == 1 and "Turn 1:" in view.text_html and "<img" not in view.text_html
    with pytest.raises(InputError):
        hub.report_charts(us, view.key)
    full = hub.report_charts(facilitator, view.key)
    assert full.count("data:image/png;base64,") == 3 and "Turn 1:" in full
    assert hub.undo(facilitator) == 1
    assert hub.session.turns_played == 0


def _show_report(hub: SessionHub, facilitator) -> None:
    """What the facilitator's page does after an advance: show the text, then ask for charts."""
    view = hub.report_view(facilitator)
    assert hub.report_charts(facilitator, view.key).count("data:image/png;base64,") == 3


def test_an_advance_from_the_page_writes_what_the_command_line_writes(hub):
    facilitator = hub.grant(hub.tokens.facilitator)
    hub.write_files = True
    hub.advance(facilitator, force=True)
    _show_report(hub, facilitator)  # the writer waits for a page to have shown the report
    assert hub.wait_for_files(PATIENCE), "the turn's files were still being written"
    folder = hub.session.path.with_suffix(".d")
    names = {p.name for p in (folder / "turn-01").iterdir()}
    assert names == {
        "report.md",
        "report.html",
        "china_compute.png",
        "lead_gap.png",
        "adoption.png",
    }
    assert (folder / "briefs" / "us" / "turn-02.md").read_text().startswith("# Brief for US")
    assert hub.last_error is None
    hub.undo(facilitator)  # the session's undo removes them, as `wargame undo` does
    assert not (folder / "turn-01").exists()


def test_an_undo_while_the_turn_files_are_pending_leaves_no_files(hub):
    facilitator = hub.grant(hub.tokens.facilitator)
    hub.write_files = True
    folder = hub.session.path.with_suffix(".d")
    with faults.hold("before-turn-files") as gate:
        hub.advance(facilitator, force=True)
        _show_report(hub, facilitator)
        assert gate.arrived.wait(PATIENCE), "the writer never got to the turn's files"
        assert hub.undo(facilitator) == 1  # while the writer waits for the lock
        assert not hub.wait_for_files(0)  # still held
    assert hub.wait_for_files(PATIENCE), "the turn's files were still being written"
    assert not (folder / "turn-01").exists() and not (folder / "briefs").exists()
    assert hub.last_error is None and hub.session.turns_played == 0


def test_changes_by_another_process_reach_the_hub(hub):
    _f, us, _c = grants(hub)
    version = hub.refresh()
    assert hub.refresh() == version  # nothing changed: no re-read
    other = Session.open(hub.session.path, keep_checkpoint=False)  # e.g. `wargame move`
    other.submit("china", {"smuggling_demand": 0.2})
    assert hub.refresh() == version + 1
    assert "china" in hub.session.record.pending
    hub.submit(us, "us", {"kyc": 1.0}, [])  # the page's move keeps the other's
    assert set(Session.open(hub.session.path).record.pending) == {"us", "china"}


def test_a_token_for_a_role_the_session_lacks_grants_nothing(hub):
    hub.tokens.roles["bloc-africa"] = "b" * 43
    assert hub.grant("b" * 43) is None
    assert hub.grant("nonsense") is None


def test_brief_html_is_escaped_and_reports_keep_only_their_body():
    out = markdown_html("# Brief\n\nnote <script>alert(1)</script> and `raid:<HUB>`\n")
    assert "<script>" not in out and "&lt;script&gt;" in out
    assert "<code>raid:&lt;HUB&gt;</code>" in out
    assert report_body("<html><body><h1>x</h1></body></html>") == "<h1>x</h1>"


def test_action_choices_spell_out_targets(hub):
    choices = action_choices(hub.session.roles["us"])
    assert "kyc-rule" in choices and any(c.startswith("raid:") for c in choices)
    assert "raid" not in choices


def test_explore_levers_change_the_outcome_and_a_step_applies_moved_sliders():
    levers = preset_levers("current-policy")
    base = ExploreRun("current-policy", 1, dict(levers), scale=1000)
    base.run()
    again = ExploreRun("current-policy", 1, dict(levers), scale=1000)
    again.run()
    assert base.headline() == again.headline()  # same settings, same seed: same run
    changed = ExploreRun("current-policy", 1, {**levers, "us.china_chip_sales": 0.0}, scale=1000)
    changed.run()
    assert changed.headline()["lead"] != base.headline()["lead"]
    assert changed.runs == 1 and base.previous is None

    stepped = ExploreRun("current-policy", 1, dict(levers), scale=1000)
    stepped.step(3)
    assert stepped.model.months == 3
    stepped.levers["us.china_chip_sales"] = 0.0
    stepped.step(40)  # past the branch (2026-06): the moved slider applies there
    assert stepped.model.levers.get("us.china_chip_sales") == 0.0
    assert stepped.applied["us.china_chip_sales"] == 0.0
