"""A person's whole consultation on the real windowed kiosk, touched from outside (issue 11).

`kiosk demo` on Xvfb (the xcb window, never offscreen), a hand pressing
through xdotool at the places the probe gives (80-300 ms presses, 3-5 keys
a second on the on-screen keyboards, reading pauses), the demo's operator
panel pressed like a technician would (a test card into the virtual reader
behind pcscd, a device failure, the network cut), and a doctor in headless
Chromium on the reference platform's console:

welcome -> red flags -> information -> the card -> "Is this you?" -> consent
-> orientation -> visit reason -> measurements, one device failing and a
pharmacist signing in on the on-screen AZERTY keyboard to type the value on
the keypad -> the network cut and restored (what the patient is told) ->
waiting room -> a call of at least 3 minutes, the doctor's page dropping and
the doctor coming back -> the end screen, read for 30 s without the
"Êtes-vous toujours là ?" over it -> the card taken back -> welcome.

A second, shorter session: the identity typed by a professional on the
AZERTY keyboard, "Arrêter" (stop, then go on), and the inactivity timeout
bringing the kiosk back to welcome.

Every tap must change what it should (lost taps: none), every typed
character must stay in its field, the screens built stay about one per tap,
and the kiosk ends with exit 0. Figures in <tmp>/person.json, screenshots in
<tmp>/shots (keep them with --basetemp). PERSON_PACE=real reads for 5-60 s.
"""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.person.doctor import Doctor, chromium_missing
from tests.person.hand import Change, Hand, Snapshot, scroll_into_sight
from tests.person.session import person_session, reading_pause, screen_is
from tests.person.xserver import ROOT, KioskProcess

REAL_PACE = os.environ.get("PERSON_PACE") == "real"  # reading pauses of 5-60 s (session.py)
pytestmark = [
    pytest.mark.person,
    pytest.mark.integration,
    pytest.mark.timeout(3600 if REAL_PACE else 900),
]

CALL_S = 300.0 if REAL_PACE else 185.0
# The assisted test watches the inactivity warning come: short timeouts at the quick pace; at
# a person's pace a site's longer ones (a 60-s reading pause must not be taken for leaving).
INACTIVITY = (90, 30) if REAL_PACE else (20, 10)
END_READING_S = 30.0
PRO_USER = "ines.test"
PRO_PASSWORD = "lavande-bleue-42"  # typed on the on-screen keyboard: letters, '-', digits
PRO_NAME = "Inès Test"
PRO_RPPS = "10001234565"  # a fictional RPPS whose Luhn key checks out
PANEL_DEVICE = {"thermometer": "thermo", "oximeter": "oxi", "tensiometer": "bp"}
PANEL = None  # the operator panel's top-level (no object name): find its buttons anywhere


MANUAL_VALUES = {
    "body-temperature": "37,8",
    "spo2": "97",
    "heart-rate": "72",
    "systolic": "128",
    "diastolic": "82",
    "mean": "97",
}
"""The values a professional types by hand, per field (plausible ones: the kiosk refuses others)."""


def moved(before: Snapshot, after: Snapshot) -> bool:
    """The screen or its page changed (a question, a step, a device)."""
    return bool(
        after.get("screen") != before.get("screen") or after.get("view") != before.get("view")
    )


def names(snap: Snapshot, *, top: str | None = "kiosk-window") -> set[str]:
    return {
        w["object_name"]
        for w in Hand.widgets(snap, top=top)
        if w["object_name"] and w["enabled"] and w["w"] > 4 and w["h"] > 4
    }


def texts(snap: Snapshot) -> list[str]:
    """The words on the kiosk's screen (labels), for what the patient is told."""
    return [
        str(w["text"])
        for w in Hand.widgets(snap)
        if w["class"] in ("QLabel", "Paragraph", "DataLine") or w["class"].endswith("Label")
        if w.get("text")
    ]


