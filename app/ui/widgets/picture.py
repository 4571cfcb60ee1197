"""A large pictogram on its own: the picture of a device, of the card, of the QR code."""

from __future__ import annotations

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import QSizePolicy, QWidget

from app.ui.widgets.pictograms import draw_pictogram


class Picture(QWidget):
    def __init__(self, pictogram: str, side: int = 220, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.pictogram = pictogram
        self._side = side
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.setFixedSize(QSize(side, side))

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        colour = self.palette().color(QPalette.ColorRole.WindowText)
        rtl = self.layoutDirection() == Qt.LayoutDirection.RightToLeft
        draw_pictogram(
            painter, self.pictogram, QRectF(self.rect()).adjusted(8, 8, -8, -8), colour, rtl
        )
        painter.end()
