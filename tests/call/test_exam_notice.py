"""The patient's call screen says where to place the device the doctor switched on.

A notice under the doctor's video: a drawn pictogram (where on the body) and
the words of the catalogue, in the patient's language; it outlives a rebuild
of the screen (a new chat line, a quality change) and goes with the call.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtWidgets import QApplication, QFrame, QLabel, QWidget
from pytestqt.qtbot import QtBot

from app.ui.i18n import Catalogues
from app.ui.main_window import KioskWindow
from app.ui.screens.call import CallScreen, ExamPictogram
from app.ui.theme import SCREEN_SIZE
from app.ui.views import Presentation
from tests.ui.sample_views import sample_views


@pytest.fixture
def window(qtbot: QtBot) -> Iterator[KioskWindow]:
    win = KioskWindow(Catalogues())
    qtbot.addWidget(win)
    win.resize(*SCREEN_SIZE)
    win.show()
    QApplication.processEvents()
    yield win
    app = QApplication.instance()
    if app is not None:
        app.removeEventFilter(win.filter)


def notice(screen: QWidget) -> tuple[str, str] | None:
    frame = screen.findChild(QFrame, "exam-notice")
    if frame is None or not frame.isVisible():
        return None
    text = frame.findChild(QLabel, "exam-notice-text")
    picture = frame.findChild(ExamPictogram)
    assert text is not None and picture is not None and picture.isVisible()
    return picture.device, text.text()


@pytest.mark.parametrize("lang", ["fr", "ar"])
def test_the_notice_shows_where_to_place_the_device_and_is_read(
    window: KioskWindow, lang: str
) -> None:
    window.present(sample_views()["call"], Presentation(lang, False, False))
    QApplication.processEvents()
    screen = window.current_screen
    assert isinstance(screen, CallScreen)
    assert notice(screen) is None
    words = screen.show_exam_notice("stethoscope")
    QApplication.processEvents()
    assert words is not None and words in screen.spoken_text()
    shown = notice(screen)
    assert shown is not None and shown == ("stethoscope", words)
    if lang == "fr":
        assert "poitrine" in words
    # Nothing of the call screen is pushed below the fold by it.
    assert screen._scroll.verticalScrollBar().maximum() == 0
    # A rebuild keeps it; the doctor's "off" takes it away; the end of the call forgets it.
    window.present(sample_views()["call-identity"], Presentation(lang, False, False))
    window.present(sample_views()["call"], Presentation(lang, False, False))
    QApplication.processEvents()
    assert notice(window.current_screen) == ("stethoscope", words)
    assert screen.show_exam_notice(None) is None
    QApplication.processEvents()
    assert notice(screen) is None
    screen.show_exam_notice("otoscope")
    screen.forget()
    window.present(sample_views()["call-identity"], Presentation(lang, False, False))
    window.present(sample_views()["call"], Presentation(lang, False, False))
    QApplication.processEvents()
    assert notice(window.current_screen) is None


def test_an_unknown_device_has_no_notice(window: KioskWindow) -> None:
    window.present(sample_views()["call"], Presentation("fr", False, False))
    screen = window.current_screen
    assert isinstance(screen, CallScreen)
    with pytest.raises(ValueError):
        screen.show_exam_notice("ecg")
