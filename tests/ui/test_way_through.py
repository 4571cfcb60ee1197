"""The patient's whole way through, touched on the screen, on the real controller and simulators.

The screen is the real window; the controller, flow, SQLCipher store and
device simulators are the real ones (the controller tests' `kiosk`
fixture); the card reports and the doctor are played as the drivers and
the call room emit them. Every step is a tap on a named button.
"""

from __future__ import annotations

from datetime import date

import pytest
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QLabel
from pytestqt.qtbot import QtBot

from app.domain.measurements import MeasurementKind
from app.domain.session_context import State
from app.ui.binding import ControllerBinding
from app.ui.main_window import KioskWindow
from app.ui.presenter import Presenter, Site
from app.ui.screens.call import CallScreen
from app.ui.views import InactivityView, MeasurementView, OrientationView, ScreenId
from app.ui.widgets.buttons import BigButton
from drivers import events as dev
from tests.controller.conftest import HOLDER_NIR, Kiosk
from tests.ui.checks import all_texts, clipping_problems, of_type
from tests.ui.sample_views import CANARY
from vocabulary.devices import DeviceKind


class Driver:
    def __init__(self, kiosk: Kiosk, window: KioskWindow, qtbot: QtBot) -> None:
        self.k = kiosk
        self.window = window
        self.qtbot = qtbot
        self.presenter = Presenter(
            Site(devices=(DeviceKind.THERMOMETER, DeviceKind.OXIMETER)), kiosk.clock
        )
        self.binding = ControllerBinding(kiosk.controller, window, self.presenter)
        self.screens: list[str] = []

    def screen(self) -> ScreenId:
        """The screen shown now (a call, so mypy does not keep an earlier `is` narrowing)."""
        return self.window.current_view.screen

    def button(self, name: str) -> BigButton:
        QApplication.processEvents()  # a layout shows new children on the next event round
        found = [
            b
            for b in self.window.findChildren(BigButton, name)
            if b.isVisibleTo(self.window) and b.isEnabled()
        ]
        assert len(found) == 1, f"{name!r} on {self.screen()}: {len(found)} buttons"
        return found[0]

    async def tap(self, name: str) -> None:
        self.qtbot.mouseClick(self.button(name), Qt.MouseButton.LeftButton)  # type: ignore[no-untyped-call]  # pytest-qt: QtBot.mouseClick is unannotated
        await self.binding.idle()
        QApplication.processEvents()
        # What the kiosk's running loop does between two touches: delete emptied screens' widgets.
        QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        self.screens.append(self.screen().value)
        assert clipping_problems(self.window) == [], self.screen()

    def label(self, name: str) -> str:
        found = self.window.current_screen.findChild(QLabel, name)
        assert found is not None, name
        return found.text()

    async def until(self, state: State) -> None:
        await self.k.until(lambda v: v.state is state)
        QApplication.processEvents()

    async def to_identification(self, lang: str = "fr") -> None:
        await self.tap(f"lang-{lang}")
        await self.tap("start")
        assert self.screen() is ScreenId.EMERGENCY_CHECK
        for _ in range(8):
            await self.tap("no")
        assert self.screen() is ScreenId.INFORMATION
        for _ in range(8):
            await self.tap("next")
        assert self.screen() is ScreenId.IDENTIFICATION

    async def insert_card(self, name: str = "MARTIN") -> None:
        await self.tap("method-card")
        await self.k.controller.device_event(dev.CardInserted("reader-1"))
        card = dev.CardRead("reader-1", (dev.Beneficiary(name, "Paul", "1984-05-17", HOLDER_NIR),))
        await self.k.controller.device_event(card)
        await self.until(State.IDENTITY_CONFIRMATION)


@pytest.fixture
async def way(kiosk: Kiosk, window: KioskWindow, qtbot: QtBot) -> Driver:
    return Driver(kiosk, window, qtbot)


