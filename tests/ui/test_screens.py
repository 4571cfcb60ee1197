"""Every screen, in every language, in both themes and in large text: rendered, measured, saved."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from app.ui.main_window import KioskWindow
from app.ui.views import Presentation
from tests.ui.checks import clipping_problems, small_targets, small_text
from tests.ui.sample_views import sample_views

LOOKS = {
    "normal": (False, False),
    "high-contrast": (False, True),
    "large": (True, False),
    "large-high-contrast": (True, True),
}


@pytest.mark.parametrize("lang", ["fr", "en", "ar"])
@pytest.mark.parametrize("look", list(LOOKS))
def test_every_screen_renders_unclipped_with_big_targets(
    window: KioskWindow, tmp_path: Path, lang: str, look: str
) -> None:
    large, contrast = LOOKS[look]
    presentation = Presentation(lang, large, contrast)
    window.catalogues.missing.clear()  # the catalogues are shared: only this test's look-ups
    problems: list[str] = []
    for name, view in sample_views().items():
        window.present(view, presentation)
        QApplication.processEvents()
        assert window.current_view == view
        shot = tmp_path / f"{name}-{lang}-{look}.png"
        assert window.grab().save(str(shot))
        assert shot.stat().st_size > 10_000
        for problem in clipping_problems(window) + small_targets(window) + small_text(window):
            problems.append(f"{name}: {problem}")
    assert problems == []
    assert {m for m in window.catalogues.missing if m[0] == lang} == set()
    expected = Qt.LayoutDirection.RightToLeft if lang == "ar" else Qt.LayoutDirection.LeftToRight
    assert window.layoutDirection() == expected


def test_stop_and_help_are_on_every_session_screen_and_stop_asks(window: KioskWindow) -> None:
    for name, view in sample_views().items():
        window.present(view)
        shown = window.bar.stop.isVisibleTo(window)
        assert shown == (
            name
            not in {
                "welcome",
                "welcome-card-left",
                "take-card",
                "stop-confirm",
                "error",
                "emergency-exit",
                "help",
            }
        ), name


def test_read_aloud_says_what_the_screen_shows(window: KioskWindow) -> None:
    window.present(sample_views()["stop-confirm"], Presentation("en"))
    assert window.current_screen.spoken_text() == (
        "Do you want to stop?\n"
        "If you stop, the session ends and everything is erased from the screen.\n"
        "You pay nothing.\nNo, I carry on\nYes, stop"
    )


def test_help_opens_over_a_screen_and_closes_back_to_it(window: KioskWindow, qtbot: QtBot) -> None:
    consent = sample_views()["consent"]
    window.present(consent)
    qtbot.mouseClick(window.bar.help, Qt.MouseButton.LeftButton)  # type: ignore[no-untyped-call]  # pytest-qt: QtBot.mouseClick is unannotated
    assert window.current_view.screen.value == "help"
    close = window.current_screen.findChild(type(window.bar.help), "help-close")
    qtbot.mouseClick(close, Qt.MouseButton.LeftButton)  # type: ignore[no-untyped-call]  # pytest-qt: QtBot.mouseClick is unannotated
    assert window.current_view == consent


def test_the_clipping_check_catches_a_cut_label_and_a_cut_button(qtbot: QtBot) -> None:
    from PySide6.QtWidgets import QVBoxLayout, QWidget

    from app.ui.widgets.buttons import BigButton
    from app.ui.widgets.text import label

    host = QWidget()
    qtbot.addWidget(host)
    layout = QVBoxLayout(host)
    cut = label("Anticonstitutionnellement " * 6, "body")
    cut.setFixedSize(200, 30)
    squeezed = BigButton("Anticonstitutionnellement", "yes")
    squeezed.setFixedSize(120, 64)
    layout.addWidget(cut)
    layout.addWidget(squeezed)
    host.show()
    QApplication.processEvents()
    problems = clipping_problems(host)
    assert len(problems) == 2
    assert problems[0].startswith("label 'Anticonstitutionnellement Anticonstitu")
    assert problems[1] == "button 'Anticonstitutionnellement' cuts its words at 120x64"
    assert small_targets(host) == []


def test_urgent_help_is_on_every_screen_but_the_numbers_themselves(window: KioskWindow) -> None:
    for name, view in sample_views().items():
        window.present(view)
        assert window.bar.urgent.isVisibleTo(window) == (name != "emergency-exit"), name
        assert window.bar.urgent.height() >= 64 and window.bar.urgent.width() >= 64


def test_the_store_delayed_notice_is_a_calm_banner_read_aloud_with_the_screen(
    window: KioskWindow,
) -> None:
    window.present(sample_views()["consent"], Presentation("fr", notice="store-delayed"))
    QApplication.processEvents()
    assert window.notice.isVisibleTo(window)
    assert window.notice_text.text() == (
        "Vos données sont gardées en sécurité dans la cabine. Vous pouvez continuer."
    )
    assert clipping_problems(window) == []
    window.present(sample_views()["consent"], Presentation("en"))
    assert not window.notice.isVisibleTo(window)
    assert window.notice_text.text() == ""
