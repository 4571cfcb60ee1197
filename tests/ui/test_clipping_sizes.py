"""Every screen, fr/en/ar x normal/large text x normal/high contrast, at the two screen
sizes cabins have (1280x800 and 1920x1080): nothing cut, nothing pushed off the screen,
and a screen that asks one thing shows it without scrolling.

Why the first render test (test_screens.py) missed the Arabic large-text cut on the first
red-flag question (see docs/ui.md, "Clipping at real sizes"):
1. it ran at 1920x1080 only, where the question fits; the tester's screen was 1280x800;
2. it compares each label's text with the label's own rectangle, and a label in the
   screen's scroll area always gets the height its text needs: it is the scroll area's
   viewport that cuts it in half, and nothing looked at the viewport;
3. offscreen, a window whose content is taller than the screen simply grows (no screen
   edge), so the screens after it were measured in a window taller than the cabin's.
This test checks the viewport, keeps the window at the screen's size, and runs both sizes.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtWidgets import QApplication, QScrollArea, QWidget
from pytestqt.qtbot import QtBot

import app.ui.main_window as main_window
from app.ui.i18n import Catalogues
from app.ui.theme import SCREEN_SIZES, Look, style_sheet
from app.ui.views import Presentation
from tests.ui.checks import clipping_problems, small_targets, small_text, visible_widgets
from tests.ui.sample_views import sample_views

LOOKS = {
    "normal": (False, False),
    "high-contrast": (False, True),
    "large": (True, False),
    "large-high-contrast": (True, True),
}

MAY_SCROLL = frozenset(
    {
        # lists, forms with a keyboard and long reading: touch (kinetic) scrolling is expected
        "identification",
        "identification-reading",  # three ways to identify, each with its instructions
        "document-check",
        "professional-login",
        "manual-identity",
        "manual-identity-errors",
        "information",
        "consent",
        "orientation-told",
        "end",
        "degraded",
        "degraded-cabin-media",
        "help",
        "call",
    }
)
"""Every other screen asks one thing or tells one thing: it must fit without scrolling."""


def scroll_problems(root: QWidget) -> list[str]:
    """Scroll areas whose content is taller than their viewport (the person must scroll)."""
    return [
        f"must scroll: content {content.height()} px in a {area.viewport().height()} px view"
        for area in visible_widgets(root, QScrollArea)
        if (content := area.widget()) is not None and area.verticalScrollBar().isVisible()
    ]


def off_screen(root: QWidget, size: tuple[int, int]) -> list[str]:
    got = (root.width(), root.height())
    return [] if got == size else [f"the window grew to {got[0]}x{got[1]} (content off screen)"]


@pytest.fixture
def sized_window(
    qtbot: QtBot, catalogues: Catalogues, request: pytest.FixtureRequest
) -> Iterator[main_window.KioskWindow]:
    size: tuple[int, int] = request.param
    # The compact text scale below 1000 px (theme.Look.screen_height): the window takes it
    # from its own height when it is resized to its screen (KioskWindow.resizeEvent).
    win = main_window.KioskWindow(catalogues)
    qtbot.addWidget(win)
    win.resize(*size)
    win.show()
    QApplication.processEvents()
    assert win.styleSheet() == style_sheet(Look(screen_height=size[1]))
    yield win
    app = QApplication.instance()
    if app is not None:
        app.removeEventFilter(win.filter)


def _render_problems(win: main_window.KioskWindow, lang: str, look: str) -> dict[str, list[str]]:
    size = (win.width(), win.height())
    large, contrast = LOOKS[look]
    found: dict[str, list[str]] = {}
    for name, view in sample_views().items():
        win.present(view, Presentation(lang, large, contrast))
        QApplication.processEvents()
        QApplication.processEvents()  # wrapped labels settle their height in a second pass
        problems = clipping_problems(win) + small_targets(win) + small_text(win)
        problems += off_screen(win, size)
        if name not in MAY_SCROLL:
            problems += scroll_problems(win)
        if problems:
            found[name] = problems
        if (win.width(), win.height()) != size:
            win.resize(*size)  # measure the next screen at the real size again
            QApplication.processEvents()
    return found


@pytest.mark.parametrize(
    "sized_window", SCREEN_SIZES, indirect=True, ids=lambda s: f"{s[0]}x{s[1]}"
)
@pytest.mark.parametrize("lang", ["fr", "en", "ar"])
@pytest.mark.parametrize("look", list(LOOKS))
def test_every_screen_fits_the_screen_unclipped(
    sized_window: main_window.KioskWindow, lang: str, look: str
) -> None:
    combo = f"{sized_window.width()}x{sized_window.height()}/{lang}/{look}"
    found = _render_problems(sized_window, lang, look)
    assert found == {}, combo


@pytest.mark.parametrize("sized_window", [(1280, 800)], indirect=True, ids=["1280x800"])
def test_the_first_red_flag_question_in_arabic_large_text_is_whole_at_1280x800(
    sized_window: main_window.KioskWindow,
) -> None:
    """The case testers saw: the question cut in half by the scroll view's bottom edge."""
    sized_window.present(sample_views()["emergency-check"], Presentation("ar", True, False))
    QApplication.processEvents()
    QApplication.processEvents()
    assert scroll_problems(sized_window) == []
    assert clipping_problems(sized_window) == []
    assert off_screen(sized_window, (1280, 800)) == []


def test_the_viewport_check_sees_a_label_cut_by_its_scroll_area(qtbot: QtBot) -> None:
    from PySide6.QtWidgets import QVBoxLayout

    from app.ui.widgets.text import label

    host = QWidget()
    qtbot.addWidget(host)
    area = QScrollArea(host)
    area.setWidgetResizable(True)
    inner = QWidget()
    column = QVBoxLayout(inner)
    for _ in range(6):
        column.addWidget(label("Avez-vous une douleur forte dans la poitrine ?", "title"))
    area.setWidget(inner)
    area.setFixedSize(600, 150)
    host.resize(600, 150)
    host.show()
    QApplication.processEvents()
    assert clipping_problems(host) == []  # what the first test saw: every label fits itself
    assert scroll_problems(host) and scroll_problems(host)[0].startswith("must scroll")


def test_the_compact_scale_keeps_the_accessibility_floors() -> None:
    from app.ui.theme import COMPACT_LARGE_TEXT, COMPACT_TEXT, MIN_BODY_PX, MIN_TOUCH_PX

    assert Look(screen_height=800).scale is COMPACT_TEXT
    assert Look(large_text=True, screen_height=800).scale is COMPACT_LARGE_TEXT
    assert not Look().compact and Look(screen_height=999).compact
    for scale in (COMPACT_TEXT, COMPACT_LARGE_TEXT):
        assert scale.body_px >= MIN_BODY_PX
        assert min(scale.button_min_h, scale.bar_button_min_h) >= MIN_TOUCH_PX
    assert COMPACT_LARGE_TEXT.body_px > COMPACT_TEXT.body_px
    assert COMPACT_LARGE_TEXT.title_px > COMPACT_TEXT.title_px
