"""The demo's simulators: drivers' `SimulatorHub` with the demo's cards and QR codes.

`DemoSimulators` is what the demo world, the operator panel and the tests
drive: insert one of the fictional cards by its label (kiosk_demo/cards.py),
show a valid, expired, forged or malformed appli carte Vitale code signed
with the demo's TEST key (kiosk_demo/qr_codes.py).
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from drivers.simulators import SimulatorHub, SimulatorStatus
from kiosk_demo.cards import ALL_CARDS
from kiosk_demo.qr_codes import QrShown, code_text

log = logging.getLogger(__name__)

__all__ = ["DemoSimulators", "SimulatorStatus"]


class DemoSimulators(SimulatorHub):
    """`async with DemoSimulators(devices)`; see `SimulatorHub` for the ordering constraint."""

    async def insert_card(self, device_id: str, label: str) -> None:
        """Insert one of the demo's cards by its label (e.g. the family card)."""
        card = ALL_CARDS.get(label)
        if card is None:
            raise KeyError(f"No test card labelled '{label}'.")
        await self.insert_virtual_card(device_id, card)

    def qr_codes(self) -> tuple[str, ...]:
        """What `show_qr(..., valid=...)` accepts besides True."""
        return tuple(v.value for v in QrShown)

    def show_qr(
        self,
        device_id: str,
        *,
        valid: bool | str = True,
        now: Any = None,
        hold_frames: int = 24,
    ) -> None:
        """A patient holds up the appli carte Vitale in front of the camera, then lowers it.

        `valid=True` (or "valid") shows the demo identity, signed and fresh; "expired",
        "bad-signature", "malformed" or "other" show what the scanner must refuse
        (False means "bad-signature"). The code stays for `hold_frames` camera frames
        (about 3.5 s at the scanner's pace; it waits while nobody reads the camera),
        then the camera sees an empty scene again. `now` (aware datetime) dates the code.
        """
        self.camera_source(device_id)  # an unknown camera fails before anything is signed
        if valid is True:
            shown = QrShown.VALID
        elif valid is False:
            shown = QrShown.BAD_SIGNATURE
        else:
            try:
                shown = QrShown(valid)
            except ValueError:
                raise ValueError(
                    f"'{valid}' is not a QR code the simulated patient can show; "
                    f"known: {', '.join(self.qr_codes())}."
                ) from None
        moment = now if now is not None else dt.datetime.now(dt.UTC)
        self._qr_seed += 3
        self.show_code(
            device_id, code_text(shown, moment), seed=self._qr_seed, hold_frames=hold_frames
        )
        log.info("simulated camera %s shows a %s code", device_id, shown.value)
