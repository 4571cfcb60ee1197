"""End: the documents the doctor issued, payment after the act only, and "take your card"."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout

from app.ui.screens.base import Screen
from app.ui.views import EndView, IntentKind, ScreenId
from app.ui.widgets.picture import Picture


class EndScreen(Screen):
    screen_id = ScreenId.END

    def build(self, view: EndView) -> None:
        self.title("end.title")
        if view.documents:
            self.paragraph("end.documents")
            for document in view.documents:
                row = QHBoxLayout()
                row.addWidget(Picture("document", 72))
                self.paragraph(document, layout=row).setObjectName("document")
                row.setStretch(1, 1)
                self.body.addLayout(row)
        else:
            self.paragraph("end.no_documents")
        _, inner = self.card()
        row = QHBoxLayout()
        row.addWidget(Picture("euro", 72))
        self.paragraph(view.payment, layout=row).setObjectName("payment")
        row.setStretch(1, 1)
        inner.addLayout(row)
        if view.card_inserted:
            _, warn = self.card("warning")
            row = QHBoxLayout()
            row.addWidget(Picture("card", 96))
            self.paragraph("end.take_card", layout=row).setObjectName("take-card")
            row.setStretch(1, 1)
            warn.addLayout(row)
        self.paragraph("end.goodbye")
        self.button("end.finish", "yes", self.action(IntentKind.FINISH), "primary", name="finish")
