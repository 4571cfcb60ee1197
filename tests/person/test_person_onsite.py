"""The on-site person's screens, used like a hand uses them (issue 15, docs/onsite.md).

The real windowed kiosk (`kiosk demo` on its own Xvfb), a site that asks for
preparation between patients (`[site] preparation_required = true`) and an
`on-site-staff` account made by `kiosk accounts add`. Pressed from outside
through xdotool at the places the probe gives (80-300 ms presses, 3-5 keys a
second on the on-screen AZERTY keyboard, reading pauses):

1. A patient starts a session, opens Help, presses "Appeler quelqu'un",
   reads the sentence that replaces the button, closes Help, then stops the
   session ("Arrêter", confirmed).
2. The welcome screen gives way to "La cabine est en préparation" (the gate
   starts ready: only the end of a session asks for preparation). The staff
   member presses "Personnel : la cabine est prête", types their name,
   password and one-time code on the on-screen keys, presses "Confirmer".
3. The welcome screen is back, and a new session starts.

Every tap must change what it should (lost taps: none), every typed
character must stay in its field a second after the last key, and the kiosk
ends with exit 0. Figures in <tmp>/person.json, a screenshot per step in
<tmp>/shots (copied to $ONSITE_SHOTS when set).
"""

from __future__ import annotations

import json
import os
import random
import shutil
import time
from pathlib import Path
from typing import Any

import pytest

from tests.person.hand import Snapshot
from tests.person.onsite_helpers import (
    DRAGS,
    STAFF_PASSWORD,
    STAFF_USER,
    names,
    onsite_site,
    totp_now,
    type_into,
    words,
)
from tests.person.session import person_session, reading_pause, screen_is

pytestmark = [pytest.mark.person, pytest.mark.integration, pytest.mark.timeout(600)]

CALLED = (
    "Quelqu'un de l'équipe a été appelé. Si personne ne vient, allez au comptoir.",
    "Quelqu'un arrive.",
    "Personne n'a pu être appelé. Allez au comptoir, on vous aidera.",
)
PREPARING_TITLE = "La cabine est en préparation"


def preparing(snap: Snapshot) -> bool:
    """The preparing page: the staff's button shown, no way for a patient to start."""
    return "staff" in names(snap) and "start" not in names(snap)


def welcome(snap: Snapshot) -> bool:
    return snap.get("screen") == "welcome" and "start" in names(snap) and "staff" not in names(snap)


