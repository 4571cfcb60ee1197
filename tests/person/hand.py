"""A person's hand on the real kiosk window: presses, typing on the on-screen keyboard, pauses.

    hand = Hand(display, probe, shots=out_dir)
    hand.tap("start")                         # press the 'start' button (80-300 ms), as a finger
    hand.tap_until("no", lambda before, after: after["view"]["index"] == 2)
    hand.type_text("Dupont")                  # key by key on the ON-SCREEN keyboard, 3-5 keys/s
    hand.read_pause(4)                        # the person reads
    hand.screenshot("consent")                # import -window root

Where is a button? The kiosk's probe (app/ui/probe.py) says, in screen
coordinates, at the moment of asking. The press itself is X input through
xdotool (mousedown, a human hold, mouseup), so it goes through the X server,
Qt's xcb plugin and the real event loop, and meets whatever a finger would
meet: a widget rebuilt under it, a timer, an overlay.

Every tap can say what it must change; `tap_until` waits for it and counts
a tap that changed nothing as lost, then taps again as a person would
(`lost_taps` holds them all: a useful figure, and a test asserts it is 0).
"""

from __future__ import annotations

import random
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.person.xserver import ProbeClient

Snapshot = dict[str, Any]
Change = Callable[[Snapshot, Snapshot], bool]

HOLD_S = (0.08, 0.30)  # a finger's press
KEYS_PER_S = (3.0, 5.0)
KEYBOARD_SHIFT = ("key-shift", "shift", "⇧", "Maj")  # captions or object names of a shift key
KEYBOARD_LAYERS = (
    "key-symbols",
    "key-letters",
    "?123",
    "123",
    "&123",
    "symbols",
    "digits",
    "ABC",
    "abc",
)


class HandError(AssertionError):
    """The hand could not do what the test asked (no such button, nothing changed)."""


@dataclass
class TapRecord:
    name: str
    screen_before: str | None
    screen_after: str | None
    view_before: dict[str, Any]
    view_after: dict[str, Any]
    seconds: float
    lost: int = 0  # taps that changed nothing before this one did


