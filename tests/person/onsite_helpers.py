"""The on-site person's helpers for a person test: the site, the staff account, the form.

    before_start=onsite_site(account)      # [site] preparation_required = true, a staff account
    type_into(hand, "username", "camille.site")   # touch the field, type key by key, read it back

Why a file of its own: the patient's helpers (session.py, hand.py) stay as
they are; these only add what the on-site person's screens need
(docs/onsite.md): a site that asks for preparation between patients and an
`on-site-staff` account made the way `kiosk accounts add` makes it.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.person.hand import Hand, Snapshot, scroll_into_sight
from tests.person.xserver import ROOT

STAFF_USER = "camille.site"
STAFF_PASSWORD = "menthe-verte-27"  # typed on the on-screen keyboard: letters, '-', digits
STAFF_NAME = "Camille Site"


def require_preparation(config: Path) -> None:
    """`[site] preparation_required = true` in the test's copy of the demo site."""
    text = config.read_text("utf-8")
    text = re.sub(r"(?m)^preparation_required = .*\n", "", text)
    text = text.replace("[site]\n", "[site]\npreparation_required = true\n", 1)
    config.write_text(text, "utf-8")


def enrol_staff(config: Path) -> str:
    """`kiosk accounts add … --role on-site-staff` on the site's store; the TOTP secret."""
    done = subprocess.run(  # noqa: S603
        [
            sys.executable,
            "-m",
            "app.cli",
            "accounts",
            "add",
            STAFF_USER,
            "--role",
            "on-site-staff",
            "--name",
            STAFF_NAME,
            "--password-stdin",
            "--config",
            str(config),
        ],
        input=STAFF_PASSWORD + "\n",
        text=True,
        capture_output=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    found = re.search(r"secret=([A-Z2-7]+)", done.stdout)
    assert done.returncode == 0 and found, (
        f"accounts add: {done.stdout[-300:]} {done.stderr[-400:]}"
    )
    return found.group(1)


def onsite_site(account: dict[str, str]) -> Callable[[Path], None]:
    """`before_start` for person_session: preparation required and a staff account."""

    def prepare(config: Path) -> None:
        require_preparation(config)
        account["secret"] = enrol_staff(config)

    return prepare


def totp_now(secret: str) -> str:
    """The code the staff member reads off their phone, never one about to expire."""
    from app.maintenance.totp import code_at

    if datetime.now(UTC).second % 30 > 24:
        time.sleep(7)
    return code_at(secret, datetime.now(UTC))


def names(snap: Snapshot) -> set[str]:
    """The object names of the visible, enabled widgets of the kiosk's window."""
    return {
        w["object_name"]
        for w in Hand.widgets(snap)
        if w["object_name"] and w["enabled"] and w["w"] > 4 and w["h"] > 4
    }


def words(snap: Snapshot) -> list[str]:
    """The sentences on the kiosk's window (labels), not the keys."""
    return [
        str(w["text"])
        for w in Hand.widgets(snap)
        if not w.get("keyboard") and w["class"] not in ("QLineEdit", "KeyField")
        if w.get("text") and ("Label" in w["class"] or w["class"] in ("Paragraph", "DataLine"))
    ]


def type_into(hand: Hand, field: str, text: str, *, settle_s: float = 1.2) -> str:
    """Touch `field` (the cursor goes there), type `text` on the on-screen keys; what it shows.

    It waits `settle_s` after the last key (a tick or two of the controller, which
    republishes the view every second): the text must still be there then.
    """
    widget = scroll_to(hand, field)
    if not widget.get("focus"):
        hand.press(*hand.point_in(widget))
        hand.wait_for(lambda s: bool(hand.find(field, snap=s).get("focus")), 3, f"focus '{field}'")
    hand.type_text(text)
    time.sleep(settle_s)
    return hand.field_text(field)


DRAGS: list[str] = []  # the fields a finger had to drag into sight (a figure of the test)


def scroll_to(hand: Hand, field: str) -> dict[str, Any]:
    """The field, dragged into sight if need be (each drag is counted in DRAGS)."""
    return scroll_into_sight(hand, field, on_drag=lambda: DRAGS.append(field))


def field_lengths(snap: Snapshot, fields: tuple[str, ...]) -> dict[str, Any]:
    """How many characters each field holds (a password shows only dots: its length)."""
    return {
        w["object_name"]: len(str(w.get("text", "")))
        for w in Hand.widgets(snap)
        if w["object_name"] in fields
    }
