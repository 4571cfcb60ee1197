"""Is this you? The patient confirms the identity read from the card or the QR code."""

from __future__ import annotations

from app.ui.screens.base import Screen
from app.ui.views import ConfirmIdentityView, IntentKind, ScreenId
from app.ui.widgets.picture import Picture


class ConfirmIdentityScreen(Screen):
    screen_id = ScreenId.CONFIRM_IDENTITY

    def build(self, view: ConfirmIdentityView) -> None:
        self.title("confirm_identity.title")
        _, inner = self.card()
        inner.addWidget(Picture("person", 120))
        self.data_line(view.display_name, "title", layout=inner).setObjectName("patient-name")
        self.paragraph("confirm_identity.born", layout=inner, date=view.birth_date).setObjectName(
            "patient-birth"
        )
        self.paragraph("confirm_identity.hint")
        self.button(
            "confirm_identity.yes",
            "yes",
            self.action(IntentKind.CONFIRM_IDENTITY, "yes"),
            "primary",
            name="yes",
        )
        self.button(
            "confirm_identity.no", "no", self.action(IntentKind.CONFIRM_IDENTITY, "no"), name="no"
        )
