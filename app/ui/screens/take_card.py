"""The session is over and the card is still in the reader: take your card.

Why a screen of its own that waits: a card left behind is the most common
loss in a cabin, and the next patient must never start with a stranger's
card. The words are read aloud by themselves (the patient may already be
standing up), the picture shows the reader, and the screen goes on to the
welcome screen as soon as the card is out (or after the flow's wait).
"""

from __future__ import annotations

from app.ui.screens.base import Screen
from app.ui.views import IntentKind, ScreenId, TakeCardView
from app.ui.widgets.picture import Picture


class TakeCardScreen(Screen[TakeCardView]):
    screen_id = ScreenId.TAKE_CARD
    speak_on_show = True

    def build(self, view: TakeCardView) -> None:
        self.title("take_card.title")
        self.body.addWidget(Picture("card", 200))
        self.paragraph("take_card.what")
        self.paragraph("take_card.then")
        self.button(
            "take_card.leave_it",
            "back",
            self.action(IntentKind.FINISH),
            name="take-card-leave",
        )
