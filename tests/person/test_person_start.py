"""A person starts a consultation: welcome -> emergency check -> information -> identification.

The real windowed kiosk (`kiosk demo` on Xvfb), touched from outside like a
hand: presses of 80-300 ms at the place the probe gives, a reading pause
before each answer. Every tap must change what it should (the screen, or the
question / page number): a tap that changes nothing is lost, and none may be.

This is the skeleton of the whole consultation test (issue 11): identity,
consent, measurements, the call with the doctor in Chromium, the end.
Figures (taps, lost taps, screens built) go to <tmp>/person.json; keep the
folder with `--basetemp` to look at the screenshots.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from tests.person.session import person_session, reading_pause, screen_is

pytestmark = [pytest.mark.person, pytest.mark.integration, pytest.mark.timeout(600)]


def test_a_person_goes_from_welcome_to_identification(tmp_path: Path) -> None:
    rng = random.Random(11)
    with person_session(tmp_path) as (kiosk, hand):
        first = hand.wait_for(lambda s: s["screen"] == "welcome", 30, "show the welcome screen")
        hand.screenshot("welcome")
        hand.read_pause(reading_pause(rng))
        snap = hand.tap_until("start", screen_is("emergency-check", index=1))
        total = snap["view"]["total"]
        for n in range(1, total + 1):
            hand.read_pause(reading_pause(rng))  # the person reads the question, then answers
            after = (
                screen_is("emergency-check", index=n + 1)
                if n < total
                else screen_is("information", index=1)
            )
            snap = hand.tap_until("no", after)
        hand.screenshot("information-1")
        pages = snap["view"]["total"]
        for n in range(1, pages + 1):
            hand.read_pause(reading_pause(rng))
            after = (
                screen_is("information", index=n + 1) if n < pages else screen_is("identification")
            )
            snap = hand.tap_until("next", after)
        hand.screenshot("identification")
        assert snap["screen"] == "identification"
        assert kiosk.alive(), "the kiosk ended during the test"
        taps = len(hand.taps)
        lost = list(hand.lost_taps)
        end, start = snap.get("builds"), first.get("builds")  # None: a window without the counter
        builds = end - start if end is not None and start is not None else None
    figures = json.loads((tmp_path / "person.json").read_text("utf-8"))
    print(
        f"person: {taps} taps, {len(lost)} lost, {builds} screens built, exit {figures['kiosk_exit']}"
    )
    assert taps == 1 + total + pages
    assert lost == [], f"{len(lost)} tap(s) changed nothing: {lost}"
    # One screen built per tap that moves on (plus the first): not one a second.
    assert builds is None or builds <= taps + 2, f"{builds} screens built for {taps} taps"
    assert figures["kiosk_exit"] == "exit 0"
