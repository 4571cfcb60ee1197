"""A card's incomplete date of birth is shown as incomplete, never with a made-up day."""

from __future__ import annotations

import pytest
from pytestqt.qtbot import QtBot

from app.domain.session_context import State
from app.ui.main_window import KioskWindow
from drivers import events as dev
from tests.controller.conftest import HOLDER_NIR, Kiosk
from tests.ui.test_way_through import Driver


@pytest.mark.parametrize(
    ("on_card", "shown"), [("1950-00-00", "--/--/1950"), ("1950-06-00", "--/06/1950")]
)
async def test_the_confirm_screen_shows_the_unknown_part_as_unknown(
    kiosk: Kiosk, window: KioskWindow, qtbot: QtBot, on_card: str, shown: str
) -> None:
    way = Driver(kiosk, window, qtbot)
    await way.to_identification("fr")
    await way.tap("method-card")
    await kiosk.controller.device_event(dev.CardInserted("reader-1"))
    card = dev.CardRead("reader-1", (dev.Beneficiary("MARTIN", "Paul", on_card, HOLDER_NIR),))
    await kiosk.controller.device_event(card)
    await way.until(State.IDENTITY_CONFIRMATION)
    born = way.label("patient-birth")
    assert born.endswith(shown), born
    assert "01/01/1950" not in born