@dataclass
class Hand:
    display: str
    probe: ProbeClient
    shots: Path | None = None
    seed: int = 11
    taps: list[TapRecord] = field(default_factory=list)
    lost_taps: list[str] = field(default_factory=list)
    typed: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)  # noqa: S311 - a hand's jitter, not a secret
        self._shot_n = 0

    # -- X input --------------------------------------------------------------------------

    def _xdotool(self, *args: str) -> None:
        subprocess.run(  # noqa: S603
            ["xdotool", *args],  # noqa: S607
            env={"DISPLAY": self.display, "PATH": "/usr/bin:/bin"},
            check=True,
            timeout=10,
            capture_output=True,
        )

    def press(self, x: int, y: int, hold: float | None = None) -> None:
        """Finger down at (x, y), held 80-300 ms (or `hold`), finger up."""
        seconds = hold if hold is not None else self.rng.uniform(*HOLD_S)
        self._xdotool("mousemove", "--sync", str(x), str(y), "mousedown", "1")
        time.sleep(seconds)
        self._xdotool("mouseup", "1")

    def drag(self, x: int, y: int, dx: int, dy: int, seconds: float = 0.5) -> None:
        """Finger down at (x, y), slid by (dx, dy) over `seconds`, finger up (a touch scroll)."""
        self._xdotool("mousemove", "--sync", str(x), str(y), "mousedown", "1")
        steps = 10
        for n in range(1, steps + 1):
            time.sleep(seconds / steps)
            self._xdotool("mousemove", str(x + dx * n // steps), str(y + dy * n // steps))
        time.sleep(0.1)
        self._xdotool("mouseup", "1")

    def read_pause(self, seconds: float) -> None:
        """The person reads (or thinks) for `seconds`; the kiosk runs on meanwhile."""
        time.sleep(seconds)

    def screenshot(self, name: str) -> Path | None:
        if self.shots is None:
            return None
        self._shot_n += 1
        self.shots.mkdir(parents=True, exist_ok=True)
        path = self.shots / f"{self._shot_n:03d}-{name}.png"
        subprocess.run(  # noqa: S603
            ["import", "-window", "root", str(path)],  # noqa: S607
            env={"DISPLAY": self.display, "PATH": "/usr/bin:/bin"},
            check=True,
            timeout=30,
            capture_output=True,
        )
        return path

    # -- finding things ---------------------------------------------------------------------

    def snapshot(self) -> Snapshot:
        return self.probe.snapshot()

    @staticmethod
    def widgets(snap: Snapshot, *, top: str | None = "kiosk-window") -> list[dict[str, Any]]:
        return [w for w in snap["widgets"] if top is None or w.get("top") == top]

    def find(
        self,
        name: str | None = None,
        *,
        text: str | None = None,
        snap: Snapshot | None = None,
        keyboard: bool | None = None,
        top: str | None = "kiosk-window",
    ) -> dict[str, Any]:
        """The one visible, enabled button (or field) named `name` or showing `text`."""
        snap = snap if snap is not None else self.snapshot()
        found = [
            w
            for w in self.widgets(snap, top=top)
            if (name is None or w["object_name"] == name)
            and (text is None or w.get("text") == text)
            and (keyboard is None or w.get("keyboard") == keyboard)
            and w["enabled"]
            and w["w"] > 4
            and w["h"] > 4
        ]
        if len(found) != 1:
            what = name if name is not None else repr(text)
            raise HandError(
                f"expected one '{what}' on the {snap.get('screen')} screen, found {len(found)}"
            )
        return found[0]

    def point_in(self, widget: dict[str, Any]) -> tuple[int, int]:
        """Somewhere in the middle of the visible part, as a finger lands: not the exact centre."""
        x = widget["x"] + widget["w"] * self.rng.uniform(0.35, 0.65)
        y = widget["y"] + widget["h"] * self.rng.uniform(0.35, 0.65)
        return int(x), int(y)

    # -- taps ---------------------------------------------------------------------------------

    def tap(
        self, name: str | None = None, *, text: str | None = None, top: str | None = "kiosk-window"
    ) -> None:
        widget = self.find(name, text=text, top=top)
        self.press(*self.point_in(widget))

    def tap_until(
        self,
        name: str,
        changed: Change,
        *,
        timeout: float = 3.0,
        retries: int = 3,
        text: str | None = None,
    ) -> Snapshot:
        """Tap `name` until `changed(before, after)` holds; taps that changed nothing are lost."""
        before = self.snapshot()
        started = time.monotonic()
        lost = 0
        for _ in range(retries + 1):
            widget = self.find(name, text=text, snap=before)
            self.press(*self.point_in(widget))
            deadline = time.monotonic() + timeout
            while True:
                after = self.snapshot()
                if changed(before, after):
                    self.taps.append(
                        TapRecord(
                            name,
                            before.get("screen"),
                            after.get("screen"),
                            before.get("view", {}),
                            after.get("view", {}),
                            round(time.monotonic() - started, 3),
                            lost,
                        )
                    )
                    return after
                if time.monotonic() > deadline:
                    break
                time.sleep(0.1)
            lost += 1
            self.lost_taps.append(f"{name} on {before.get('screen')} {before.get('view')}")
            before = self.snapshot()
        raise HandError(f"'{name}' tapped {retries + 1} times and nothing changed")

    def wait_for(
        self, predicate: Callable[[Snapshot], bool], timeout: float, what: str
    ) -> Snapshot:
        deadline = time.monotonic() + timeout
        while True:
            snap = self.snapshot()
            if predicate(snap):
                return snap
            if time.monotonic() > deadline:
                raise HandError(
                    f"the kiosk did not {what} within {timeout:g} s (shows {snap.get('screen')})"
                )
            time.sleep(0.2)

    # -- typing on the on-screen keyboard ------------------------------------------------------

    def keys(self, snap: Snapshot) -> dict[str, dict[str, Any]]:
        """The on-screen keyboard's keys now shown, by caption (and object name)."""
        out: dict[str, dict[str, Any]] = {}
        for w in self.widgets(snap):
            if w.get("keyboard") and w["enabled"] and w["w"] > 4 and w["h"] > 4:
                out.setdefault(w.get("text", ""), w)
                if w["object_name"]:
                    out.setdefault(w["object_name"], w)
        return out

    def _key_for(
        self, char: str, snap: Snapshot, tried: tuple[str, ...] = ()
    ) -> tuple[list[str], dict[str, Any]] | None:
        """The key for `char` on the keyboard as shown, or the shift/layer key to reach it.

        A capital goes through the shift key first; a digit or a sign through the layer
        keys first (a shift touched on the way would make the next letter a capital).
        Switches already tried for this character are not tried again.
        """
        keys = self.keys(snap)
        if char in keys:
            return [], keys[char]
        if char == " ":
            for w in keys.values():
                if w["object_name"] in ("key-space", "space") or w.get("text", "").lower() in (
                    "espace",
                    "space",
                ):
                    return [], w
        order = (
            (*KEYBOARD_SHIFT, *KEYBOARD_LAYERS)
            if char.isalpha() and char.isupper()
            else (*KEYBOARD_LAYERS, *KEYBOARD_SHIFT)
        )
        for switch in order:
            if switch in keys and switch not in tried:
                key = keys[switch]
                if (key["object_name"] or key.get("text", "")) not in tried:
                    return [switch], key
        return None

    def type_text(self, text: str, keys_per_s: tuple[float, float] = KEYS_PER_S) -> None:
        """Type `text` key by key on the on-screen keyboard, at 3-5 keys a second.

        A character not on the keys shown is reached through a shift or layer
        key (tried once each); one that cannot be reached is a HandError (the
        keyboard cannot write it: a finding, not a test bug).
        """
        for char in text:
            tried: list[str] = []
            while True:
                snap = self.snapshot()
                found = self._key_for(char, snap, tuple(tried))
                if found is None:
                    after = f", even after {', '.join(tried)}" if tried else ""
                    raise HandError(f"no key for {char!r} on the on-screen keyboard{after}")
                via, key = found
                self.press(*self.point_in(key))
                time.sleep(1.0 / self.rng.uniform(*keys_per_s))
                if not via:
                    break
                tried.extend((via[0], key["object_name"] or key.get("text", "")))
            self.typed.append(char)

    def field_text(self, name: str) -> str:
        return str(self.find(name).get("text", ""))


def scroll_into_sight(
    hand: Hand, field: str, on_drag: Callable[[], None] | None = None
) -> dict[str, Any]:
    """The field, after dragging the form up with a finger while it is out of sight.

    The finger lands on the label just above the lowest field shown (never on a
    field: a press there would move its cursor) and slides up; `on_drag` counts
    the drags (a figure of the person tests).
    """
    for _ in range(6):
        snap = hand.snapshot()
        if any(w["object_name"] == field and w["h"] > 30 for w in Hand.widgets(snap)):
            return hand.find(field, snap=snap)
        edits = [w for w in Hand.widgets(snap) if w["class"] in ("QLineEdit", "KeyField")]
        assert edits, f"no field to drag from, looking for '{field}'"
        lowest = max(edits, key=lambda w: w["y"] + w["h"])
        labels = [
            w
            for w in Hand.widgets(snap)
            if w["class"] not in ("QLineEdit", "KeyField")
            and not w.get("keyboard")
            and abs(w["x"] - lowest["x"]) < 20
            and w["y"] + w["h"] <= lowest["y"]
            and w["y"] > 130
        ]
        start = max(labels, key=lambda w: w["y"]) if labels else lowest
        x, y = hand.point_in(start)
        hand.drag(x, y, 0, -min(220, max(80, y - 150)))
        if on_drag is not None:
            on_drag()
        time.sleep(0.5)
    raise AssertionError(f"'{field}' stays out of sight after dragging the form")
