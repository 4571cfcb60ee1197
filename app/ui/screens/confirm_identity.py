"""Is this you? The patient confirms the identity read from the card or the QR code.

The identity's status is shown in plain words (to be checked, found in the
national file, checked on an identity document…), and while it can still be
raised (PROV, RECUP) the professional beside the patient can check an
identity document from here, under their own account.
"""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QVBoxLayout

from app.ui.screens.base import Screen
from app.ui.views import ConfirmIdentityView, IntentKind, ScreenId
from app.ui.widgets.picture import Picture


class ConfirmIdentityScreen(Screen[ConfirmIdentityView]):
    screen_id = ScreenId.CONFIRM_IDENTITY

    def build(self, view: ConfirmIdentityView) -> None:
        self.title("confirm_identity.title")
        _, card = self.card()
        # The pictogram beside the name, not above it: the words keep their size and the
        # three answers stay on screen in large text at 1280x800.
        row = QHBoxLayout()
        row.setSpacing(24)
        row.addWidget(Picture("person", 96 if self.compact() else 120))
        inner = QVBoxLayout()
        inner.setSpacing(10)
        row.addLayout(inner, 1)
        card.addLayout(row)
        self.data_line(view.display_name, "title", layout=inner).setObjectName("patient-name")
        self.paragraph("confirm_identity.born", layout=inner, date=view.birth_date).setObjectName(
            "patient-birth"
        )
        if view.status is not None:
            self.paragraph(view.status, layout=inner).setObjectName("identity-status")
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
        if view.can_check_document:
            self.button(
                "confirm_identity.check_document",
                "person",
                self.action(IntentKind.ASK_PROFESSIONAL, "document-check"),
                name="check-document",
            )
        # Equal widths: "Yes, it's me", the main answer, is never the narrowest button.
        for index in range(self.action_row.count()):
            self.action_row.setStretch(index, 1)