@pytest.mark.parametrize("lang", ["fr", "en", "ar"])
async def test_the_whole_way_in_each_language(way: Driver, lang: str) -> None:
    await way.to_identification(lang)
    rtl = Qt.LayoutDirection.RightToLeft if lang == "ar" else Qt.LayoutDirection.LeftToRight
    assert way.window.layoutDirection() == rtl
    await way.insert_card(CANARY)
    assert way.label("patient-name") == f"Paul {CANARY}"
    assert way.label("patient-birth").endswith("17/05/1984")
    await way.tap("yes")
    assert way.screen() is ScreenId.CONSENT
    for _ in range(3):
        await way.tap("accept")
    consents = way.k.view.context.consents
    assert [(d.item.value, d.choice.value, d.language) for d in consents] == [
        ("teleconsultation", "granted", lang),
        ("data-sharing", "granted", lang),
        ("assistance", "granted", lang),
    ]
    assert way.screen() is ScreenId.ORIENTATION
    await way.tap("option-yes")
    await way.tap("option-yes")  # referred by the médecin traitant: within the parcours
    orientation = way.k.view.context.orientation
    assert orientation is not None
    assert orientation.parcours.value == "within"
    assert of_type(way.window.current_view, OrientationView).question_id == "told"
    await way.tap("next")
    assert way.screen() is ScreenId.VISIT_REASON
    await way.tap("reason-fever")
    await way.tap("reason-next")
    visit_reason = way.k.view.context.visit_reason
    assert visit_reason is not None
    assert [r.value for r in visit_reason.reasons] == ["fever"]
    await way.tap("measure-start")
    await way.k.until(
        lambda v: any(m.kind is MeasurementKind.BODY_TEMPERATURE for m in v.context.measurements)
    )
    QApplication.processEvents()
    assert of_type(way.window.current_view, MeasurementView).step.value == "result"
    await way.tap("next")
    await way.tap("skip")  # the oximeter: skipped, the last device → waiting room
    assert way.screen() is ScreenId.WAITING_ROOM
    way.k.call.doctor_joins()
    await way.until(State.CALL)
    assert way.label("doctor-name") == "Dr Claire Martin"
    assert way.window.current_screen.findChild(QLabel, "remote-video") is None  # identity first
    way.k.clock.advance(6)
    await way.k.controller.tick()
    QApplication.processEvents()
    assert way.window.current_screen.findChild(QLabel, "remote-video") is not None
    of_type(way.window.current_screen, CallScreen).draft.setText(f"merci {CANARY}")
    await way.tap("send")
    way.k.call.doctor_hangs_up()
    await way.until(State.END)
    assert way.label("payment") == way.window.t("end.payment.after")
    assert way.label("take-card") == way.window.t("end.take_card")
    QGuiApplication.clipboard().setText(CANARY)
    await way.tap("finish")
    assert way.screen() is ScreenId.TAKE_CARD  # the card is still in: asked back first
    await way.k.controller.device_event(dev.CardRemoved("reader-1"))
    await way.until(State.WELCOME)
    QApplication.processEvents()
    assert way.screen() is ScreenId.WELCOME
    leaks = [t for t in all_texts(way.window) if CANARY in t]
    assert leaks == []
    assert CANARY not in QGuiApplication.clipboard().text()


async def test_stop_asks_then_wipes(way: Driver) -> None:
    await way.to_identification()
    await way.tap("stop")
    assert way.screen() is ScreenId.STOP_CONFIRM
    await way.tap("stop-cancel")
    assert way.screen() is ScreenId.IDENTIFICATION
    await way.tap("stop")
    await way.tap("stop-confirm")
    assert way.screen() is ScreenId.WELCOME
    assert way.k.view.context.session_id is None


async def test_inactivity_warns_with_a_countdown_then_abandons(way: Driver) -> None:
    await way.to_identification()
    way.k.clock.advance(61)
    await way.k.controller.tick()
    QApplication.processEvents()
    assert way.screen() is ScreenId.INACTIVITY
    assert of_type(way.window.current_view, InactivityView).seconds_left == 30
    way.k.clock.advance(31)
    await way.k.controller.tick()
    QApplication.processEvents()
    assert way.screen() is ScreenId.WELCOME
    assert way.k.view.context.session_id is None


async def test_card_pulled_pauses_and_asks(way: Driver) -> None:
    await way.to_identification()
    await way.insert_card()
    await way.k.controller.device_event(dev.CardRemoved("reader-1"))
    QApplication.processEvents()
    assert way.screen() is ScreenId.CARD_REMOVED
    await way.tap("card-back")
    assert way.screen() is ScreenId.CONFIRM_IDENTITY


async def test_a_failing_device_takes_the_degraded_path_and_can_be_skipped(way: Driver) -> None:
    await way.to_identification()
    await way.insert_card()
    await way.tap("yes")
    await way.tap("accept")
    await way.tap("refuse")
    await way.tap("refuse")
    await way.tap("option-no")
    await way.tap("option-none")
    await way.tap("next")
    await way.tap("reason-tell-doctor")
    way.k.sims.set_fault("thermo-1", "absent")
    await way.tap("measure-start")
    await way.until(State.DEGRADED)
    assert way.label("what") == way.window.t("degraded.what.device-failed")
    await way.tap("option-skip")
    assert way.screen() is ScreenId.MEASUREMENTS


async def test_a_red_flag_ends_with_the_numbers_to_call(way: Driver) -> None:
    await way.tap("start")
    await way.tap("yes")  # chest pain
    assert way.screen() is ScreenId.EMERGENCY_EXIT
    numbers = [
        lab.text()
        for lab in way.window.current_screen.findChildren(QLabel, "number")
        if lab.isVisibleTo(way.window)
    ]
    assert numbers == ["15", "112"]
    await way.tap("finish")
    assert way.screen() is ScreenId.WELCOME


def test_birth_dates_are_shown_day_first() -> None:
    from app.ui.presenter import _date

    assert _date(date(1948, 3, 2)) == "02/03/1948"
