"""The oximeter's pulse wave, drawn live while it measures (issue 16).

Why a painted line and not a chart widget: the wave changes five times a second
(the controller's pace) and only this widget repaints; nothing else on the
screen is rebuilt, so a tap on "Skip" is never lost. The samples are the
device's own pleth (0-100), oldest first; the line takes the text colour of
the theme (high contrast included) and no value is written on it.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QSize
from PySide6.QtGui import QPainter, QPaintEvent, QPalette, QPen, QPolygonF
from PySide6.QtWidgets import QSizePolicy, QWidget


class PlethWave(QWidget):
    def __init__(
        self, samples: tuple[int, ...] = (), span: int = 300, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("pleth")
        self.setMinimumHeight(120)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self._span = max(2, span)
        self._samples: tuple[int, ...] = ()
        self.repaints = 0  # set_samples calls that changed the wave (tests read it)
        self.set_samples(samples)

    def sizeHint(self) -> QSize:
        return QSize(600, 140)

    @property
    def samples(self) -> tuple[int, ...]:
        return self._samples

    def set_samples(self, samples: tuple[int, ...]) -> None:
        shown = tuple(max(0, min(100, s)) for s in samples[-self._span :])
        if shown != self._samples:
            self._samples = shown
            self.repaints += 1
            self.update()

    def points(self, width: float, height: float) -> list[QPointF]:
        """Where each sample goes: the newest at the right edge, 100 at the top."""
        step = width / (self._span - 1)
        start = width - step * (len(self._samples) - 1)
        margin = 4.0
        usable = max(1.0, height - 2 * margin)
        return [
            QPointF(start + i * step, margin + usable * (1 - s / 100))
            for i, s in enumerate(self._samples)
        ]

    def paintEvent(self, event: QPaintEvent) -> None:
        del event
        if len(self._samples) < 2:
            return
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        pen = QPen(self.palette().color(QPalette.ColorRole.WindowText))
        pen.setWidthF(4.0)
        painter.setPen(pen)
        painter.drawPolyline(QPolygonF(self.points(self.width(), self.height())))
        painter.end()
