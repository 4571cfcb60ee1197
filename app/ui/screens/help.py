"""Help: who can help, and how the kiosk works (hear the screen, stop at any time)."""

from __future__ import annotations

from app.ui.screens.base import Screen
from app.ui.views import HelpView, ScreenId
from app.ui.widgets.picture import Picture


class HelpScreen(Screen[HelpView]):
    screen_id = ScreenId.HELP

    def build(self, view: HelpView) -> None:
        self.title("help.title")
        self.body.addWidget(Picture("hand", 140))
        self.paragraph("help.staff")
        self.paragraph("help.listen")
        self.paragraph("help.stop")
        self.paragraph("help.emergency")
        self.button("help.close", "back", self._close, "primary", name="help-close")

    def _close(self) -> None:
        closer = getattr(self, "on_close", None)
        if callable(closer):
            closer()
