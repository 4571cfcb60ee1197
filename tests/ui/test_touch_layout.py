"""The screens with a keyboard, at the two cabin sizes, in every language and look.

The keyboard must be whole on the screen (not cut by the window's edge nor by
a scroll area), nothing cut, the window not grown past the screen; during the
call the keyboard is opened as the patient would. The PNGs are written under
pytest's tmp_path (and kept for a look with --basetemp).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from app.ui.main_window import KioskWindow
from app.ui.views import Presentation
from app.ui.widgets.buttons import BigButton
from app.ui.widgets.keyboard import OnScreenKeyboard
from tests.ui.checks import clipping_problems, small_targets, small_text
from tests.ui.sample_views import sample_views

LOOKS = {
    "normal": (False, False),
    "high-contrast": (False, True),
    "large": (True, False),
    "large-high-contrast": (True, True),
}
SIZES = {"1920x1080": (1920, 1080), "1280x800": (1280, 800)}
SCREENS = ("professional-login", "manual-identity", "manual-entry", "call")


def keyboard_problems(window: QWidget, size: tuple[int, int]) -> list[str]:
    """A visible keyboard that is not whole inside the screen, or not wholly visible."""
    screen_rect = QRect(0, 0, *size)
    problems: list[str] = []
    keyboards = [k for k in window.findChildren(OnScreenKeyboard) if k.isVisible()]
    if not keyboards:
        problems.append("no keyboard in sight")
    for keyboard in keyboards:
        rect = QRect(keyboard.mapTo(window, QPoint(0, 0)), keyboard.size())
        if not screen_rect.contains(rect):
            problems.append(f"{keyboard.objectName()} at {rect} leaves the screen")
        if keyboard.visibleRegion().boundingRect().size() != keyboard.size():
            problems.append(f"{keyboard.objectName()} is partly hidden")
    return problems


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("lang", ["fr", "en", "ar"])
def test_keyboards_are_whole_at_both_sizes(
    window: KioskWindow, qtbot: QtBot, tmp_path: Path, size: str, lang: str
) -> None:
    width, height = SIZES[size]
    problems: list[str] = []
    for look, (large, contrast) in LOOKS.items():
        for name in SCREENS:
            window.resize(width, height)
            window.present(sample_views()[name], Presentation(lang, large, contrast))
            QApplication.processEvents()
            QApplication.processEvents()
            if name == "call":
                qtbot.mouseClick(  # type: ignore[no-untyped-call]  # pytest-qt: QtBot.mouseClick is unannotated
                    window.current_screen.findChild(BigButton, "keyboard"),
                    Qt.MouseButton.LeftButton,
                )
                QApplication.processEvents()
                QApplication.processEvents()
            shot = tmp_path / f"{name}-{size}-{lang}-{look}.png"
            assert window.grab().save(str(shot))
            found = clipping_problems(window) + small_targets(window) + small_text(window)
            found += keyboard_problems(window, (width, height))
            if (window.width(), window.height()) != (width, height):
                found.append(f"the window grew to {window.width()}x{window.height()}")
            problems += [f"{name}/{look}: {p}" for p in found]
    assert problems == []
