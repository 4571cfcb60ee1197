"""The calm error screen: something unexpected happened; no stack trace, a way back."""

from __future__ import annotations

from app.ui.screens.base import Screen
from app.ui.views import ErrorView, IntentKind, ScreenId
from app.ui.widgets.picture import Picture


class ErrorScreen(Screen[ErrorView]):
    screen_id = ScreenId.ERROR

    def build(self, view: ErrorView) -> None:
        self.title("error.title")
        self.body.addWidget(Picture("info", 140))
        self.paragraph("error.what")
        self.paragraph("error.kept")
        self.button(
            "error.back_home",
            "home",
            self.action(IntentKind.SAFE_STATE),
            "primary",
            name="safe-state",
        )
