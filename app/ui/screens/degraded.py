"""Degraded path: what happened, what is kept, what the patient can do next.

Plain words, no technical term, no blame. Nearby places for an in-person
consultation (charte §1.2) and the emergency numbers come from the site
configuration.
"""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout

from app.ui.screens.base import Screen
from app.ui.views import DegradedView, IntentKind, ScreenId
from app.ui.widgets.picture import Picture

_OPTIONS = {
    "retry": ("degraded.retry", "back"),
    "manual-entry": ("measure.by_professional", "hand"),
    "skip": ("measure.skip", "skip"),
    "finish": ("degraded.finish", "home"),
}


class DegradedScreen(Screen[DegradedView]):
    screen_id = ScreenId.DEGRADED

    def build(self, view: DegradedView) -> None:
        self.title("degraded.title")
        row = QHBoxLayout()
        row.addWidget(Picture("info", 110))
        self.paragraph(view.what, layout=row).setObjectName("what")
        row.setStretch(1, 1)
        self.body.addLayout(row)
        _, kept = self.card()
        self.paragraph(view.kept, layout=kept).setObjectName("kept")
        _, nxt = self.card("warning")
        self.paragraph(view.next_step, layout=nxt).setObjectName("next-step")
        if view.places:
            self.paragraph("degraded.places")
            for place in view.places:
                _, inner = self.card()
                self.data_line(place.name, "body", layout=inner).setObjectName("place")
                self.data_line(place.address, "body", layout=inner)
                if place.phone:
                    self.paragraph("degraded.phone", layout=inner, phone=place.phone)
                if place.hours:
                    self.data_line(place.hours, "body", layout=inner)
        if view.numbers:
            self.paragraph("degraded.numbers")
            for number in view.numbers:
                line = QHBoxLayout()
                self.data_line(number.number, "title", layout=line).setObjectName("number")
                self.paragraph(number.label, layout=line)
                line.setStretch(1, 1)
                self.body.addLayout(line)
        for n, option in enumerate(view.options):
            words, picture = _OPTIONS.get(option, ("degraded.continue", "next"))
            self.button(
                words,
                picture,
                self.action(IntentKind.NEXT, option),
                "primary" if n == 0 else "secondary",
                name=f"option-{option}",
            )
