"""The card was pulled out mid-session: pause and ask, never go on silently."""

from __future__ import annotations

from app.ui.screens.base import Screen
from app.ui.views import CardRemovedView, IntentKind, ScreenId
from app.ui.widgets.countdown import CountdownBanner
from app.ui.widgets.picture import Picture


class CardRemovedScreen(Screen[CardRemovedView]):
    screen_id = ScreenId.CARD_REMOVED

    _banner: CountdownBanner | None = None

    def build(self, view: CardRemovedView) -> None:
        self.title("card_removed.title")
        self.body.addWidget(Picture("card", 160))
        self.paragraph("card_removed.what")
        if view.seconds_left is not None:
            banner = CountdownBanner(
                view.seconds_left, lambda s: self.text("card_removed.countdown", seconds=s)
            )
            self.say(banner.text.text())
            self.body.addWidget(banner)
            self._banner = banner
        self.button(
            "card_removed.continue",
            "next",
            self.action(IntentKind.CARD_BACK),
            "primary",
            name="card-back",
        )
        self.button("card_removed.stop", "stop", self.action(IntentKind.STOP), name="card-stop")

    def apply_view(self, view: object) -> bool:
        """A new count moves the banner in place; a banner appearing or going is a rebuild."""
        if not isinstance(view, CardRemovedView) or self._banner is None:
            return False
        if view.seconds_left is None:
            return False
        self._banner.set_seconds_left(view.seconds_left)
        return True

    def clear(self) -> None:
        self._banner = None
        super().clear()
