"""Touch scrolling: a finger drags a long text or a list, as on a phone.

Why an application-wide filter and not QScroller: the cabin's touch screen
reaches Qt as mouse presses, and QScroller's left-button gesture holds back
the press a child button needs, so taps inside a scrolling body were lost
(tried: a checkable choice stopped checking). Here a press goes through
untouched; only once the finger has travelled `DRAG_START_PX` does the
press become a drag: the button under it is released without a click and
the area follows the finger. A press that does not move is a click, as
before.

    touch_scrollable(area)                       # mark a scroll area
    app.installEventFilter(DragScroller(window)) # once, by the window
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QAbstractButton, QAbstractScrollArea, QScrollBar, QWidget

DRAG_START_PX = 16  # finger travel before a press becomes a drag (a tap wobbles a few px)
_PROPERTY = "touchScroll"


def touch_scrollable(area: QAbstractScrollArea) -> None:
    """Let a finger drag `area` (the window's `DragScroller` does the dragging)."""
    area.setProperty(_PROPERTY, True)


def _area_of(widget: QObject) -> QAbstractScrollArea | None:
    node: QObject | None = widget
    while node is not None:
        if isinstance(node, QScrollBar):
            return None  # the bar itself is dragged as a bar
        if isinstance(node, QAbstractScrollArea) and node.property(_PROPERTY):
            return node
        node = node.parent()
    return None


class DragScroller(QObject):
    """Turns a finger's drag over a touch-scrollable area into scrolling."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._area: QAbstractScrollArea | None = None
        self._pressed: QWidget | None = None
        self._start = QPointF()
        self._start_value = 0
        self._stamp = -1  # the press being followed (it goes up the parents when ignored)
        self.dragging = False
        self.drags = 0  # drags seen (a figure for tests)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if not isinstance(event, QMouseEvent):
            return False
        if kind == QEvent.Type.MouseButtonPress and event.button() == Qt.MouseButton.LeftButton:
            if self._area is None or not self.dragging:
                area = _area_of(watched)
                if area is None and self._area is not None and event.timestamp() == self._stamp:
                    return False  # the same press, ignored by a label, going up to the parents
                self._stamp = event.timestamp()
                self._area = area
                self.dragging = False
                if area is not None:
                    self._start = event.globalPosition()
                    self._start_value = area.verticalScrollBar().value()
                    if self._pressed is None and isinstance(watched, QWidget):
                        self._pressed = watched
            return False
        if self._area is None:
            return False
        if kind == QEvent.Type.MouseMove and event.buttons() & Qt.MouseButton.LeftButton:
            dy = event.globalPosition().y() - self._start.y()
            if not self.dragging and abs(dy) >= DRAG_START_PX:
                self.dragging = True
                self.drags += 1
                if isinstance(self._pressed, QAbstractButton):
                    self._pressed.setDown(False)  # the finger left to scroll: no click
            if self.dragging:
                self._area.verticalScrollBar().setValue(self._start_value - round(dy))
                return True
            return False
        if kind == QEvent.Type.MouseButtonRelease and event.button() == Qt.MouseButton.LeftButton:
            swallow = self.dragging
            self._area = None
            self._pressed = None
            self.dragging = False
            return swallow
        return False
