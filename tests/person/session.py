"""The windowed kiosk on its own X server, with a hand on it: the fixture of a person test.

    with person_session(out_dir) as (kiosk, hand):
        hand.tap_until("start", screen_is("emergency-check"))

The kiosk window is set to `size` (1280x800 by default, the smaller cabin
screen); the demo's operator panel is moved beside it, where a technician
would put it: with no window manager on Xvfb both windows open at (0, 0)
and the panel would cover the kiosk.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from tests.person.hand import Change, Hand, HandError, Snapshot
from tests.person.xserver import KioskProcess, Xvfb, demo_config, describe_exit

SCREEN = (1920, 1080)
KIOSK_SIZE = (1280, 800)


def reading_pause(rng: random.Random) -> float:
    """A reading pause: 5-60 s at a person's pace (PERSON_PACE=real), 1.5-4 s by default."""
    if os.environ.get("PERSON_PACE") == "real":
        return rng.uniform(5, 60)
    return rng.uniform(1.5, 4.0)


def screen_is(screen: str, **view: Any) -> Change:
    """The tap must lead to `screen` (and these view fields, e.g. index=2)."""

    def changed(before: Snapshot, after: Snapshot) -> bool:
        if after.get("screen") != screen:
            return False
        return all(after.get("view", {}).get(k) == v for k, v in view.items())

    return changed


def place_windows(kiosk: KioskProcess, hand: Hand, size: tuple[int, int]) -> None:
    snap = kiosk.probe.snapshot()
    for top in snap["tops"]:
        if top["object_name"] == "kiosk-window":
            hand._xdotool("windowsize", str(top["win_id"]), str(size[0]), str(size[1]))
            hand._xdotool("windowmove", str(top["win_id"]), "0", "0")
        else:
            hand._xdotool("windowmove", str(top["win_id"]), str(size[0] + 20), "0")

    def placed(s: Snapshot) -> bool:
        window = s["window"]
        return (window["w"], window["h"]) == size and all(
            t["x"] >= size[0] for t in s["tops"] if t["object_name"] != "kiosk-window"
        )

    hand.wait_for(placed, 10, "take its place on the screen")


@contextlib.contextmanager
def person_session(
    out_dir: Path,
    *,
    size: tuple[int, int] = KIOSK_SIZE,
    before_start: Callable[[Path], None] | None = None,
    extra: Callable[[], dict[str, Any]] | None = None,
    **timeouts: int,
) -> Iterator[tuple[KioskProcess, Hand]]:
    """Xvfb, `kiosk demo` windowed with its probe, a hand; figures in out_dir/person.json.

    `before_start(config)` runs before the kiosk starts (e.g. to create a professional's
    account in its store); `extra()` adds the test's own figures to person.json.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    config = demo_config(out_dir, **timeouts)
    if before_start is not None:
        before_start(config)
    started = time.monotonic()
    with Xvfb(SCREEN, log=out_dir / "xvfb.log") as x:
        kiosk = KioskProcess(x.display, out_dir, config=config)
        with kiosk:
            hand = Hand(x.display, kiosk.probe, shots=out_dir / "shots")
            place_windows(kiosk, hand, size)
            first = kiosk.probe.snapshot()
            try:
                yield kiosk, hand
            except HandError:
                with contextlib.suppress(Exception):
                    hand.screenshot("failed")
                raise
            finally:
                last: dict[str, Any] = {}
                with contextlib.suppress(Exception):
                    last = kiosk.probe.snapshot()
                figures = {
                    "seconds": round(time.monotonic() - started, 1),
                    "taps": len(hand.taps),
                    "lost_taps": hand.lost_taps,
                    "typed": "".join(hand.typed),
                    "builds_at_start": first.get("builds"),
                    "builds_at_end": last.get("builds"),
                    "updates_at_end": last.get("updates"),
                    "screen_at_end": last.get("screen"),
                    "tap_log": [t.__dict__ for t in hand.taps],
                }
                if extra is not None:
                    with contextlib.suppress(Exception):
                        figures.update(extra())
                (out_dir / "person.json").write_text(json.dumps(figures, indent=2), "utf-8")
        figures["kiosk_exit"] = describe_exit(kiosk.returncode)
        (out_dir / "person.json").write_text(json.dumps(figures, indent=2), "utf-8")
