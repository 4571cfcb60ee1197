"""Emergency exit: the session ends; the numbers to call, big, where the cabin is, nothing else.

Why the address next to the numbers: the SAMU's first question is "where are you?",
and a patient in a pharmacy's cabin may not know the street.

Why two columns and no scrolling (docs/ui.md, "Clipping at real sizes"): in an
emergency nothing may hide below the fold. The numbers to call are on the leading
side (read first), where the cabin is, "I understand" and "ask the staff" on the other; the button
is in that column rather than in the bottom row, which gives the numbers its height.
On a screen under 1000 px tall (`compact`) the cards' words are a step smaller (never
under the body minimum) and the phone pictogram goes: the number itself is the sign.
"""

from __future__ import annotations

from PySide6.QtWidgets import QBoxLayout, QFrame, QHBoxLayout, QLabel, QVBoxLayout

from app.ui.screens.base import Screen
from app.ui.views import EmergencyExitView, EmergencyNumber, IntentKind, ScreenId
from app.ui.widgets.picture import Picture


class EmergencyExitScreen(Screen[EmergencyExitView]):
    screen_id = ScreenId.EMERGENCY_EXIT

    def build(self, view: EmergencyExitView) -> None:
        dense = self.compact()
        self.title("emergency_exit.title")
        self.paragraph(view.reason)
        columns = QHBoxLayout()
        columns.setSpacing(24)
        numbers = QVBoxLayout()
        numbers.setSpacing(12 if dense else 16)
        side = QVBoxLayout()
        side.setSpacing(12 if dense else 16)
        columns.addLayout(numbers, 1)
        columns.addLayout(side, 1)
        self.body.addLayout(columns)
        for number in view.numbers:
            self._number(number, numbers, dense)
        numbers.addStretch(1)
        if view.site is not None:
            # Where the cabin is, beside the numbers: the SAMU asks it first.
            frame, where = self._card("card", side, dense)
            frame.setObjectName("site-contact")
            self._small(self.paragraph("emergency_exit.address", layout=where), dense)
            lines = (view.site.name, ", ".join(view.site.address_lines))
            for line in lines:
                shown = self.data_line(line, "title", layout=where)
                shown.setObjectName("site-address")
                if dense:
                    shown.setProperty("role", "body")
                    shown.setStyleSheet("font-weight: bold;")
            if view.site.phone:
                self._small(
                    self.paragraph(
                        "emergency_exit.site_phone", layout=where, phone=view.site.phone
                    ),
                    dense,
                )
        self.button(
            "emergency_exit.done",
            "yes",
            self.action(IntentKind.FINISH),
            "primary",
            layout=side,
            name="finish",
        )
        self._small(self.paragraph("emergency_exit.ask_staff", layout=side), dense)
        side.addStretch(1)

    def _card(self, role: str, layout: QBoxLayout, dense: bool) -> tuple[QFrame, QVBoxLayout]:
        frame = QFrame()
        frame.setProperty("role", role)
        inner = QVBoxLayout(frame)
        pad_x, pad_y = (16, 8) if dense else (24, 16)
        inner.setContentsMargins(pad_x, pad_y, pad_x, pad_y)
        inner.setSpacing(6 if dense else 10)
        layout.addWidget(frame)
        return frame, inner

    def _small(self, widget: QLabel, dense: bool) -> QLabel:
        if dense:
            widget.setProperty("role", "small")
        return widget

    def _number(self, number: EmergencyNumber, layout: QBoxLayout, dense: bool) -> None:
        _, inner = self._card("warning", layout, dense)
        row = QHBoxLayout()
        row.setSpacing(16 if dense else 24)
        if not dense:
            row.addWidget(Picture("phone", 72))
        self.data_line(number.number, "big-number", layout=row).setObjectName("number")
        self._small(self.paragraph(number.label, layout=row), dense)
        row.setStretch(row.count() - 1, 1)
        inner.addLayout(row)
