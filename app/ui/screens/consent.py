"""Consent, one item per screen: the teleconsultation (required), data sharing and assistance (optional).

Refusing is as easy as accepting: both buttons are the same size, and the
screen says what a refusal changes (for the optional items: nothing).

Why a gap between them (see docs/ui.md, "Touch and keyboard"): the screen
before the first item is "Is this you?", whose "Yes" is on the leading
half, and each item's "I accept" is there too; "I refuse" is a third of the
row wide on the trailing end, with an empty third between, so a hand that
taps where the last main button was never refuses. A confirmation would
make refusing harder than accepting, which free consent forbids.
"""

from __future__ import annotations

from PySide6.QtWidgets import QSizePolicy

from app.ui.screens.base import Screen
from app.ui.views import ConsentView, IntentKind, ScreenId
from app.ui.widgets.buttons import keep_words_whole


class ConsentScreen(Screen[ConsentView]):
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
        accept = self.button(
            "consent.accept",
            "yes",
            self.action(IntentKind.CONSENT, "granted", item=view.item, shown=shown),
            "primary",
            name="accept",
        )
        self.action_row.addStretch(1)
        refuse = self.button(
            "consent.refuse",
            "no",
            self.action(IntentKind.CONSENT, "refused", item=view.item, shown=shown),
            name="refuse",
        )
        for index, stretch in enumerate((1, 1, 1)):  # accept | (gap) | refuse: thirds
            self.action_row.setStretch(index, stretch)
        for button in (accept, refuse):
            button.setSizePolicy(QSizePolicy.Policy.Ignored, button.sizePolicy().verticalPolicy())
        keep_words_whole(accept, refuse)