def enrol_professional(out: dict[str, str]) -> Any:
    """`kiosk accounts add` on the demo's store before the kiosk starts; the TOTP secret back."""

    def enrol(config: Path) -> None:
        done = subprocess.run(  # noqa: S603
            [
                sys.executable,
                "-m",
                "app.cli",
                "accounts",
                "add",
                PRO_USER,
                "--role",
                "assistant",
                "--name",
                PRO_NAME,
                "--rpps",
                PRO_RPPS,
                "--password-stdin",
                "--config",
                str(config),
            ],
            input=PRO_PASSWORD + "\n",
            text=True,
            capture_output=True,
            cwd=ROOT,
            timeout=120,
            check=False,
        )
        found = re.search(r"secret=([A-Z2-7]+)", done.stdout)
        assert done.returncode == 0 and found, f"accounts add: {done.stderr[-400:]}"
        out["secret"] = found.group(1)

    return enrol


def totp_now(secret: str) -> str:
    from app.maintenance.totp import code_at

    return code_at(secret, datetime.now(UTC))


class Person:
    """The test's person: a hand, a pace, and the figures of what happened."""

    def __init__(self, kiosk: KioskProcess, hand: Hand, rng: random.Random) -> None:
        self.kiosk = kiosk
        self.hand = hand
        self.rng = rng
        self.figures: dict[str, Any] = {"fields": {}, "told": {}, "moments": {}, "findings": []}
        self.t0 = time.monotonic()

    def mark(self, moment: str) -> None:
        self.figures["moments"][moment] = round(time.monotonic() - self.t0, 1)

    def reads(self) -> None:
        self.hand.read_pause(reading_pause(self.rng))

    def shows(self) -> Snapshot:
        return self.hand.snapshot()

    def tap(self, name: str, change: Change = moved, **kw: Any) -> Snapshot:
        return self.hand.tap_until(name, change, **kw)

    def technician(self, name: str) -> None:
        """A press on the demo's operator panel (its own window beside the kiosk)."""
        self.hand.tap(name, top=PANEL)

    def type_into(self, field: str, text: str) -> None:
        """Touch the field (the cursor goes there), type on the on-screen keys, read it back."""
        widget = self.scroll_to(field)
        if not widget.get("focus"):
            self.hand.press(*self.hand.point_in(widget))
            self.hand.wait_for(
                lambda s: bool(self.hand.find(field, snap=s).get("focus")),
                3,
                f"put the cursor in '{field}'",
            )
        self.hand.type_text(text)
        time.sleep(1.2)  # a second tick of the controller: the text must still be there
        shown = self.hand.field_text(field)
        self.figures["fields"][field] = shown == text
        assert shown == text, f"typed {text!r} into '{field}', it shows {shown!r}"

    def scroll_to(self, field: str) -> dict[str, Any]:
        """The field, after dragging the form up with a finger while it is out of sight."""

        def dragged() -> None:
            self.figures["drags"] = self.figures.get("drags", 0) + 1

        return scroll_into_sight(self.hand, field, on_drag=dragged)

    def wait(self, what: str, predicate: Any, timeout: float) -> Snapshot:
        return self.hand.wait_for(predicate, timeout, what)


def checked(name: str) -> Change:
    """The tap must check (or uncheck) the button `name` (a choice among several)."""

    def state(snap: Snapshot) -> Any:
        return next(
            (w.get("checked") for w in Hand.widgets(snap) if w["object_name"] == name), None
        )

    return lambda before, after: state(before) != state(after) or moved(before, after)


def shown_text(snap: Snapshot) -> list[tuple[str, str]]:
    """Every word shown on the kiosk's window, fields included (not the keys)."""
    return [
        (str(w["object_name"]), str(w.get("text", "")))
        for w in Hand.widgets(snap)
        if not w.get("keyboard")
    ]


def on(screen: str) -> Any:
    return lambda s: s.get("screen") == screen


def go_to_identification(p: Person) -> None:
    p.wait("show the welcome screen", on("welcome"), 30)
    p.hand.screenshot("welcome")
    p.reads()
    snap = p.tap("start", screen_is("emergency-check", index=1))
    while snap["screen"] == "emergency-check":
        p.reads()
        snap = p.tap("no")
    p.hand.screenshot("information")
    while snap["screen"] == "information":
        p.reads()
        snap = p.tap("next")
    assert snap["screen"] == "identification", snap["screen"]


