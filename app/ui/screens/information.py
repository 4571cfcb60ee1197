"""Information before consent (charte §1.3): one item per screen, with an easy-to-read version."""

from __future__ import annotations

from app.ui.screens.base import Screen
from app.ui.views import InformationView, IntentKind, ScreenId
from app.ui.widgets.picture import Picture

_PICTURES = {
    "modalities": "doctor",
    "alternatives": "home",
    "assistance": "hand",
    "confidentiality": "lock",
    "data-processing": "document",
    "data-security": "lock",
    "cost": "euro",
}


class InformationScreen(Screen[InformationView]):
    screen_id = ScreenId.INFORMATION

    easy = False  # a local reading choice, kept for the session, reset by `forget`

    def build(self, view: InformationView) -> None:
        self._view = view
        self.title(view.title)
        self.step(view.index, view.total)
        self.body.addWidget(Picture(_PICTURES.get(view.item_id, "info"), 160))
        text = view.easy_text if (self.easy and view.easy_text is not None) else view.text
        self.paragraph(text).setObjectName("information-text")
        if view.easy_text is not None:
            self.button(
                "information.full_text" if self.easy else "information.easy_text",
                "text-size",
                self._toggle_easy,
                name="easy-read",
            )
        if view.index > 1:
            self.button("common.back", "back", self.action(IntentKind.BACK), name="back")
        self.button("common.next", "next", self.action(IntentKind.NEXT), "primary", name="next")

    def _toggle_easy(self) -> None:
        self.easy = not self.easy
        self.show_view(self._view)

    def forget(self) -> None:
        self.easy = False
