"""The dashboard in a real browser: explore, teams moving, the facilitator advancing, access.

One `chipwar dashboard --session` server for the module (a small session: 3,000 adopters, two
human teams). The tests run in file order and share the session's state: two teams move
(through the page and through the command line), the facilitator advances, undoes and
advances again. Screenshots of each view go to test-artifacts/screenshots/.
"""

from __future__ import annotations

import json
import subprocess

import pytest
from dashboard_helpers import chipwar_command, screenshot_dir, wait_for_app

pytestmark = [pytest.mark.browser, pytest.mark.slow]

expect = pytest.importorskip("playwright.sync_api", reason="playwright is not installed").expect
WAIT = 30_000  # ms: the machine is small and shared
VIEWPORT = {"width": 1400, "height": 1000}


@pytest.fixture
def context(browser):
    ctx = browser.new_context(viewport=VIEWPORT)
    yield ctx
    ctx.close()


def open_page(context, url: str):
    page = context.new_page()
    page.goto(url)
    wait_for_app(page)
    return page


def slider(page, label: str):
    return page.locator(".v-input", has_text=label).locator("[role=slider]").first


def seat_state(page, role: str):
    return page.locator(f"tr[data-role='{role}'] .chipwar-seat-state")


# True once the page has been still for three animation frames in a row: no finite CSS
# transition or animation running (a spinner's endless one does not count), every image loaded.
STILL = """() => {
    const moving = document.getAnimations().some(
        (a) => a.playState === "running" && a.effect?.getComputedTiming().iterations !== Infinity
    );
    const loading = Array.from(document.images).some((img) => !img.complete);
    window.__chipwarStill = moving || loading ? 0 : (window.__chipwarStill || 0) + 1;
    return window.__chipwarStill >= 3;
}"""


def shot(page, name: str) -> None:
    """A PNG of the whole view: a tall window, so that nothing is scrolled away, taken once the
    page has stopped moving."""
    page.set_viewport_size({"width": VIEWPORT["width"], "height": 2400})
    page.evaluate("window.__chipwarStill = 0")
    page.wait_for_function(STILL, polling="raf", timeout=WAIT)
    page.screenshot(path=str(screenshot_dir() / f"{name}.png"), full_page=True)
    page.set_viewport_size(VIEWPORT)


def pending_moves(dashboard) -> dict:
    return json.loads(dashboard.session.read_text())["pending"]


def test_explore_shows_a_map_and_a_lever_change_then_run_changes_the_chart(dashboard, context):
    page = open_page(context, dashboard.link("facilitator", view="explore"))
    expect(page.get_by_text("run 1, as of 2030-12")).to_be_visible(timeout=WAIT)
    world = page.locator(".chipwar-map")
    chart = page.locator(".chipwar-chart")
    expect(world).to_be_visible()
    assert world.bounding_box()["width"] > 400  # a real map, not an empty image
    headline = page.locator(".chipwar-explore-headline")

    page.get_by_role("button", name="Run", exact=True).click()  # same settings: same run
    expect(page.get_by_text("run 2, as of 2030-12")).to_be_visible(timeout=WAIT)
    before_text, before_chart = headline.inner_text(), chart.screenshot()

    for label in ("us.china_chip_sales", "china.domestic_investment"):
        slider(page, label).focus()
        slider(page, label).press("Home")  # to 0: no licensed chips, no domestic push
        expect(slider(page, label)).to_have_attribute("aria-valuenow", "0", timeout=WAIT)
    page.get_by_role("button", name="Run", exact=True).click()
    expect(page.get_by_text("run 3, as of 2030-12")).to_be_visible(timeout=WAIT)
    after_text = headline.inner_text()
    assert after_text != before_text, after_text
    assert chart.screenshot() != before_chart
    shot(page, "explore")


def test_a_team_submits_a_move_and_the_facilitator_sees_it(dashboard, browser):
    room = browser.new_context(viewport=VIEWPORT)
    team = browser.new_context(viewport=VIEWPORT)
    try:
        facilitator = open_page(room, dashboard.link("facilitator"))
        expect(seat_state(facilitator, "us")).to_have_text("waiting", timeout=WAIT)
        us = open_page(team, dashboard.link("us"))
        expect(us.locator(".chipwar-brief")).to_contain_text("Brief for US government")
        slider(us, "us.enforcement").focus()
        slider(us, "us.enforcement").press("End")
        expect(slider(us, "us.enforcement")).to_have_attribute("aria-valuenow", "1", timeout=WAIT)
        us.locator("label", has_text="raid:MYS").click()
        us.get_by_role("button", name="Submit move").click()
        expect(us.get_by_text("Move recorded for turn 1")).to_be_visible(timeout=WAIT)
        shot(us, "team-us")
        # The room's page was open all along: it learns of the move without a reload.
        expect(seat_state(facilitator, "us")).to_have_text("moved", timeout=WAIT)
        expect(seat_state(facilitator, "china")).to_have_text("waiting")
        move = pending_moves(dashboard)["us"]
        assert move["set"] == {"us.enforcement": 1.0}
        assert move["actions"] == ["raid:MYS"]
    finally:
        room.close()
        team.close()


