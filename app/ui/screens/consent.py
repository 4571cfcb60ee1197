"""Consent, one item per screen: the teleconsultation (required), data sharing and assistance (optional).

Refusing is as easy as accepting: both buttons are the same size, and the
screen says what a refusal changes (for the optional items: nothing).
"""

from __future__ import annotations

from app.ui.screens.base import Screen
from app.ui.views import ConsentView, IntentKind, ScreenId


class ConsentScreen(Screen):
    screen_id = ScreenId.CONSENT

    def build(self, view: ConsentView) -> None:
        title = self.title(view.title).text()
        self.step(view.index, view.total)
        text = self.paragraph(view.text)
        text.setObjectName("consent-text")
        shown = f"{title}\n{text.text()}"  # the exact words agreed to, hashed by the domain
        _, inner = self.card()
        self.paragraph(
            "consent.required_note" if view.required else "consent.optional_note", layout=inner
        )
        self.paragraph("consent.change_mind", layout=inner)
        self.button(
            "consent.accept",
            "yes",
            self.action(IntentKind.CONSENT, "granted", item=view.item, shown=shown),
            "primary",
            name="accept",
        )
        self.button(
            "consent.refuse",
            "no",
            self.action(IntentKind.CONSENT, "refused", item=view.item, shown=shown),
            name="refuse",
        )