def orientation_and_reason(p: Person, snap: Snapshot) -> Snapshot:
    while snap["screen"] == "orientation":
        p.reads()
        ways = ("option-no", "option-none", "option-yes", "next")
        snap = p.wait(
            "offer a way on", lambda s, w=ways: s["screen"] != "orientation" or names(s) & set(w), 5
        )
        if snap["screen"] != "orientation":
            break
        choice = next(n for n in ways if n in names(snap))
        snap = p.tap(choice)
    if snap["screen"] == "visit-reason":
        p.hand.screenshot("visit-reason")
        p.reads()
        shown = names(snap)
        if "reason-fever" in shown:
            snap = p.tap("reason-fever", checked("reason-fever"))
        # A few words for the doctor, on the on-screen keys (accents and capitals).
        p.reads()
        snap = p.tap("reason-write", lambda b, a: "reason-words" in names(a))
        p.hand.screenshot("visit-reason-writing")
        p.type_into("reason-words", "Fièvre depuis 2 jours")
        snap = p.tap("reason-next")
    return snap


def sign_in(p: Person, secret: str) -> Snapshot:
    """The pharmacist signs in on the on-screen AZERTY keyboard."""
    p.wait("show the sign-in", on("professional-login"), 10)
    p.hand.screenshot("professional-login")
    p.type_into("username", PRO_USER)
    p.type_into("password", PRO_PASSWORD)
    # the code last: it lives 30 s, the person reads it off the phone just before typing
    if datetime.now(UTC).second % 30 > 24:
        time.sleep(7)
    p.type_into("code", totp_now(secret))
    p.hand.screenshot("professional-login-typed")
    snap = p.tap("submit", lambda b, a: moved(b, a) or shown_text(a) != shown_text(b), timeout=15)
    if snap["screen"] == "professional-login":
        time.sleep(1)
        snap = p.shows()
    if snap["screen"] == "professional-login":
        # Refused, and the reason is written above the form, scrolled out of sight: the
        # professional drags the form back down to read it, then gives up (Annuler).
        p.hand.drag(200, 320, 0, 400)
        time.sleep(0.8)
        snap = p.shows()
        p.hand.screenshot("sign-in-refused")
        p.figures["findings"].append(f"sign-in refused on the kiosk: {texts(snap)}")
        p.reads()
        snap = p.tap("cancel", lambda b, a: a.get("screen") != "professional-login")
    p.figures["told"]["sign_in"] = {"screen": snap["screen"], "words": texts(snap)}
    return snap


