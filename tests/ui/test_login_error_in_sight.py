"""A refused sign-in shows its reason where the eyes are, even on a small screen.

At 1280x800 the on-screen keyboard takes the lower half of the login screen, so a
pharmacist who typed down to the code field has the form scrolled: the warning card
at the top of the form was out of sight after "Valider", and the tap seemed to do
nothing (seen in the person test).
"""

from __future__ import annotations

from PySide6.QtWidgets import QApplication, QLabel, QScrollArea

from app.ui.i18n import Msg
from app.ui.main_window import KioskWindow
from app.ui.views import ProfessionalLoginView


def _scroll_of(window: KioskWindow) -> QScrollArea:
    return next(s for s in window.current_screen.findChildren(QScrollArea) if s.isVisible())


def test_the_reason_of_a_refused_sign_in_is_in_sight_at_1280x800(window: KioskWindow) -> None:
    window.resize(1280, 800)
    QApplication.processEvents()
    window.present(ProfessionalLoginView(Msg("login.purpose.measurement")))
    QApplication.processEvents()
    screen = window.current_screen
    screen.code.setFocus()  # type: ignore[attr-defined]
    scroll = _scroll_of(window)
    bar = scroll.verticalScrollBar()
    bar.setValue(bar.maximum())  # scrolled down to the code field, as the hand left it
    QApplication.processEvents()
    window.present(ProfessionalLoginView(Msg("login.purpose.measurement"), Msg("login.failed")))
    for _ in range(3):
        QApplication.processEvents()
    error = window.current_screen.findChild(QLabel, "login-error")
    assert error is not None
    assert not error.visibleRegion().isEmpty(), "the reason is scrolled out of sight"
    shown = error.visibleRegion().boundingRect()
    assert shown.height() == error.height()  # all of it, not a sliver
    password = window.current_screen.password  # type: ignore[attr-defined]
    assert QApplication.focusWidget() is password
    assert window.current_screen.keyboard.target is password  # type: ignore[attr-defined]
