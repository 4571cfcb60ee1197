"""The countdown banner of the inactivity warning (and of the card-removed pause).

Why it ticks by itself: the controller decides when the session is
abandoned, from its own clock; this banner only shows the seconds left
between two updates, so the patient sees a smooth count even if the
controller re-presents the view only now and then.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QFrame, QHBoxLayout, QProgressBar, QVBoxLayout, QWidget

from app.ui.widgets.picture import Picture
from app.ui.widgets.text import label


class CountdownBanner(QFrame):
    def __init__(
        self,
        seconds: int,
        sentence: Callable[[int], str],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setProperty("role", "warning")
        self.setObjectName("countdown")
        self._total = max(1, seconds)
        self._left = max(0, seconds)
        self._sentence = sentence
        row = QHBoxLayout(self)
        row.setContentsMargins(24, 16, 24, 16)
        row.setSpacing(24)
        row.addWidget(Picture("clock", 96))
        column = QVBoxLayout()
        self.text = label(sentence(self._left), "title")
        column.addWidget(self.text)
        self.bar = QProgressBar()
        self.bar.setRange(0, self._total)
        self.bar.setValue(self._left)
        self.bar.setTextVisible(False)
        column.addWidget(self.bar)
        row.addLayout(column, 1)
        self._timer = QTimer(self)
        self._timer.setInterval(1000)
        self._timer.timeout.connect(self._tick)
        if seconds > 0:
            self._timer.start()

    @property
    def seconds_left(self) -> int:
        return self._left

    def set_seconds_left(self, seconds: int) -> None:
        """The controller's count (it decides): the bar keeps its full length from the start."""
        self._left = max(0, seconds)
        if self._left > self._total:
            self._total = self._left
            self.bar.setRange(0, self._total)
        self._show()
        if self._left > 0 and not self._timer.isActive():
            self._timer.start()

    def _tick(self) -> None:
        self._left = max(0, self._left - 1)
        self._show()

    def _show(self) -> None:
        self.text.setText(self._sentence(self._left))
        self.text.setAccessibleName(self.text.text())
        self.bar.setValue(self._left)
        if self._left == 0:
            self._timer.stop()
