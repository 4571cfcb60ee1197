"""Emergency exit: the session ends; the numbers to call, big, and nothing else to do."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout

from app.ui.screens.base import Screen
from app.ui.views import EmergencyExitView, IntentKind, ScreenId
from app.ui.widgets.picture import Picture


class EmergencyExitScreen(Screen):
    screen_id = ScreenId.EMERGENCY_EXIT

    def build(self, view: EmergencyExitView) -> None:
        self.title("emergency_exit.title")
        self.paragraph(view.reason)
        for number in view.numbers:
            _, inner = self.card("warning")
            row = QHBoxLayout()
            row.setSpacing(24)
            row.addWidget(Picture("phone", 96))
            self.data_line(number.number, "big-number", layout=row).setObjectName("number")
            self.paragraph(number.label, layout=row)
            row.setStretch(2, 1)
            inner.addLayout(row)
        self.paragraph("emergency_exit.ask_staff")
        self.button(
            "emergency_exit.done", "yes", self.action(IntentKind.FINISH), "primary", name="finish"
        )
