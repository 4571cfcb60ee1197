"""Labels that wrap and say what they are for (title, body, big number)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget


def label(text: str, role: str = "body", parent: QWidget | None = None) -> QLabel:
    """A word-wrapped label; `role` picks its size in the style sheet.

    Rich text is off on purpose: text from the doctor or from the card must
    never be interpreted as markup.
    """
    widget = QLabel(text, parent)
    widget.setTextFormat(Qt.TextFormat.PlainText)
    widget.setWordWrap(True)
    widget.setProperty("role", role)
    widget.setAccessibleName(text)
    widget.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
    widget.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
    return widget
