"""End: the documents the doctor issued, payment after the act only, and "take your card".

Why each document says its kind and its title, with a QR code: a patient
leaving with "a document" twice does not know which is the prescription to
show the pharmacist. The QR code points to the platform's page for that
document, so the patient keeps it on their phone. "Print" sends the documents
to the cabin's printer (docs/printing.md); the note under it follows what the
controller reports — printing, printed, out of paper, printer off, failed —
and a cabin without a printer says so and what to do instead; it never
pretends that a page is coming. The QR codes stay on screen whatever happens.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QVBoxLayout

from app.ui.screens.base import Screen
from app.ui.views import EndDocument, EndView, IntentKind, ScreenId
from app.ui.widgets.picture import Picture
from app.ui.widgets.qr import QrCode

QR_SIDE = 180  # 41 modules (a URL of ~60 characters) at 4 px


class EndScreen(Screen[EndView]):
    screen_id = ScreenId.END

    def build(self, view: EndView) -> None:
        self.title("end.title")
        first = QHBoxLayout()  # what must not be missed: the card, then what to pay
        first.setSpacing(24)
        if view.card_inserted:
            card, inner = self._boxed("warning", "card", 96)
            self.paragraph("end.take_card", layout=inner).setObjectName("take-card")
            first.addWidget(card, 1)
        payment, inner = self._boxed("card", "euro", 72)
        self.paragraph(view.payment, layout=inner).setObjectName("payment")
        first.addWidget(payment, 1)
        self.body.addLayout(first)
        if view.documents:
            self.paragraph("end.documents")
            row = QHBoxLayout()
            row.setSpacing(24)
            for index, document in enumerate(view.documents):
                row.addWidget(self._document(index, document), 1)
            self.body.addLayout(row)
            if any(d.url for d in view.documents):
                self.paragraph("end.qr").setObjectName("document-qr-hint")
        else:
            self.paragraph("end.no_documents")
        if view.print_note is not None:
            _, note = self.card("warning")
            self.paragraph(view.print_note, layout=note).setObjectName("print-note")
        self.paragraph("end.goodbye")
        if view.documents:
            self.button("end.print", "document", self.action(IntentKind.PRINT), name="print")
        self.button("end.finish", "yes", self.action(IntentKind.FINISH), "primary", name="finish")

    def _boxed(self, role: str, pictogram: str, side: int) -> tuple[QFrame, QHBoxLayout]:
        frame = QFrame()
        frame.setProperty("role", role)
        inner = QHBoxLayout(frame)
        inner.setContentsMargins(24, 16, 24, 16)
        inner.setSpacing(16)
        inner.addWidget(Picture(pictogram, side), 0, Qt.AlignmentFlag.AlignTop)
        return frame, inner

    def _document(self, index: int, document: EndDocument) -> QFrame:
        frame = QFrame()
        frame.setObjectName(f"document-{index}")
        frame.setProperty("role", "card")
        inner = QHBoxLayout(frame)
        inner.setContentsMargins(24, 16, 24, 16)
        inner.setSpacing(16)
        inner.addWidget(Picture("document", 64), 0, Qt.AlignmentFlag.AlignTop)
        words = QVBoxLayout()
        self.data_line(self.text(document.kind), "title", layout=words).setObjectName(
            "document-kind"
        )
        if document.title:
            self.data_line(document.title, "body", layout=words).setObjectName("document-title")
        words.addStretch(1)
        inner.addLayout(words, 1)
        if document.url:
            code = QrCode(document.url, QR_SIDE)
            code.setObjectName("document-qr")
            code.setAccessibleName(self.text("end.qr_of", kind=self.text(document.kind)))
            inner.addWidget(code, 0, Qt.AlignmentFlag.AlignTop)
        return frame
