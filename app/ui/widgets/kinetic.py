"""Touch scrolling: a finger drags a list or a long text, as on a phone.

Why QScroller on the left mouse button: the cabin's touch screen reaches Qt as
mouse presses (no touch events under cage/xcb with most USB panels), and an
elderly patient drags the text rather than aiming at a 64 px scroll bar. A
press that does not move is still a click: the scroller only takes over past
a drag distance, so buttons inside a scrolling body keep working.
"""

from __future__ import annotations

from PySide6.QtWidgets import QAbstractScrollArea, QScroller, QScrollerProperties

DRAG_START_M = 0.004  # metres of finger travel before a press becomes a drag (~15 px)


def enable_touch_scroll(area: QAbstractScrollArea) -> QScroller:
    """Let a finger drag `area`'s viewport; returns the scroller (tests drive it)."""
    viewport = area.viewport()
    QScroller.grabGesture(viewport, QScroller.ScrollerGestureType.LeftMouseButtonGesture)
    scroller = QScroller.scroller(viewport)
    props = scroller.scrollerProperties()
    props.setScrollMetric(QScrollerProperties.ScrollMetric.DragStartDistance, DRAG_START_M)
    props.setScrollMetric(QScrollerProperties.ScrollMetric.OvershootDragResistanceFactor, 0.2)
    props.setScrollMetric(
        QScrollerProperties.ScrollMetric.VerticalOvershootPolicy,
        QScrollerProperties.OvershootPolicy.OvershootAlwaysOff,
    )
    props.setScrollMetric(
        QScrollerProperties.ScrollMetric.HorizontalOvershootPolicy,
        QScrollerProperties.OvershootPolicy.OvershootAlwaysOff,
    )
    scroller.setScrollerProperties(props)
    return scroller
