"""Stop, asked once: stopping wipes the session, so the patient confirms."""

from __future__ import annotations

from app.ui.screens.base import Screen
from app.ui.views import IntentKind, ScreenId, StopConfirmView
from app.ui.widgets.picture import Picture


class StopConfirmScreen(Screen[StopConfirmView]):
    screen_id = ScreenId.STOP_CONFIRM

    def build(self, view: StopConfirmView) -> None:
        self.title("stop.title")
        self.body.addWidget(Picture("stop", 140))
        self.paragraph("stop.what_happens")
        self.paragraph("stop.no_cost")
        self.button(
            "stop.cancel",
            "back",
            self.action(IntentKind.STOP_CANCELLED),
            "primary",
            name="stop-cancel",
        )
        self.button(
            "stop.confirm",
            "stop",
            self.action(IntentKind.STOP_CONFIRMED),
            "danger",
            name="stop-confirm",
        )