def measurements(p: Person, snap: Snapshot, secret: str) -> Snapshot:
    """Each device in turn; the second one fails and the pharmacist types its value."""
    failed_done = False
    guard = time.monotonic() + 300
    while snap["screen"] in ("measurements", "degraded", "professional-login", "manual-entry"):
        assert time.monotonic() < guard, "measurements did not end within 300 s"
        time.sleep(0.3)  # the person looks at the new screen
        snap = p.shows()
        view = snap.get("view", {})
        shown = names(snap)
        if (
            snap["screen"] == "measurements"
            and "skip" in shown
            and view.get("device") == p.figures.get("failed_kind")
            and p.figures["findings"]
        ):
            snap = p.tap("skip")  # the failed device, not typed in: go on without it
            continue
        if snap["screen"] == "measurements" and "measure-start" in shown:
            p.hand.screenshot(f"measure-{view.get('device')}")
            p.reads()
            if not failed_done and view.get("index", 1) >= 2:
                panel = names(snap, top=None)
                fail = sorted(n for n in panel if n.startswith("operator.fail."))
                prefix = PANEL_DEVICE.get(str(view.get("device")), str(view.get("device")))
                device = next((n for n in fail if n.startswith(f"operator.fail.{prefix}")), None)
                p.figures["panel_faults"] = fail
                if device is not None:
                    p.technician(device)  # the device stops answering
                    p.figures["failed_device"] = device
                    p.figures["failed_kind"] = view.get("device")
                    time.sleep(0.5)
                    failed_done = True
            snap = p.tap("measure-start")
            continue
        if snap["screen"] == "measurements" and "next" in shown:  # a result is shown
            p.hand.screenshot(f"result-{view.get('device')}")
            p.reads()
            snap = p.tap("next")
            continue
        if snap["screen"] == "measurements" and view.get("step") == "measuring":
            snap = p.wait(
                "finish measuring",
                lambda s, v=view: s.get("screen") != "measurements" or s.get("view") != v,
                90,
            )
            continue
        ask = next((n for n in ("option-manual-entry", "ask-professional") if n in shown), None)
        if snap["screen"] == "degraded" and os.environ.get("PERSON_SKIP_MANUAL"):
            # Diagnosis only: go past the professional's sign-in (it hangs, see the report)
            # to exercise the rest of the consultation; the test still fails on the finding.
            p.figures["findings"].append("manual entry not tried (PERSON_SKIP_MANUAL)")
        if (
            snap["screen"] == "degraded"
            and ask is not None
            and not p.figures.get("manual_saved")
            and not p.figures["findings"]
        ):
            p.hand.screenshot("device-failed")
            p.figures["told"]["device_failed"] = texts(snap)
            p.reads()
            snap = p.tap(ask, screen_is("professional-login"))
            snap = sign_in(p, secret)
            continue
        if snap["screen"] == "manual-entry":
            p.hand.screenshot("manual-entry")
            fields = sorted(n for n in names(snap) if n.startswith("field-"))
            p.figures["manual_fields"] = fields
            for field in fields:  # what the professional reads on her own device
                p.type_into(field, MANUAL_VALUES.get(field.removeprefix("field-"), "72"))
            p.hand.screenshot("manual-entry-typed")
            snap = p.tap("save")
            p.figures["manual_saved"] = True
            continue
        if snap["screen"] == "degraded":
            p.hand.screenshot("degraded-measure")
            p.figures["told"]["degraded_measure"] = texts(snap)
            option = next((n for n in ("option-skip", "option-continue") if n in shown), None)
            assert option is not None, f"no way on from degraded: {sorted(shown)}"
            snap = p.tap(option)
            continue
    return snap


def network_cut(p: Person) -> None:
    """The technician cuts the network (operator panel); what is the patient told? Restore."""
    before = p.shows()
    p.technician("operator.network.cut")
    p.mark("network-cut")
    told = p.hand.wait_for(
        lambda s: s.get("screen") != before.get("screen") or texts(s) != texts(before),
        60,
        "tell the patient the network is cut",
    )
    time.sleep(1.0)
    told = p.shows()
    p.hand.screenshot("network-cut")
    p.figures["told"]["network_cut"] = {"screen": told.get("screen"), "words": texts(told)}
    p.reads()
    p.technician("operator.network.restore")
    p.mark("network-restored")


