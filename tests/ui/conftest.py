"""UI tests run offscreen at the cabin's 1920x1080."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from app.ui.i18n import Catalogues
from app.ui.main_window import KioskWindow
from app.ui.theme import SCREEN_SIZE


@pytest.fixture(scope="session")
def catalogues() -> Catalogues:
    return Catalogues()


@pytest.fixture
def window(qtbot: QtBot, catalogues: Catalogues) -> Iterator[KioskWindow]:
    win = KioskWindow(catalogues)
    qtbot.addWidget(win)
    win.resize(*SCREEN_SIZE)
    win.show()
    QApplication.processEvents()
    yield win
    app = QApplication.instance()
    if app is not None:
        app.removeEventFilter(win.filter)


# The whole kiosk minus the screen, as the controller's own tests build it (real flow, real
# SQLCipher store, registry simulators, a scripted doctor): the UI tests put the screen on top.
from tests.controller.conftest import clock, kiosk  # noqa: E402,F401