def test_the_command_line_and_the_page_work_on_the_same_session(dashboard, context):
    facilitator = open_page(context, dashboard.link("facilitator"))
    expect(seat_state(facilitator, "china")).to_have_text("waiting", timeout=WAIT)
    moved = subprocess.run(
        [
            *chipwar_command(),
            *("wargame", "move", str(dashboard.session)),
            *("--role", "china", "--set", "smuggling_demand=0.2"),
        ],
        capture_output=True,
        text=True,
    )
    assert moved.returncode == 0, moved.stderr
    expect(seat_state(facilitator, "china")).to_have_text("moved", timeout=WAIT)
    status = subprocess.run(
        [*chipwar_command(), "wargame", "status", str(dashboard.session), "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    seats = {s["role"]: s["moved"] for s in json.loads(status.stdout)["roles"]}
    assert seats["us"] and seats["china"]  # the page's move (us) is in the file too


def test_two_teams_on_their_own_browsers_submit_and_the_facilitator_sees_both(dashboard, browser):
    contexts = [browser.new_context(viewport=VIEWPORT) for _ in range(3)]
    try:
        facilitator = open_page(contexts[0], dashboard.link("facilitator"))
        us = open_page(contexts[1], dashboard.link("us"))
        china = open_page(contexts[2], dashboard.link("china"))
        for page, label, key in (
            (us, "us.kyc", "End"),
            (china, "china.smuggling_demand", "End"),
        ):
            slider(page, label).focus()
            slider(page, label).press(key)
            expect(slider(page, label)).to_have_attribute("aria-valuenow", "1", timeout=WAIT)
        china.locator("label", has_text="buying-spree").click()
        # Both submit before either answer is awaited.
        us.get_by_role("button", name="Submit move").click()
        china.get_by_role("button", name="Submit move").click()
        for page in (us, china):
            expect(page.get_by_text("Move recorded for turn 1")).to_be_visible(timeout=WAIT)
        shot(china, "team-china")
        expect(seat_state(facilitator, "us")).to_have_text("moved", timeout=WAIT)
        expect(seat_state(facilitator, "china")).to_have_text("moved", timeout=WAIT)
        expect(facilitator.locator(".chipwar-waiting")).to_have_text("Every team has moved.")
        pending = pending_moves(dashboard)
        assert pending["us"]["set"] == {"us.enforcement": 1.0, "us.kyc": 1.0}
        assert pending["china"]["set"] == {"china.smuggling_demand": 1.0}
        assert pending["china"]["actions"] == ["buying-spree"]
        shot(facilitator, "facilitator-before-advance")
    finally:
        for ctx in contexts:
            ctx.close()


def test_advancing_shows_the_new_report_and_undo_takes_it_back(dashboard, context):
    page = open_page(context, dashboard.link("facilitator"))
    report = page.locator(".chipwar-report")
    expect(report).to_contain_text("No turn played yet", timeout=WAIT)
    page.get_by_role("button", name="Advance turn").click()
    expect(report).to_contain_text("Turn 1: 2026-06 to 2026-11", timeout=WAIT)
    expect(report).to_contain_text("Why China's effective compute changed")
    expect(report.locator("img")).to_have_count(3)  # the report's three charts
    expect(page.locator(".chipwar-status")).to_contain_text("turn 2 of 10 is open")
    shot(page, "facilitator-after-advance")

    page.get_by_role("button", name="Undo last turn").click()
    expect(report).to_contain_text("No turn played yet", timeout=WAIT)
    expect(page.locator(".chipwar-status")).to_contain_text("turn 1 of 10 is open")
    # Undo drops the pending moves: advancing now needs every team, or force.
    page.get_by_role("button", name="Advance turn").click()
    expect(page.get_by_text("a move from every human role first")).to_be_visible(timeout=WAIT)
    page.get_by_text("force (carry over missing moves)").click()
    page.get_by_role("button", name="Advance turn").click()
    expect(report).to_contain_text("carried over: us, china", timeout=WAIT)
    assert len(json.loads(dashboard.session.read_text())["turns"]) == 1


def test_a_team_link_sees_only_its_own_brief_and_page(dashboard, context):
    us = open_page(context, dashboard.link("us"))
    expect(us.locator(".chipwar-brief")).to_contain_text("Brief for US government", timeout=WAIT)
    expect(us.locator(".chipwar-brief")).to_contain_text("turn 2")
    assert "PRC government (" not in us.content()
    assert us.locator("button", has_text="Advance turn").count() == 0

    other = open_page(context, dashboard.link("us", role="china"))
    expect(other.locator(".chipwar-not-authorised")).to_contain_text("cannot open another role")
    assert "Brief for" not in other.content()
    assert other.locator("[role=slider]").count() == 0
    shot(other, "team-us-asks-for-china-refused")

    for name, url in (("no-link", dashboard.url), ("bad-link", f"{dashboard.url}?token=x")):
        page = open_page(context, url)
        expect(page.locator(".chipwar-not-authorised")).to_be_visible()
        assert "Brief for" not in page.content() and "Seats" not in page.content()
        shot(page, f"{name}-refused")