def test_a_whole_consultation(tmp_path: Path) -> None:
    if chromium_missing():
        pytest.skip("needs chromium")
    rng = random.Random(11)
    account: dict[str, str] = {}
    person: list[Person] = []
    with person_session(
        tmp_path,
        before_start=enrol_professional(account),
        extra=lambda: person[0].figures if person else {},
    ) as (kiosk, hand):
        p = Person(kiosk, hand, rng)
        person.append(p)
        first = p.shows()
        go_to_identification(p)
        p.hand.screenshot("identification")
        p.reads()
        # The card button shows what to do (the words change; the screen waits for the card).
        snap = p.tap("method-card", lambda b, a: moved(b, a) or texts(a) != texts(b))
        p.figures["told"]["card"] = texts(snap)
        p.hand.screenshot("insert-card")
        p.technician("operator.card.single-adult")  # the card goes into the reader
        p.mark("card-in")
        snap = p.wait(
            "read the card", lambda s: s.get("screen") in ("confirm-identity", "beneficiary"), 30
        )
        if snap["screen"] == "beneficiary":
            person_button = sorted(n for n in names(snap) if n.startswith("beneficiary-"))[0]
            snap = p.tap(person_button)
        time.sleep(3)  # INSi answers beside the screen
        p.hand.screenshot("confirm-identity")
        p.reads()
        snap = p.tap("yes")
        while snap["screen"] == "consent":
            p.hand.screenshot(f"consent-{snap['view'].get('index')}")
            p.reads()
            snap = p.tap("accept")
        snap = orientation_and_reason(p, snap)
        p.mark("measurements")
        snap = measurements(p, snap, account["secret"])
        if not p.figures.get("manual_saved"):
            p.figures["findings"].append("no value was typed by the professional")
        network_cut(p)
        snap = p.wait("go on after the network is back", lambda s: True, 1)
        with Doctor(kiosk.base_url) as doctor:
            snap = p.wait(
                "reach the waiting room",
                lambda s: s.get("screen") in ("waiting-room", "degraded"),
                90,
            )
            if snap["screen"] == "degraded":
                p.hand.screenshot("degraded-before-call")
                p.figures["told"]["before_call"] = texts(snap)
                for option in ("option-retry", "option-continue"):
                    if option in names(snap):
                        snap = p.tap(option)
                        break
                snap = p.wait("reach the waiting room", on("waiting-room"), 90)
            p.hand.screenshot("waiting-room")
            doctor.log_in()
            doctor.take_first_patient()
            snap = p.wait("show the call", on("call"), 60)
            call_started = time.monotonic()
            p.mark("call")
            time.sleep(6)  # the doctor's name alone first, then the video
            p.hand.screenshot("call")
            doctor.say("Bonjour, pouvez-vous me dire comment vous allez ?")
            p.figures["frames_first"] = doctor.frames_decoded()
            time.sleep(15)
            # The doctor switches her camera and microphone off for a moment: the patient is
            # told so in words (not "the connection is being restored"), then sees her again.
            doctor.switch("camera")
            doctor.switch("mute")
            snap = p.wait(
                "tell that the doctor switched her camera off",
                lambda s: any("coupé sa caméra" in t for t in texts(s)),
                15,
            )
            time.sleep(4)  # the patient reads it
            p.hand.screenshot("doctor-camera-off")
            words = texts(p.shows())
            p.figures["told"]["doctor_switched_off"] = words
            assert any("micro du médecin est coupé" in t for t in words), words
            assert not any("connexion se rétablit" in t for t in words), words
            doctor.switch("camera")
            doctor.switch("mute")
            p.wait(
                "take the doctor's words away once she is back",
                lambda s: not any("coupé" in t and "médecin" in t for t in texts(s)),
                15,
            )
            time.sleep(18)
            doctor.drop()
            p.mark("doctor-dropped")
            time.sleep(5)
            dropped = p.shows()
            p.hand.screenshot("doctor-dropped")
            p.figures["told"]["doctor_dropped"] = {
                "screen": dropped.get("screen"),
                "words": texts(dropped),
            }
            assert dropped["screen"] == "call", f"the doctor dropped: {dropped['screen']}"
            doctor.log_in()
            doctor.take_first_patient(60)
            p.mark("doctor-back")
            time.sleep(3)
            p.hand.screenshot("doctor-back")
            p.figures["frames_after_rejoin"] = doctor.frames_decoded()
            while time.monotonic() - call_started < CALL_S:
                assert p.shows()["screen"] == "call", "the call ended before the doctor hung up"
                time.sleep(5)
            p.figures["call_seconds"] = round(time.monotonic() - call_started, 1)
            doctor.hang_up()
        snap = p.wait("show the end", on("end"), 30)
        p.mark("end")
        p.hand.screenshot("end")
        end_builds = snap.get("builds")
        # The person reads the end screen: nothing comes over it, it stays the same screen.
        seen: set[str] = set()
        read_until = time.monotonic() + END_READING_S
        while time.monotonic() < read_until:
            seen.add(str(p.shows().get("screen")))
            time.sleep(1)
        p.figures["end_reading_screens"] = sorted(seen)
        p.hand.screenshot("end-read")
        assert seen == {"end"}, f"while the end screen was read: {sorted(seen)}"
        p.technician("operator.remove_card")  # the patient takes the card back
        p.mark("card-out")
        time.sleep(2)
        snap = p.shows()
        p.hand.screenshot("card-taken")
        if snap["screen"] == "end":
            p.reads()
            snap = p.tap("finish", lambda b, a: a.get("screen") != "end", timeout=5)
        snap = p.wait("come back to welcome", on("welcome"), 30)
        p.hand.screenshot("welcome-again")
        assert kiosk.alive(), "the kiosk ended during the consultation"
        taps = len(hand.taps)
        lost = list(hand.lost_taps)
        start, end = first.get("builds"), snap.get("builds")
        builds = end - start if isinstance(end, int) and isinstance(start, int) else None
        p.figures["builds"] = builds
        p.figures["end_builds"] = end_builds
    figures = json.loads((tmp_path / "person.json").read_text("utf-8"))
    print(
        f"person: {taps} taps, {len(lost)} lost, {builds} screens built, "
        f"call {figures.get('call_seconds')} s, {figures['seconds']} s, {figures['kiosk_exit']}"
    )
    assert lost == [], f"{len(lost)} tap(s) changed nothing: {lost}"
    assert figures["findings"] == [], figures["findings"]
    assert figures["call_seconds"] >= 180
    assert figures["frames_after_rejoin"] > 0, "the doctor saw nothing after coming back"
    assert all(figures["fields"].values()), figures["fields"]
    # About one screen per tap (plus what the flow shows by itself: card read, failure,
    # network, call, end...), never one a second: the consultation lasts minutes.
    assert builds is None or builds <= taps + 25, f"{builds} screens built for {taps} taps"
    assert figures["kiosk_exit"] == "exit 0"


