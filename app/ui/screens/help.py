"""Help: who can help, and how the kiosk works (hear the screen, stop at any time).

"Appeler quelqu'un" (issue 15) calls the people on site: through the platform
and the site's own bell (app/sync/help_call.py, run by the controller); the
sentence that comes back (called, someone is coming, go to the counter)
replaces the button. Closing Help ends the call (the patient's need is over).
"""

from __future__ import annotations

from app.ui.screens.base import Screen
from app.ui.views import HelpView, Intent, IntentKind, ScreenId
from app.ui.widgets.picture import Picture


class HelpScreen(Screen[HelpView]):
    screen_id = ScreenId.HELP

    def build(self, view: HelpView) -> None:
        self.title("help.title")
        self.body.addWidget(Picture("hand", 140))
        if view.call is None:
            self.paragraph("help.staff")
        else:
            self.paragraph(view.call).setObjectName("help-call-status")
        self.paragraph("help.listen")
        self.paragraph("help.stop")
        self.paragraph("help.emergency")
        if view.call is None:
            self.button(
                "help.call.button", "phone", self.action(IntentKind.HELP_CALL), name="help-call"
            )
        self.button("help.close", "back", self._close, "primary", name="help-close")

    def _close(self) -> None:
        if self.view is not None and self.view.call is not None:
            self.intent.emit(Intent(IntentKind.HELP_CLOSED))  # the call under way ends
        closer = getattr(self, "on_close", None)
        if callable(closer):
            closer()
