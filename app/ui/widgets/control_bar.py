"""The bar that never goes away: Help, Read aloud, Urgent help and Stop.

Why always there: the patient may stop at any moment (charte §1.3: the
teleconsultation can be suspended at the patient's initiative) and may need
help or the words read aloud on any screen. Stop is red, on the trailing
side, away from the screens' main actions so that it is not touched by
mistake; it only asks, it never stops at once. "Urgent help" is in the
warning colours (not red: red is Stop) with the warning pictogram, and leads
straight to the numbers to call: in an emergency nothing must be asked first.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QFrame, QHBoxLayout, QWidget

from app.ui.widgets.buttons import BigButton


class ControlBar(QFrame):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("control-bar")
        self.setProperty("role", "bar")
        row = QHBoxLayout(self)
        row.setContentsMargins(32, 12, 32, 12)
        row.setSpacing(24)
        self.help = BigButton("", "help", "bar")
        self.help.setObjectName("help")
        self.read_aloud = BigButton("", "speaker", "bar")
        self.read_aloud.setObjectName("read-aloud")
        self.urgent = BigButton("", "warning", "urgent")
        self.urgent.setObjectName("urgent-help")
        self.stop = BigButton("", "stop", "danger")
        self.stop.setProperty("kind", "danger")
        self.stop.setObjectName("stop")
        row.addWidget(self.help)
        row.addWidget(self.read_aloud)
        row.addStretch(1)
        row.addWidget(self.urgent)
        row.addWidget(self.stop)

    def retranslate(self, translate: Callable[..., str]) -> None:
        for button, msgid in (
            (self.help, "bar.help"),
            (self.read_aloud, "bar.read_aloud"),
            (self.urgent, "bar.urgent"),
            (self.stop, "bar.stop"),
        ):
            button.setText(translate(msgid))
            button.setAccessibleName(button.text())
            button.updateGeometry()