def test_assisted_identity_stop_and_inactivity(tmp_path: Path) -> None:
    rng = random.Random(12)
    account: dict[str, str] = {}
    person: list[Person] = []
    with person_session(
        tmp_path,
        before_start=enrol_professional(account),
        extra=lambda: person[0].figures if person else {},
        inactivity_warning_s=INACTIVITY[0],
        inactivity_countdown_s=INACTIVITY[1],
    ) as (kiosk, hand):
        p = Person(kiosk, hand, rng)
        person.append(p)
        first = p.shows()
        go_to_identification(p)
        # Arrêter, then "no, go on": the person stays where they were.
        p.reads()
        snap = p.tap("stop", screen_is("stop-confirm"))
        p.hand.screenshot("stop-confirm")
        p.reads()
        snap = p.tap("stop-cancel", screen_is("identification"))
        # No card: a professional types the identity.
        p.reads()
        shown = names(snap)
        ask = next(n for n in sorted(shown) if "professional" in n or n == "method-assisted")
        snap = p.tap(ask)
        snap = sign_in(p, account["secret"])
        p.wait("show the identity form", on("manual-identity"), 10)
        p.hand.screenshot("manual-identity")
        snap = p.shows()
        fields = sorted(
            w["object_name"] for w in Hand.widgets(snap) if w["class"] in ("QLineEdit", "KeyField")
        )
        p.figures["identity_fields"] = fields
        values = {
            "field-birth-name": "LEFÈVRE",
            "field-birth-first-names": "Hélène Françoise",
            "field-birth-date": "14/07/1958",
            "field-birth-place": "75056",
        }
        for field, value in values.items():
            p.type_into(field, value)
        p.hand.screenshot("manual-identity-typed")
        # The person leaves the kiosk here: the inactivity warning, then back to welcome.
        p.mark("left")
        warned = p.wait("warn of inactivity", on("inactivity"), INACTIVITY[0] + 70)
        p.hand.screenshot("inactivity")
        p.figures["told"]["inactivity"] = texts(warned)
        p.mark("inactivity")
        snap = p.wait("come back to welcome by itself", on("welcome"), INACTIVITY[1] + 50)
        p.mark("welcome")
        p.hand.screenshot("welcome-after-inactivity")
        assert kiosk.alive()
        taps = len(hand.taps)
        lost = list(hand.lost_taps)
        start, end = first.get("builds"), snap.get("builds")
        builds = end - start if isinstance(end, int) and isinstance(start, int) else None
        p.figures["builds"] = builds
    figures = json.loads((tmp_path / "person.json").read_text("utf-8"))
    print(
        f"person (assisted): {taps} taps, {len(lost)} lost, {builds} built, {figures['seconds']} s"
    )
    assert lost == [], f"{len(lost)} tap(s) changed nothing: {lost}"
    assert figures["findings"] == [], figures["findings"]
    assert all(figures["fields"].values()), figures["fields"]
    assert builds is None or builds <= taps + 10, f"{builds} screens built for {taps} taps"
    assert figures["kiosk_exit"] == "exit 0"
