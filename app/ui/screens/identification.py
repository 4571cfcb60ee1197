"""Identification: insert the Carte Vitale, show the appli carte Vitale QR, or ask a professional."""

from __future__ import annotations

from PySide6.QtWidgets import QProgressBar

from app.ui.screens.base import Screen
from app.ui.views import IdentificationMethod, IdentificationView, IntentKind, ScreenId

_METHODS = {
    IdentificationMethod.CARD: ("identification.card", "identification.card_how", "card"),
    IdentificationMethod.QR: ("identification.qr", "identification.qr_how", "qr"),
    IdentificationMethod.PROFESSIONAL: (
        "identification.professional",
        "identification.professional_how",
        "hand",
    ),
}


class IdentificationScreen(Screen[IdentificationView]):
    screen_id = ScreenId.IDENTIFICATION

    def build(self, view: IdentificationView) -> None:
        self.title("identification.title")
        self.paragraph("identification.why")
        if view.status is not None:
            _, inner = self.card("warning")
            self.paragraph(view.status, layout=inner).setObjectName("status")
            if view.busy:
                bar = QProgressBar()
                bar.setRange(0, 0)
                bar.setTextVisible(False)
                inner.addWidget(bar)
        for method in view.methods:
            label_id, how_id, picture = _METHODS[method]
            _, inner = self.card()
            self.button(
                label_id,
                picture,
                self.action(IntentKind.CHOOSE_METHOD, method.value),
                "primary",
                layout=inner,
                name=f"method-{method.value}",
            ).setEnabled(not view.busy)
            self.paragraph(how_id, layout=inner)
