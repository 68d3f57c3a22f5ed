"""Replay captions: events merged into readable lines that stay up long enough to read."""

from __future__ import annotations

from chipwar.viz.captions import (
    GIVE_WAY_S,
    CaptionFeed,
    caption_schedule,
    reading_seconds,
    step_captions,
)
from chipwar.world.calendar import format_month


def test_flips_and_busts_are_merged_biggest_country_first():
    names = {"IND": "India", "LSO": "Lesotho", "SGP": "Singapore", "THA": "Thailand"}
    population = {"IND": 1_400_000_000, "LSO": 2_000_000}
    events = [
        {"date": "2027-03", "kind": "stack_flip", "country": "LSO", "after": "cn"},
        {"date": "2027-03", "kind": "stack_flip", "country": "IND", "after": "cn"},
        {"date": "2027-03", "kind": "bust", "country": "SGP", "seized_h100e": 4000.0},
        {"date": "2027-03", "kind": "bust", "country": "THA", "seized_h100e": 8000.0},
        {"date": "2027-03", "kind": "policy", "text": "New rule", "origin": "timeline"},
    ]
    captions = step_captions(events, names, population)
    assert [c.kind for c in captions] == ["policy", "flip_cn", "bust"]
    assert captions[1].text == "Switch to the Chinese stack: India, Lesotho"
    assert captions[2].text == "2 smuggling rings busted in Singapore, Thailand: 12k H100e seized"


def test_captions_stay_up_long_enough_to_read_and_policies_are_not_lost():
    fps = 4
    frames = []
    for month in range(40):  # a flip every month, a policy every 5th month
        date = format_month(24300 + month)
        events = [{"date": date, "kind": "stack_flip", "country": "IND", "after": "cn"}]
        if month % 5 == 0:
            events.append({"date": events[0]["date"], "kind": "policy", "text": f"Rule {month}"})
        frames.append(events)
    schedule = caption_schedule(frames, {}, {}, slots=2, fps=fps)
    feed = CaptionFeed(2, fps)
    shown: dict[tuple, list[int]] = {}
    for frame, slots in enumerate(schedule):
        for slot, caption in enumerate(slots):
            if caption is not None:
                shown.setdefault((slot, caption), []).append(frame)
    for (_, caption), seen in shown.items():
        if seen[-1] < len(schedule) - 1:  # not cut off by the end of the video
            # Policies stay up for their reading time; a flip may give way to a policy sooner.
            needed = reading_seconds(caption) if caption.kind == "policy" else GIVE_WAY_S
            assert len(seen) >= feed.frames(needed), caption
    policies = {c.text for (_, c) in shown if c.kind == "policy"}
    # Every policy that arrived with time left to show it was shown (Rule 35 may wait for a slot
    # past the end of the video).
    assert {f"Rule {m}" for m in range(0, 35, 5)} <= policies


def test_shocks_get_their_own_captions_ranked_by_kind_and_size():
    def shock(mechanism, size, phase="start", **extra):
        base = {"date": "2027-03", "kind": "shock", "label": mechanism.title(), "text": "long"}
        return {**base, "mechanism": mechanism, "phase": phase, "size": size, **extra}

    events = [
        shock("capability", 1.2, side="cn"),
        shock("capability", 4.0, side="us"),
        shock("us_output", 0.03),
        shock("us_output", 0.03, "end"),
        shock("policy_reversal", 0.8, lever="us.kyc", **{"from": 0.9, "to": 0.18}),
        shock("smuggling_case", 0.2, country="SGP", seized_h100e=6000.0),
        shock("capability", 1.5, "diffusion", side="us"),
        {"date": "2027-03", "kind": "bust", "country": "SGP", "seized_h100e": 100.0},
    ]
    captions = step_captions(events, {"SGP": "Singapore"}, {})
    assert [c.kind for c in captions].count("shock") == 6  # an effect ending is no news
    assert [c.text for c in captions] == [
        "Capability by US labs: effective compute x4.0",
        "Policy_Reversal: us.kyc 0.90 to 0.18",
        "Capability by Chinese labs: effective compute x1.2",
        "Smuggling_Case in Singapore: 6,000 H100e seized",
        "Us_Output: US-bloc chip output -3%",
        "US labs catch up with the breakthrough: compute x1.5",
        "Smuggling ring busted in Singapore: 100 H100e seized",
    ]


def test_a_shock_waits_for_a_slot_like_a_policy_change():
    feed = CaptionFeed(1, fps=4)
    busy = step_captions([{"date": "2027-01", "kind": "policy", "text": "Rule"}], {}, {})
    feed.advance(0, busy)
    shock = {"date": "2027-01", "kind": "shock", "mechanism": "capability", "phase": "start"}
    feed.advance(1, step_captions([{**shock, "size": 3.0, "text": "Jump"}], {}, {}))
    shown = [feed.advance(frame, [])[0] for frame in range(2, 12)]
    assert any(c is not None and c.kind == "shock" for c in shown)
