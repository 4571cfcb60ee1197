"""Cabin behaviour: no way out by the keyboard, no decorations, calm errors."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from app.ui.i18n import Catalogues
from app.ui.main_window import KioskWindow
from app.ui.theme import SCREEN_SIZE
from app.ui.views import ScreenId, UiIncident

ESCAPES = [
    (Qt.Key.Key_Escape, Qt.KeyboardModifier.NoModifier),
    (Qt.Key.Key_F4, Qt.KeyboardModifier.AltModifier),
    (Qt.Key.Key_Tab, Qt.KeyboardModifier.AltModifier),
    (Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier),
]


@pytest.fixture
def cabin(qtbot: QtBot, catalogues: Catalogues) -> Iterator[KioskWindow]:
    win = KioskWindow(catalogues, cabin_mode=True)
    qtbot.addWidget(win)
    win.resize(*SCREEN_SIZE)
    win.show()
    yield win
    app = QApplication.instance()
    assert app is not None
    app.removeEventFilter(win.filter)
    win.cabin_mode = False  # let the test tear it down


def test_cabin_window_has_no_decorations(cabin: KioskWindow) -> None:
    assert cabin.windowFlags() & Qt.WindowType.FramelessWindowHint


@pytest.mark.parametrize(("key", "mods"), ESCAPES)
def test_escape_keys_do_nothing_in_cabin_mode(
    cabin: KioskWindow, key: Qt.Key, mods: Qt.KeyboardModifier
) -> None:
    before = cabin.filter.blocked
    QTest.keyClick(cabin, key, mods)
    assert cabin.filter.blocked == before + 1
    assert cabin.isVisible()
    assert cabin.current_view.screen is ScreenId.WELCOME


def test_close_is_refused_in_cabin_mode(cabin: KioskWindow) -> None:
    assert cabin.close() is False
    assert cabin.isVisible()


def test_escape_keys_are_not_swallowed_outside_the_cabin(window: KioskWindow) -> None:
    QTest.keyClick(window, Qt.Key.Key_Escape)
    assert window.filter.blocked == 0


def test_an_unexpected_error_shows_the_calm_screen_and_traces_only_its_type(
    window: KioskWindow,
) -> None:
    seen: list[UiIncident] = []
    window.incidents.connect(seen.append)
    window.show_calm_error(KeyError("Jeanne Dupont 1 84 05"))
    assert window.current_view.screen is ScreenId.ERROR
    assert seen == [UiIncident("ui-error", "An unexpected error occurred (KeyError).")]
    texts = " ".join(
        lab.text() for lab in window.current_screen.findChildren(type(window.bar.help))
    )
    assert "Traceback" not in texts and "KeyError" not in texts


def test_read_aloud_without_an_event_loop_is_traced_quietly(
    window: KioskWindow, tmp_path: Path
) -> None:
    from app.ui.speech import Speaker

    seen: list[UiIncident] = []
    window.speaker = Speaker(tmp_path, seen.append)
    window.incidents.connect(seen.append)
    QTest.mouseClick(window.bar.read_aloud, Qt.MouseButton.LeftButton)
    assert [i.code for i in seen] == ["speech-failed"]
