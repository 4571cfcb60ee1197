"""Orientation: questions on the parcours de soins, then what the patient is told.

It informs, it never refuses: the doctor decides (charte §2.1).
"""

from __future__ import annotations

from app.ui.screens.base import Screen
from app.ui.views import IntentKind, OrientationView, ScreenId
from app.ui.widgets.picture import Picture


class OrientationScreen(Screen[OrientationView]):
    screen_id = ScreenId.ORIENTATION

    def build(self, view: OrientationView) -> None:
        self.title("orientation.title")
        if view.options:
            question = self.paragraph(view.text)
            question.setObjectName("question")
            for option in view.options:
                self.button(
                    option.label,
                    None,
                    self.action(IntentKind.ANSWER, option.id, question=view.question_id),
                    layout=self.body,
                    name=f"option-{option.id}",
                )
            return
        self.body.addWidget(Picture("euro", 120))
        self.paragraph(view.text).setObjectName("told-title")
        for sentence in view.told:
            _, inner = self.card()
            self.paragraph(sentence, layout=inner)
        self.paragraph("orientation.doctor_decides")
        self.button("common.next", "next", self.action(IntentKind.NEXT), "primary", name="next")
