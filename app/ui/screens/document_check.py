"""The professional checks the patient's identity document for the identity on screen.

Why a screen of its own, reached from "Is this you?": an identity read from
a card (PROV) or found by INSi (RECUP) becomes validated (VALI) or qualified
(QUAL) only when a professional has seen a high-trust document (passport,
national identity card, residence permit) and says so under their own
account. The screen shows whose identity it is, its status now, the three
documents as choices, and one "confirm". Nothing is typed.
"""

from __future__ import annotations

from PySide6.QtWidgets import QGridLayout

from app.ui.screens.base import Screen
from app.ui.views import DocumentCheckView, Intent, IntentKind, ScreenId
from app.ui.widgets.buttons import BigButton


class DocumentCheckScreen(Screen[DocumentCheckView]):
    screen_id = ScreenId.DOCUMENT_CHECK

    choices: dict[str, BigButton]

    def build(self, view: DocumentCheckView) -> None:
        self.title("document_check.title")
        self.paragraph("manual.by", name=view.professional).setObjectName("professional")
        _, inner = self.card()
        self.data_line(view.display_name, "title", layout=inner).setObjectName("patient-name")
        self.paragraph("confirm_identity.born", layout=inner, date=view.birth_date)
        if view.status is not None:
            self.paragraph(view.status, layout=inner).setObjectName("identity-status")
        if view.insi_note is not None:
            _, note = self.card("warning")
            self.paragraph(view.insi_note, layout=note).setObjectName("insi-note")
        if view.error is not None:
            _, warn = self.card("warning")
            self.paragraph(view.error, layout=warn).setObjectName("document-error")
        self.paragraph("document_check.which")
        grid = QGridLayout()
        grid.setSpacing(16)
        self.choices = {}
        for index, document in enumerate(view.documents):
            button = BigButton(self.say(self.text(f"identity_form.document.{document}")))
            button.setObjectName(f"document-{document}")
            button.setCheckable(True)
            button.clicked.connect(lambda _=False, d=document: self._pick(d))
            grid.addWidget(button, index // 2, index % 2)
            self.choices[document] = button
        self.body.addLayout(grid)
        self.button("common.cancel", "back", self.action(IntentKind.CANCEL), name="cancel")
        self.button(
            "document_check.confirm", "yes", self._confirm, "primary", name="confirm-document"
        )

    def _pick(self, document: str) -> None:
        for name, button in self.choices.items():
            button.setChecked(name == document)

    def _confirm(self) -> None:
        chosen = next((d for d, b in self.choices.items() if b.isChecked()), "")
        self.intent.emit(Intent(IntentKind.CHECK_DOCUMENT, chosen))

    def forget(self) -> None:
        self.choices = {}
