"""A screen keeps what a person does on it while the controller ticks.

The controller publishes its view every second (its clock) and after every
change; a person types, chooses, scrolls, opens help and listens meanwhile.
These tests tick the real controller between touches and check that the
screen was not rebuilt, that typed text, a choice, help and the countdown
behave as a hand expects, and that a drag scrolls while a tap still clicks.
"""

from __future__ import annotations

from typing import cast

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QLineEdit, QProgressBar, QScrollArea
from pytestqt.qtbot import QtBot

from app.domain.session_context import State
from app.ui import speech
from app.ui.i18n import Msg
from app.ui.main_window import KioskWindow
from app.ui.views import (
    InactivityView,
    InformationView,
    ScreenId,
    WelcomeView,
)
from tests.controller.conftest import Kiosk
from tests.ui.test_way_through import Driver


@pytest.fixture
async def way(kiosk: Kiosk, window: KioskWindow, qtbot: QtBot) -> Driver:
    return Driver(kiosk, window, qtbot)


async def _ticks(way: Driver, n: int) -> None:
    for _ in range(n):
        way.k.clock.advance(1.0)
        await way.k.controller.tick()
        QApplication.processEvents()


async def test_ticks_rebuild_nothing_and_typed_text_stays(way: Driver) -> None:
    await way.to_identification("fr")
    await way.tap("method-professional")
    assert way.screen() is ScreenId.PROFESSIONAL_LOGIN
    field = next(f for f in way.window.current_screen.findChildren(QLineEdit) if f.isVisible())
    field.setFocus()
    QTest.keyClicks(field, "soph")
    builds = way.window.builds
    await _ticks(way, 5)
    assert way.window.builds == builds  # five ticks, no screen built anew
    again = next(f for f in way.window.current_screen.findChildren(QLineEdit) if f.isVisible())
    assert again is field and again.text() == "soph"


async def test_help_stays_open_across_ticks_and_gives_back_the_same_screen(way: Driver) -> None:
    await way.to_identification("fr")
    under = way.window.current_screen
    QTest.mouseClick(way.window.bar.help, Qt.MouseButton.LeftButton)
    await way.binding.idle()
    assert way.screen() is ScreenId.HELP
    await _ticks(way, 3)
    assert way.screen() is ScreenId.HELP  # the flow's ticks do not close help
    await way.tap("help-close")
    assert way.screen() is ScreenId.IDENTIFICATION
    assert way.window.current_screen is under


async def test_the_countdown_bar_moves_in_place(way: Driver) -> None:
    await way.to_identification("fr")
    limit = way.k.controller._flow.settings.inactivity_warning_s
    await _ticks(way, int(limit) + 1)
    assert way.k.view.state is State.INACTIVITY_WARNING
    assert isinstance(way.window.current_view, InactivityView)
    bar = way.window.current_screen.findChild(QProgressBar)
    assert bar is not None
    first = bar.value()
    builds = way.window.builds
    await _ticks(way, 4)
    same = way.window.current_screen.findChild(QProgressBar)
    assert same is bar  # the same widget: the "still here" button never moved under the finger
    assert bar.value() <= first - 3
    assert bar.maximum() >= first
    assert way.window.builds == builds


def test_an_equal_view_does_not_cancel_speech(window: KioskWindow) -> None:
    cancelled: list[int] = []

    class Speaker:
        def cancel(self) -> None:
            cancelled.append(1)

    window.speaker = cast(speech.Speaker, Speaker())  # only cancel() is called here
    view = InformationView("a", Msg("help.title"), Msg("help.staff"), None, 1, 3)
    window.present(view)
    assert len(cancelled) == 1
    window.present(view)
    window.present(view)
    assert len(cancelled) == 1  # the tick's equal view: the words go on
    window.present(WelcomeView())
    assert len(cancelled) == 2
    window.speaker = None


def _long_page(window: KioskWindow) -> QScrollArea:
    view = InformationView("a", Msg("help.title"), Msg("help.staff"), None, 1, 3)
    window.present(view)
    screen = window.current_screen
    for _ in range(40):
        screen.paragraph("help.staff")
    for _ in range(5):
        QApplication.processEvents()
    area = screen.findChild(QScrollArea)
    assert area is not None and area.verticalScrollBar().maximum() > 200
    return area


def test_a_drag_scrolls_and_does_not_click(window: KioskWindow) -> None:
    area = _long_page(window)
    clicked: list[int] = []
    button = window.current_screen.button(
        "common.next", None, lambda: clicked.append(1), layout=None
    )
    button.setParent(area.widget())
    button.move(10, 10)
    button.show()
    QApplication.processEvents()
    start = button.mapTo(window, QPoint(20, 20))
    pressed = window.childAt(start)
    assert pressed is not None
    QTest.mousePress(pressed, Qt.MouseButton.LeftButton, pos=QPoint(20, 20))
    target = window.childAt(start)
    assert target is not None
    for dy in range(0, -160, -20):
        QTest.mouseMove(target, QPoint(20, 20 + dy))
        QApplication.processEvents()
    QTest.mouseRelease(target, Qt.MouseButton.LeftButton, pos=QPoint(20, -140))
    assert area.verticalScrollBar().value() > 0
    assert clicked == []
    assert window.drag_scroller.drags == 1


def test_a_tap_inside_a_scrolling_body_still_clicks(window: KioskWindow) -> None:
    area = _long_page(window)
    clicked: list[int] = []
    button = window.current_screen.button("common.next", None, lambda: clicked.append(1))
    QApplication.processEvents()
    QTest.mouseClick(button, Qt.MouseButton.LeftButton)
    assert clicked == [1]
    assert area.verticalScrollBar().value() == 0
