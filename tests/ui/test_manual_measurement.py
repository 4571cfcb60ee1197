"""A device fails and a professional types the value: the sign-in answers in MEASUREMENTS.

Found by the person test (tests/person): after "Un professionnel saisit la valeur"
the sign-in's touch was read as a measurement screen's touch and did nothing, and
"Annuler" could not leave the sign-in the flow's manual entry had opened.
"""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QApplication, QLineEdit
from pytestqt.qtbot import QtBot

from app.domain.measurements import MeasurementKind
from app.domain.session_context import State
from app.maintenance import totp
from app.maintenance.roles import Role
from app.ui.main_window import KioskWindow
from app.ui.views import ScreenId
from tests.controller.conftest import PASSWORD, Kiosk
from tests.ui.test_way_through import Driver


@pytest.fixture
async def way(kiosk: Kiosk, window: KioskWindow, qtbot: QtBot) -> Driver:
    return Driver(kiosk, window, qtbot)


async def _to_failed_thermometer(way: Driver) -> None:
    await way.to_identification()
    await way.insert_card()
    await way.tap("yes")
    for answer in ("accept", "refuse", "refuse", "option-no", "option-none", "next"):
        await way.tap(answer)
    await way.tap("reason-tell-doctor")
    way.k.sims.set_fault("thermo-1", "absent")
    await way.tap("measure-start")
    await way.until(State.DEGRADED)
    await way.tap("option-manual-entry")
    assert way.screen() is ScreenId.PROFESSIONAL_LOGIN


def _type(way: Driver, name: str, text: str) -> None:
    field = way.window.current_screen.findChild(QLineEdit, name)
    assert field is not None, name
    field.setText(text)


async def test_the_professional_signs_in_and_types_the_value(way: Driver) -> None:
    await _to_failed_thermometer(way)
    enrolment = await way.k.accounts.create_account(
        "ines.test", "Inès Martin", Role.ASSISTANT, PASSWORD, actor="cli:test"
    )
    _type(way, "username", "ines.test")
    _type(way, "password", PASSWORD)
    _type(way, "code", totp.code_at(enrolment.totp_secret, way.k.clock.now()))
    await way.tap("submit")
    QApplication.processEvents()
    assert way.k.view.assistant is not None
    assert way.screen() is ScreenId.MANUAL_ENTRY
    _type(way, "field-body-temperature", "37,8")
    await way.tap("save")
    QApplication.processEvents()
    (taken,) = [
        m for m in way.k.view.context.measurements if m.kind is MeasurementKind.BODY_TEMPERATURE
    ]
    assert taken.is_manual
    assert [str(c.value) for c in taken.components] == ["37.8"]
    assert way.k.view.assistant is None  # signed in for that one act
    assert way.screen() is ScreenId.MEASUREMENTS


async def test_cancel_leaves_the_sign_in_for_the_devices_screen(way: Driver) -> None:
    await _to_failed_thermometer(way)
    await way.tap("cancel")
    QApplication.processEvents()
    assert way.screen() is ScreenId.MEASUREMENTS
    assert way.button("ask-professional") is not None  # the way back is still there
    await way.tap("ask-professional")
    assert way.screen() is ScreenId.PROFESSIONAL_LOGIN
