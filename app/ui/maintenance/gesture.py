"""Watches the welcome screen for the discreet way into maintenance (five corner taps).

An application event filter, like the window's own: it looks at presses and
lets every one through (a tap in the empty corner does nothing else). Only
while the welcome screen is shown; the pure rule is `app.maintenance.gesture`.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QWidget

from app.maintenance.gesture import CornerTaps, in_corner


class CornerGesture(QObject):
    def __init__(
        self,
        window: QWidget,
        top_of_body: Callable[[], int],
        armed: Callable[[], bool],
        on_gesture: Callable[[], None],
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(window)
        self._window = window
        self._top = top_of_body
        self._armed = armed
        self._on_gesture = on_gesture
        self._clock = clock
        self.taps = CornerTaps()
        self._last: tuple[int, tuple[int, int]] | None = None

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        if event.type() != QEvent.Type.MouseButtonPress or not isinstance(event, QMouseEvent):
            return False
        if not isinstance(watched, QWidget) or watched.window() is not self._window:
            return False
        # A press nobody accepts is delivered again to each parent: count it once.
        key = (event.timestamp(), event.globalPosition().toPoint().toTuple())
        if key == self._last:
            return False
        self._last = key
        if not self._armed():
            self.taps.reset()
            return False
        point = self._window.mapFromGlobal(event.globalPosition().toPoint())
        inside = in_corner(
            point.x(),
            point.y(),
            self._window.width(),
            self._top(),
            right_to_left=self._window.layoutDirection() == Qt.LayoutDirection.RightToLeft,
        )
        if self.taps.feed(inside, self._clock()):
            self._on_gesture()
        return False
