"""Emergency check: one red-flag question per screen, answered yes or no."""

from __future__ import annotations

from app.ui.screens.base import Screen
from app.ui.views import EmergencyCheckView, ScreenId
from app.ui.widgets.picture import Picture


class EmergencyCheckScreen(Screen[EmergencyCheckView]):
    screen_id = ScreenId.EMERGENCY_CHECK

    def build(self, view: EmergencyCheckView) -> None:
        self.title("emergency_check.title")
        self.step(view.index, view.total)
        self.body.addWidget(Picture("warning", 140))
        question = self.paragraph(view.question)
        question.setProperty("role", "title")
        question.setObjectName("question")
        self.paragraph("emergency_check.hint")
        self.yes_no(view.question_id)
