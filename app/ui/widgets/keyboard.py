"""An on-screen keyboard: the cabin has a touch screen and no physical keys.

Why key rows per language: an Arabic-speaking patient types to the doctor
in Arabic; a professional types a user name and a code in Latin letters and
digits. The captions of the special keys go through the catalogue like any
other word; letter keys are characters, not words.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFocusEvent, QMouseEvent
from PySide6.QtWidgets import QGridLayout, QLineEdit, QWidget

from app.ui.widgets.buttons import BigButton

ROWS: dict[str, tuple[str, ...]] = {
    "fr": ("1234567890", "azertyuiop", "qsdfghjklm", "wxcvbn'-.@"),
    "en": ("1234567890", "qwertyuiop", "asdfghjkl'", "zxcvbnm-.@"),
    "ar": ("١٢٣٤٥٦٧٨٩٠", "ضصثقفغعهخحج", "شسيبلاتنمكط", "ئءؤرىةوزظدذ"),
    "digits": ("123", "456", "789", ".0,"),
}


class OnScreenKeyboard(QWidget):
    def __init__(
        self,
        rows: str,
        translate: Callable[..., str],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("keyboard")
        self.target: QLineEdit | None = None
        grid = QGridLayout(self)
        grid.setSpacing(8)
        grid.setContentsMargins(0, 0, 0, 0)
        self.keys: list[BigButton] = []
        lines = ROWS[rows]
        for r, line in enumerate(lines):
            for c, char in enumerate(line):
                key = BigButton(char, None, "key")
                key.setFocusPolicy(Qt.FocusPolicy.NoFocus)
                key.clicked.connect(lambda _=False, ch=char: self._type(ch))
                grid.addWidget(key, r, c)
                self.keys.append(key)
        width = max(len(line) for line in lines)
        bottom = len(lines)
        if rows != "digits":
            space = BigButton(translate("keyboard.space"), None, "key")
            space.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            space.clicked.connect(lambda: self._type(" "))
            grid.addWidget(space, bottom, 0, 1, max(1, width - 3))
            self.keys.append(space)
        erase = BigButton(translate("keyboard.erase"), "backspace", "key")
        erase.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        erase.clicked.connect(self._erase)
        if rows != "digits":
            grid.addWidget(erase, bottom, max(1, width - 3), 1, 3)
        else:
            grid.addWidget(erase, bottom, 0, 1, width)
        self.keys.append(erase)

    def attach(self, target: QLineEdit) -> None:
        self.target = target

    def _type(self, char: str) -> None:
        if self.target is not None:
            self.target.insert(char)

    def _erase(self) -> None:
        if self.target is not None:
            self.target.backspace()


class KeyField(QLineEdit):
    """A text field that tells the keyboard when the person touches it."""

    touched = Signal(object)

    def focusInEvent(self, event: QFocusEvent) -> None:
        super().focusInEvent(event)
        self.touched.emit(self)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        super().mousePressEvent(event)
        self.touched.emit(self)


def bind_fields(keyboard: OnScreenKeyboard, fields: list[KeyField]) -> None:
    """Point the keyboard at whichever field the person touched last (the first one at start)."""
    for field in fields:
        field.touched.connect(keyboard.attach)
    if fields:
        keyboard.attach(fields[0])