def test_the_onsite_person_prepares_the_cabin_and_a_patient_calls_for_help(
    tmp_path: Path,
) -> None:
    rng = random.Random(15)
    account: dict[str, str] = {}
    figures: dict[str, Any] = {"steps": {}, "told": {}, "fields": {}}
    t0 = time.monotonic()

    def step(name: str, snap: Snapshot) -> None:
        figures["steps"][name] = round(time.monotonic() - t0, 1)
        figures["told"][name] = words(snap)

    with person_session(tmp_path, before_start=onsite_site(account), extra=lambda: figures) as (
        kiosk,
        hand,
    ):
        first = hand.wait_for(welcome, 30, "show the welcome screen")
        step("welcome", first)
        hand.screenshot("welcome")

        # -- a patient: a session, Help, "Appeler quelqu'un", close Help ------------------
        hand.read_pause(reading_pause(rng))
        snap = hand.tap_until("start", screen_is("emergency-check", index=1))
        hand.read_pause(reading_pause(rng))
        snap = hand.tap_until("help", screen_is("help"))
        step("help", snap)
        hand.screenshot("help")
        assert "help-call" in names(snap), names(snap)
        hand.read_pause(reading_pause(rng))
        snap = hand.tap_until("help-call", lambda b, a: "help-call-status" in names(a), timeout=10)
        hand.read_pause(2.0)  # the patient reads the sentence (and the answer may come)
        snap = hand.snapshot()
        step("help-called", snap)
        hand.screenshot("help-called")
        said = [t for t in words(snap) if t in CALLED]
        assert said, f"no call sentence on the Help page: {words(snap)}"
        assert "help-call" not in names(snap), "the call button is still there after the call"
        figures["help_sentence"] = said
        hand.read_pause(reading_pause(rng))
        snap = hand.tap_until("help-close", screen_is("emergency-check", index=1))
        step("help-closed", snap)

        # -- the patient stops: the cabin must now be prepared ---------------------------------
        hand.read_pause(reading_pause(rng))
        snap = hand.tap_until("stop", screen_is("stop-confirm"))
        hand.read_pause(reading_pause(rng))
        snap = hand.tap_until("stop-confirm", lambda b, a: a.get("screen") != "stop-confirm")
        snap = hand.wait_for(preparing, 60, "show that the cabin is being prepared")
        step("preparing", snap)
        hand.screenshot("preparing")
        assert PREPARING_TITLE in words(snap), words(snap)
        figures["probe_screen_while_preparing"] = snap.get("screen")
        # A patient who arrives now can only wait: nothing to start.
        hand.read_pause(3.0)
        assert preparing(hand.snapshot()), "the preparing page went away by itself"

        # -- the staff member signs in on the on-screen keys -------------------------------
        hand.read_pause(reading_pause(rng))
        snap = hand.tap_until("staff", lambda b, a: "username" in names(a))
        step("staff-form", snap)
        hand.screenshot("staff-form")
        typed_at = time.monotonic()
        for field, text in (("username", STAFF_USER), ("password", STAFF_PASSWORD)):
            shown = type_into(hand, field, text)
            figures["fields"][field] = shown == text
            assert shown == text, f"typed {text!r} into '{field}', it shows {shown!r}"
        code = totp_now(account["secret"])
        shown = type_into(hand, "code", code)
        figures["fields"]["code"] = shown == code
        assert shown == code, f"typed the code into 'code', it shows {shown!r}"
        figures["typing_s"] = round(time.monotonic() - typed_at, 1)
        figures["drags_to_reach"] = list(DRAGS)
        # Nothing typed vanished while the other fields were typed (nor with the drag).
        snap = hand.snapshot()
        assert hand.field_text("username") == STAFF_USER
        assert hand.field_text("password") == STAFF_PASSWORD
        step("staff-typed", snap)
        hand.screenshot("staff-typed")
        snap = hand.tap_until("submit", lambda b, a: welcome(a), timeout=20)
        step("welcome-again", snap)
        hand.screenshot("welcome-again")

        # -- the next patient can start -----------------------------------------------------
        hand.read_pause(reading_pause(rng))
        snap = hand.tap_until("start", screen_is("emergency-check", index=1))
        step("second-session", snap)
        hand.screenshot("second-session")
        assert kiosk.alive(), "the kiosk ended during the test"
        taps = len(hand.taps)
        lost = list(hand.lost_taps)
        start, end = first.get("builds"), snap.get("builds")
        builds = end - start if isinstance(end, int) and isinstance(start, int) else None
        figures["builds"] = builds
    out = json.loads((tmp_path / "person.json").read_text("utf-8"))
    copy_to = os.environ.get("ONSITE_SHOTS")
    if copy_to:
        Path(copy_to).mkdir(parents=True, exist_ok=True)
        for shot in sorted((tmp_path / "shots").glob("*.png")):
            shutil.copy(shot, Path(copy_to) / shot.name)
        shutil.copy(tmp_path / "person.json", Path(copy_to) / "person.json")
    print(f"onsite person: {taps} taps, {len(lost)} lost, {builds} built, {out['seconds']} s")
    assert lost == [], f"{len(lost)} tap(s) changed nothing: {lost}"
    assert all(out["fields"].values()), out["fields"]
    assert builds is None or builds <= taps + 6, f"{builds} screens built for {taps} taps"
    assert out["kiosk_exit"] == "exit 0"
