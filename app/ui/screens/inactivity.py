"""Are you still there? A countdown, then the session is abandoned and wiped."""

from __future__ import annotations

from app.ui.screens.base import Screen
from app.ui.views import InactivityView, IntentKind, ScreenId
from app.ui.widgets.countdown import CountdownBanner


class InactivityScreen(Screen[InactivityView]):
    screen_id = ScreenId.INACTIVITY

    _banner: CountdownBanner | None = None

    def build(self, view: InactivityView) -> None:
        self.title("inactivity.title")
        banner = CountdownBanner(
            view.seconds_left, lambda s: self.text("inactivity.countdown", seconds=s)
        )
        self.say(banner.text.text())
        self.body.addWidget(banner)
        self._banner = banner
        self.paragraph("inactivity.what_happens")
        self.button(
            "inactivity.still_here",
            "yes",
            self.action(IntentKind.STILL_HERE),
            "primary",
            name="still-here",
        )

    def apply_view(self, view: object) -> bool:
        """The count moves in place: the bar shrinks, the button stays under the finger."""
        if not isinstance(view, InactivityView) or self._banner is None:
            return False
        self._banner.set_seconds_left(view.seconds_left)
        return True

    def clear(self) -> None:
        self._banner = None
        super().clear()
