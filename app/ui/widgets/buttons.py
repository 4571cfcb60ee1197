"""The one button of the kiosk: big, a pictogram with the words, text that wraps.

Why a custom paint: QPushButton neither wraps its text nor reports the
height wrapped text needs, so a long label in large text or in another
language would be cut. This button computes its size from its font
metrics (height-for-width), paints the style sheet's bevel (colours and
borders come from the theme) and then the pictogram and the words itself;
`text_fits()` lets the tests prove nothing is cut.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QRect, QRectF, QSize, Qt
from PySide6.QtGui import QFontMetrics, QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import QPushButton, QSizePolicy, QStyle, QStyleOptionButton, QWidget

from app.ui.theme import MIN_TOUCH_PX
from app.ui.widgets.pictograms import draw_pictogram

_PAD_X = 24
_PAD_Y = 14
_GAP = 18
_FLAGS = Qt.TextFlag.TextWordWrap


class BigButton(QPushButton):
    """kind: "primary" (the main action), "secondary", "danger" (Stop), "bar", "urgent", "key"."""

    def __init__(
        self,
        text: str,
        pictogram: str | None = None,
        kind: str = "secondary",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(text, parent)
        self.pictogram = pictogram
        self.setProperty("kind", kind)
        self.setAccessibleName(text)
        policy = QSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        policy.setHeightForWidth(True)
        self.setSizePolicy(policy)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # a touch screen: no focus ring to mislead
        self.painted_down_at: float | None = None  # for the touch-feedback benchmark

    # -- geometry ---------------------------------------------------------------

    def _picture_side(self) -> int:
        if self.pictogram is None:
            return 0
        return max(32, int(self._font_px() * 1.7))

    def _font_px(self) -> int:
        px = self.font().pixelSize()
        return px if px > 0 else QFontMetrics(self.font()).height()

    def _text_width_for(self, width: int) -> int:
        side = self._picture_side()
        used = 2 * _PAD_X + (side + _GAP if side else 0)
        return max(1, width - used)

    def _text_height_for(self, text_width: int) -> int:
        metrics = QFontMetrics(self.font())
        return metrics.boundingRect(QRect(0, 0, text_width, 100000), _FLAGS, self.text()).height()

    def _min_height(self) -> int:
        return max(MIN_TOUCH_PX, self.minimumHeight())

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        text_h = self._text_height_for(self._text_width_for(width))
        return max(self._min_height(), text_h + 2 * _PAD_Y, self._picture_side() + 2 * _PAD_Y)

    def sizeHint(self) -> QSize:
        metrics = QFontMetrics(self.font())
        side = self._picture_side()
        natural = metrics.horizontalAdvance(self.text()) + 2 * _PAD_X + (side + _GAP if side else 0)
        width = max(self._min_height(), self.minimumWidth(), min(natural + 2, 760))
        return QSize(width, self.heightForWidth(width))

    def minimumSizeHint(self) -> QSize:
        metrics = QFontMetrics(self.font())
        side = self._picture_side()
        longest = max((metrics.horizontalAdvance(w) for w in self.text().split()), default=0)
        width = max(MIN_TOUCH_PX, longest + 2 * _PAD_X + (side + _GAP if side else 0) + 2)
        return QSize(width, self.heightForWidth(width))

    def _areas(self) -> tuple[QRect, QRect]:
        """(picture, text) rectangles inside the button, mirrored right to left."""
        r = self.rect().adjusted(_PAD_X, _PAD_Y, -_PAD_X, -_PAD_Y)
        side = self._picture_side()
        text_w = self._text_width_for(self.width())
        text_h = min(r.height(), self._text_height_for(text_w))
        if side == 0:
            return QRect(), QRect(r.x(), r.center().y() - text_h // 2, r.width(), text_h)
        block = min(r.width(), side + _GAP + self._used_text_width(text_w))
        left = r.x() + (r.width() - block) // 2
        rtl = self.layoutDirection() == Qt.LayoutDirection.RightToLeft
        pic_x = left + block - side if rtl else left
        text_x = left if rtl else left + side + _GAP
        pic = QRect(pic_x, r.center().y() - side // 2, side, side)
        text = QRect(text_x, r.center().y() - text_h // 2, block - side - _GAP, text_h)
        return pic, text

    def _used_text_width(self, text_width: int) -> int:
        metrics = QFontMetrics(self.font())
        return metrics.boundingRect(QRect(0, 0, text_width, 100000), _FLAGS, self.text()).width()

    def text_fits(self) -> bool:
        """Whether every word is drawn whole inside the button (used by the clipping tests)."""
        _, area = self._areas()
        metrics = QFontMetrics(self.font())
        need = metrics.boundingRect(QRect(0, 0, max(1, area.width()), 100000), _FLAGS, self.text())
        return need.width() <= area.width() and need.height() <= area.height() + 1

    # -- painting ---------------------------------------------------------------

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        option = QStyleOptionButton()
        self.initStyleOption(option)
        option.text = ""
        self.style().drawControl(QStyle.ControlElement.CE_PushButton, option, painter, self)
        # A checked button is drawn in the primary colours; the style sheet gives its text
        # colour as `selection-color` (HighlightedText), since its pseudo-state palette is private.
        role = (
            QPalette.ColorRole.HighlightedText
            if self.isChecked()
            else QPalette.ColorRole.ButtonText
        )
        colour = self.palette().color(role)
        pic, text = self._areas()
        rtl = self.layoutDirection() == Qt.LayoutDirection.RightToLeft
        if self.pictogram is not None:
            draw_pictogram(painter, self.pictogram, QRectF(pic), colour, rtl)
        painter.setPen(colour)
        align = (
            Qt.AlignmentFlag.AlignCenter
            if self.pictogram is None
            else Qt.AlignmentFlag.AlignVCenter
        )
        if self.pictogram is not None:
            align |= Qt.AlignmentFlag.AlignRight if rtl else Qt.AlignmentFlag.AlignLeft
        painter.drawText(text, int(align) | int(_FLAGS), self.text())
        painter.end()
        if self.isDown() and self.painted_down_at is None:
            self.painted_down_at = time.perf_counter()
