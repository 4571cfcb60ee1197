"""Emergency exit: the session ends; the numbers to call, big, where the cabin is, nothing else.

Why the address under the first number: the SAMU's first question is "where are you?",
and a patient in a pharmacy's cabin may not know the street.
"""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout

from app.ui.screens.base import Screen
from app.ui.views import EmergencyExitView, EmergencyNumber, IntentKind, ScreenId
from app.ui.widgets.picture import Picture


class EmergencyExitScreen(Screen):
    screen_id = ScreenId.EMERGENCY_EXIT

    def build(self, view: EmergencyExitView) -> None:
        self.title("emergency_exit.title")
        self.paragraph(view.reason)
        for number in view.numbers[:1]:
            self._number(number)
        if view.site is not None:
            # Where the cabin is, right under the first number: the SAMU asks it first.
            frame, where = self.card()
            frame.setObjectName("site-contact")
            self.paragraph("emergency_exit.address", layout=where)
            lines = (view.site.name, ", ".join(view.site.address_lines))
            for line in lines:
                self.data_line(line, "title", layout=where).setObjectName("site-address")
            if view.site.phone:
                self.paragraph("emergency_exit.site_phone", layout=where, phone=view.site.phone)
        for number in view.numbers[1:]:
            self._number(number)
        self.paragraph("emergency_exit.ask_staff")
        self.button(
            "emergency_exit.done", "yes", self.action(IntentKind.FINISH), "primary", name="finish"
        )

    def _number(self, number: EmergencyNumber) -> None:
        _, inner = self.card("warning")
        row = QHBoxLayout()
        row.setSpacing(24)
        row.addWidget(Picture("phone", 96))
        self.data_line(number.number, "big-number", layout=row).setObjectName("number")
        self.paragraph(number.label, layout=row)
        row.setStretch(2, 1)
        inner.addLayout(row)
