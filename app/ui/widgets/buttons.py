"""The one button of the kiosk: big, a pictogram with the words, text that wraps.

Why a custom paint: QPushButton neither wraps its text nor reports the
height wrapped text needs, so a long label in large text or in another
language would be cut. This button computes its size from its font
metrics (height-for-width), paints the style sheet's bevel (colours and
borders come from the theme) and then the pictogram and the words itself;
`text_fits()` lets the tests prove nothing is cut.

Why it filters touches (see docs/ui.md, "Touch and keyboard"): an elderly
hand often taps twice, and a screen may change between the moment a finger
lands and the moment Qt delivers the press. So:

- a double tap counts once: a press that comes less than `DOUBLE_TAP_MS`
  after the last click, on the same button or where the finger just was
  (`DOUBLE_TAP_PX`), is ignored, whichever button is there now (the next
  question's "No" under the finger included). Keys of the on-screen keyboard
  opt out (`debounce=False`): typing "ll" is two letters;
- a press that began before the button appeared never clicks it: a release
  from a press on the previous screen's button is dropped, and so is a press
  under way when the button is hidden or changes its words. On a real
  display the events' own timestamps (the X server's clock) also tell a
  press the busy event loop delivers late, after the new screen appeared,
  from a fresh one. Under the offscreen platform (the tests) events carry
  QTest's invented clock, which jumps half a second per click whatever the
  real time: that timestamp check is off there unless a test turns it on.
"""

from __future__ import annotations

import time
import weakref
from dataclasses import dataclass

from PySide6.QtCore import QPoint, QRect, QRectF, QSize, Qt
from PySide6.QtGui import (
    QFontMetrics,
    QGuiApplication,
    QHideEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPalette,
    QShowEvent,
)
from PySide6.QtWidgets import QPushButton, QSizePolicy, QStyle, QStyleOptionButton, QWidget

from app.ui.theme import MIN_TOUCH_PX
from app.ui.widgets.pictograms import draw_pictogram

_PAD_X = 24
_PAD_Y = 14
_GAP = 18
PICTURE_GAP = _GAP  # between the pictogram and the words
_FLAGS = Qt.TextFlag.TextWordWrap

DOUBLE_TAP_MS = 400  # a second press this soon after a click is the same intention
DOUBLE_TAP_PX = 96  # ... when it lands on the same button or this close to the last click
FRESH_MARGIN_MS = 40  # tolerance when telling whether a press began before a button appeared
CLOCK_RESET_MS = 60_000  # a timestamp this far off the learnt offset is another clock


def _now_ms() -> float:
    return time.monotonic() * 1000.0


@dataclass
class _Click:
    at: int  # event timestamp of the release
    where: QPoint  # global position
    button: weakref.ReferenceType[BigButton]


class _Touches:
    """What all the kiosk's buttons share: the last click, and the touch clock's offset."""

    last: _Click | None = None
    offset: float | None = None  # smallest (monotonic ms - event timestamp) seen
    clock_guard: bool | None = None  # None: decided from the platform on first use

    @classmethod
    def guard_by_clock(cls) -> bool:
        if cls.clock_guard is None:
            cls.clock_guard = QGuiApplication.platformName() != "offscreen"
        return cls.clock_guard

    @classmethod
    def touched_at(cls, stamp: int) -> float:
        """When (monotonic ms) the finger touched, from the event's timestamp.

        The offset between the two clocks is learnt as the smallest difference
        seen (the delivery with the least delay); a press delivered late then
        shows its true, earlier time.
        """
        now = _now_ms()
        offset = now - stamp
        if cls.offset is None or offset < cls.offset or offset - cls.offset > CLOCK_RESET_MS:
            cls.offset = offset
        return stamp + cls.offset


def reset_touches(clock_guard: bool | None = None) -> None:
    """Forget the last click and the learnt clock; tests that forge timestamps turn the guard on."""
    _Touches.last = None
    _Touches.offset = None
    _Touches.clock_guard = clock_guard


