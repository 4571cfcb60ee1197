"""Issue 14, cold start: what the welcome screen does not need is built after READY or on
first use, and gives the same results as when it was built before (docs/runtime.md)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import cast

import pytest
from babel import Locale
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from app.maintenance.technician import MaintenanceService
from app.ui import i18n
from app.ui.i18n import Catalogues, is_right_to_left, language_name
from app.ui.main_window import KioskWindow
from app.ui.screens.registry import SCREEN_CLASS_NAMES, all_screen_classes, screen_class
from app.ui.theme import SCREEN_SIZE
from app.ui.views import HelpView, ScreenId, WelcomeView
from tests.ui.sample_views import sample_views

pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints")


def test_the_registry_names_every_screen_and_each_class_shows_its_own() -> None:
    assert set(SCREEN_CLASS_NAMES) == set(ScreenId)
    for screen_id in ScreenId:
        assert screen_class(screen_id).screen_id is screen_id
    assert len(set(all_screen_classes())) == len(ScreenId)


def test_the_languages_written_down_are_what_babel_says() -> None:
    for code, (name, rtl) in i18n._KNOWN_LANGUAGES.items():
        locale = Locale.parse(code)
        own = locale.get_display_name(code) or code
        assert name == own[:1].upper() + own[1:]
        assert rtl is (locale.character_order == "right-to-left")
    # every catalogue's language is written down (else the welcome screen asks babel)
    assert set(Catalogues().languages) <= set(i18n._KNOWN_LANGUAGES)


def test_a_language_not_written_down_is_asked_of_babel() -> None:
    assert language_name("de") == "Deutsch"
    assert is_right_to_left("he") and not is_right_to_left("de")


def _parsed(c: Catalogues) -> set[str]:
    return set(c._by_lang)


def test_catalogues_parse_french_at_once_and_the_others_when_asked() -> None:
    c = Catalogues()
    assert _parsed(c) == {"fr"}
    assert c.languages == ("fr", "ar", "en")  # from the files, none parsed
    assert c.text("en", "welcome.title") != c.text("fr", "welcome.title")
    assert _parsed(c) == {"fr", "en"}
    c.load_all()
    assert _parsed(c) == {"fr", "en", "ar"}
    eager = Catalogues()
    eager.load_all()
    for lang in eager.languages:
        assert c.ids(lang) == eager.ids(lang)


def test_the_window_builds_welcome_and_error_then_each_screen_on_first_use(qtbot: QtBot) -> None:
    window = KioskWindow(Catalogues())
    qtbot.addWidget(window)
    window.resize(*SCREEN_SIZE)
    window.show()
    assert set(window.screens) == {ScreenId.WELCOME, ScreenId.ERROR}
    assert window.current_view == WelcomeView()
    window.present(HelpView())
    assert ScreenId.HELP in window.screens
    window.bar.help.click()  # help's close still returns to welcome
    views = sample_views()
    for view in views.values():
        window.present(view)
        assert window.current_screen is window.screens[view.screen]
    window.show_calm_error(RuntimeError("x"))
    assert window.current_view.screen is ScreenId.ERROR


def test_the_remaining_screens_are_built_one_per_turn_of_the_loop(qtbot: QtBot) -> None:
    window = KioskWindow(Catalogues())
    qtbot.addWidget(window)
    window.build_remaining_screens()
    assert len(window.screens) == 3  # one now, the next at the next turn
    qtbot.waitUntil(lambda: len(window.screens) == len(ScreenId), timeout=10_000)
    QApplication.processEvents()
    assert window.current_view == WelcomeView()
    assert window.stack.count() == len(ScreenId)  # each screen once in the stack


def test_the_technicians_mode_attached_for_first_use_is_built_when_first_read(
    qtbot: QtBot,
) -> None:
    made: list[int] = []

    class Closed:  # the mode stays closed: it only asks the time once
        def now(self) -> datetime:
            return datetime.now(UTC)

    def make() -> MaintenanceService:
        made.append(1)
        return cast("MaintenanceService", Closed())

    window = KioskWindow(Catalogues())
    qtbot.addWidget(window)
    window.attach_maintenance_on_first_use(make)
    gesture = window.maintenance_gesture
    assert made == []  # the way in is live, nothing built
    window.present(sample_views()["stop-confirm"])
    assert made == []  # presenting does not build it
    mode = window.maintenance
    assert mode is not None and not mode.is_open and made == [1]
    assert window.maintenance is mode and window.maintenance_gesture is gesture  # once
