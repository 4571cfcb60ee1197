"""A QR code drawn from a URL: black modules on white with a quiet zone, in every theme.

Why always black on white (even in high contrast, where the screen is
black): phone cameras and their QR readers expect dark modules on a light
ground with a four-module quiet zone; an inverted code is not read by many
of them. The code is made with segno (error correction "M": a smudged cabin
screen still scans) and drawn pixel-exact, so it stays sharp at any size.
"""

from __future__ import annotations

import segno
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPixmap
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget

QUIET_ZONE = 4  # modules of white around the code (ISO/IEC 18004)


def qr_image(data: str, module_px: int) -> QImage:
    """The code as a QImage, `module_px` pixels per module, quiet zone included."""
    code = segno.make(data, error="m", micro=False)
    matrix = list(code.matrix)
    width = len(matrix) + 2 * QUIET_ZONE
    side = width * module_px
    image = QImage(side, side, QImage.Format.Format_RGB32)
    image.fill(QColor("#FFFFFF"))
    painter = QPainter(image)
    black = QColor("#000000")
    for y, row in enumerate(matrix):
        for x, dark in enumerate(row):
            if dark:
                left, top = (x + QUIET_ZONE) * module_px, (y + QUIET_ZONE) * module_px
                painter.fillRect(left, top, module_px, module_px, black)
    painter.end()
    return image


class QrCode(QLabel):
    """A fixed-size label showing the QR code of `data` (at most `side` pixels wide)."""

    def __init__(self, data: str, side: int = 240, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        modules = segno.make(data, error="m", micro=False).symbol_size(scale=1, border=QUIET_ZONE)[
            0
        ]
        module_px = max(2, int(side) // int(modules))
        pixmap = QPixmap.fromImage(qr_image(data, module_px))
        self.setPixmap(pixmap)
        self.setFixedSize(QSize(pixmap.width(), pixmap.height()))
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setStyleSheet("background-color: #FFFFFF;")