class BigButton(QPushButton):
    """kind: "primary" (the main action), "secondary", "danger" (Stop), "bar", "urgent", "key"."""

    pad_x = _PAD_X
    pad_y = _PAD_Y
    debounce = True  # keys of the on-screen keyboard set False: "ll" is two letters
    renew_on_text = True  # new words: a new button (a press begun on the old words is dropped)

    def __init__(
        self,
        text: str,
        pictogram: str | None = None,
        kind: str = "secondary",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(text, parent)
        self._shown_at = _now_ms()
        self._press_ok = False  # the press under way began on this button, as it is now
        self.ignored_presses = 0  # double taps and stale presses (for tests and the probe)
        self.pictogram = pictogram
        self.setProperty("kind", kind)
        self.setAccessibleName(text)
        policy = QSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        policy.setHeightForWidth(True)
        self.setSizePolicy(policy)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # a touch screen: no focus ring to mislead
        self.painted_down_at: float | None = None  # for the touch-feedback benchmark

    # -- touch safety -------------------------------------------------------------

    def setText(self, text: str) -> None:
        """New words are a new button: a press begun on the old words does not click."""
        if self.renew_on_text and text != self.text():
            self.renew()
        super().setText(text)

    def renew(self) -> None:
        """The button now means something else (updated in place): as if it just appeared."""
        self._shown_at = _now_ms()
        self._cancel_press()

    def _cancel_press(self) -> None:
        self._press_ok = False
        if self.isDown():
            self.setDown(False)

    def showEvent(self, event: QShowEvent) -> None:
        if not event.spontaneous():
            self._shown_at = _now_ms()
        super().showEvent(event)

    def hideEvent(self, event: QHideEvent) -> None:
        if not event.spontaneous():
            self._cancel_press()
        super().hideEvent(event)

    def _is_double_tap(self, event: QMouseEvent) -> bool:
        last = _Touches.last
        if not self.debounce or last is None:
            return False
        gap = event.timestamp() - last.at
        if not 0 <= gap < DOUBLE_TAP_MS:
            return False
        same = last.button() is self
        near = (event.globalPosition().toPoint() - last.where).manhattanLength() <= DOUBLE_TAP_PX
        return same or near

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            super().mousePressEvent(event)
            return
        stale = False
        if _Touches.guard_by_clock():
            stale = _Touches.touched_at(event.timestamp()) < self._shown_at - FRESH_MARGIN_MS
        if stale or self._is_double_tap(event):
            self._press_ok = False
            self.ignored_presses += 1
            event.accept()  # ours, so the release comes here too and is dropped
            return
        self._press_ok = True
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if not self._press_ok:
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            super().mouseReleaseEvent(event)
            return
        where = event.globalPosition().toPoint()
        if not self._press_ok:
            event.accept()
            last = _Touches.last
            if self.debounce and last is not None and 0 <= event.timestamp() - last.at:
                last.at = event.timestamp()  # a burst of taps counts once, however long
            return
        self._press_ok = False
        clicks = self.isDown() and self.hitButton(event.position().toPoint())
        if clicks and self.debounce:
            _Touches.last = _Click(event.timestamp(), where, weakref.ref(self))
        super().mouseReleaseEvent(event)

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
        used = 2 * self.pad_x + (side + _GAP if side else 0)
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
        return max(
            self._min_height(), text_h + 2 * self.pad_y, self._picture_side() + 2 * self.pad_y
        )

    def sizeHint(self) -> QSize:
        metrics = QFontMetrics(self.font())
        side = self._picture_side()
        natural = (
            metrics.horizontalAdvance(self.text()) + 2 * self.pad_x + (side + _GAP if side else 0)
        )
        width = max(self._min_height(), self.minimumWidth(), min(natural + 2, 760))
        return QSize(width, self.heightForWidth(width))

    def minimumSizeHint(self) -> QSize:
        metrics = QFontMetrics(self.font())
        side = self._picture_side()
        longest = max((metrics.horizontalAdvance(w) for w in self.text().split()), default=0)
        width = max(MIN_TOUCH_PX, longest + 2 * self.pad_x + (side + _GAP if side else 0) + 2)
        return QSize(width, self.heightForWidth(width))

    def _areas(self) -> tuple[QRect, QRect]:
        """(picture, text) rectangles inside the button, mirrored right to left."""
        r = self.rect().adjusted(self.pad_x, self.pad_y, -self.pad_x, -self.pad_y)
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


def keep_words_whole(*buttons: BigButton | None) -> None:
    """Give each button its longest word's width as a hard minimum.

    A row of buttons sharing out a narrow screen (1280 px, large text) otherwise
    squeezes one below the width of its longest word, which is then cut.
    """
    for button in buttons:
        if button is not None:
            button.ensurePolished()  # the theme's font, so the width is the real one
            button.setMinimumWidth(button.minimumSizeHint().width())
