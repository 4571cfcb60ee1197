"""Another card than the one the session began with was put in: who is this for?

Why a question and not silence: the identity on file is the first card's;
going on would put the second person's care under the first one's name.
The patient takes the new card out (and the first one's session goes on),
or stops and starts again with the new card.
"""

from __future__ import annotations

from app.ui.screens.base import Screen
from app.ui.views import CardChangedView, IntentKind, ScreenId
from app.ui.widgets.picture import Picture


class CardChangedScreen(Screen[CardChangedView]):
    screen_id = ScreenId.CARD_CHANGED

    def build(self, view: CardChangedView) -> None:
        del view
        self.title("card_changed.title")
        self.body.addWidget(Picture("card", 160))
        self.paragraph("card_changed.what")
        self.paragraph("card_changed.take_out")
        self.button(
            "card_changed.start_again",
            "stop",
            self.action(IntentKind.STOP_CONFIRMED),
            name="card-start-again",
        )
