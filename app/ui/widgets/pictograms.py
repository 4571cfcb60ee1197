"""Pictograms drawn with QPainter: every button shows a picture with its words.

Why drawn, not shipped: no external assets (licences, files to keep in
sync); the drawings take the button's text colour, so they follow both
themes; and arrows flip by themselves in a right-to-left layout. Each
drawing works in a 100x100 box, thick strokes, no fine detail: they must
read at arm's length for someone with poor sight.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen, QPolygonF

Drawer = Callable[[QPainter], None]


def _pen(p: QPainter, width: float = 8.0) -> None:
    colour = p.pen().color()
    pen = QPen(colour, width, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap)
    pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    p.setPen(pen)
    p.setBrush(Qt.BrushStyle.NoBrush)


def _fill(p: QPainter) -> None:
    p.setBrush(p.pen().color())


def _arrow(p: QPainter) -> None:
    _pen(p, 10)
    p.drawLine(QPointF(15, 50), QPointF(82, 50))
    p.drawPolyline(QPolygonF([QPointF(55, 22), QPointF(85, 50), QPointF(55, 78)]))


def _back(p: QPainter) -> None:
    p.translate(100, 0)
    p.scale(-1, 1)
    _arrow(p)


def _check(p: QPainter) -> None:
    _pen(p, 12)
    p.drawPolyline(QPolygonF([QPointF(15, 52), QPointF(40, 78), QPointF(86, 22)]))


def _cross(p: QPainter) -> None:
    _pen(p, 12)
    p.drawLine(QPointF(20, 20), QPointF(80, 80))
    p.drawLine(QPointF(80, 20), QPointF(20, 80))


def _stop(p: QPainter) -> None:
    _pen(p, 7)
    pts = [
        QPointF(
            50 + 44 * math.cos(math.radians(22.5 + 45 * i)),
            50 + 44 * math.sin(math.radians(22.5 + 45 * i)),
        )
        for i in range(8)
    ]
    p.drawPolygon(QPolygonF(pts))
    _fill(p)
    p.drawRect(QRectF(26, 42, 48, 16))


def _help(p: QPainter) -> None:
    _pen(p, 7)
    p.drawEllipse(QRectF(6, 6, 88, 88))
    path = QPainterPath()
    path.moveTo(35, 38)
    path.cubicTo(35, 18, 67, 18, 66, 38)
    path.cubicTo(65, 50, 50, 50, 50, 62)
    p.drawPath(path)
    _fill(p)
    p.drawEllipse(QRectF(45, 72, 10, 10))


def _speaker(p: QPainter) -> None:
    _pen(p, 6)
    _fill(p)
    p.drawPolygon(
        QPolygonF(
            [
                QPointF(10, 38),
                QPointF(28, 38),
                QPointF(50, 18),
                QPointF(50, 82),
                QPointF(28, 62),
                QPointF(10, 62),
            ]
        )
    )
    _pen(p, 7)
    p.drawArc(QRectF(40, 30, 30, 40), -60 * 16, 120 * 16)
    p.drawArc(QRectF(40, 15, 50, 70), -60 * 16, 120 * 16)


def _card(p: QPainter) -> None:
    _pen(p, 6)
    p.drawRoundedRect(QRectF(8, 22, 84, 56), 8, 8)
    _fill(p)
    p.drawRoundedRect(QRectF(18, 38, 20, 16), 3, 3)
    _pen(p, 6)
    p.drawLine(QPointF(48, 42), QPointF(80, 42))
    p.drawLine(QPointF(48, 58), QPointF(72, 58))


def _qr(p: QPainter) -> None:
    _pen(p, 6)
    for x, y in ((10, 10), (62, 10), (10, 62)):
        p.drawRect(QRectF(x, y, 28, 28))
    _fill(p)
    for x, y in ((19, 19), (71, 19), (19, 71), (62, 62), (80, 62), (62, 80), (80, 80), (50, 50)):
        p.drawRect(QRectF(x, y, 10, 10))


def _person(p: QPainter) -> None:
    _pen(p, 6)
    _fill(p)
    p.drawEllipse(QRectF(35, 10, 30, 30))
    path = QPainterPath()
    path.moveTo(18, 92)
    path.cubicTo(18, 45, 82, 45, 82, 92)
    path.closeSubpath()
    p.drawPath(path)


def _people(p: QPainter) -> None:
    p.save()
    p.translate(-14, 8)
    p.scale(0.8, 0.8)
    _person(p)
    p.restore()
    p.translate(32, 8)
    p.scale(0.8, 0.8)
    _person(p)


def _doctor(p: QPainter) -> None:
    _person(p)
    p.setPen(QPen(QColor("#FFFFFF") if p.pen().color().lightness() < 128 else QColor("#000000"), 6))
    p.drawLine(QPointF(50, 60), QPointF(50, 84))
    p.drawLine(QPointF(38, 72), QPointF(62, 72))


def _thermometer(p: QPainter) -> None:
    _pen(p, 6)
    p.drawRoundedRect(QRectF(40, 8, 20, 62), 10, 10)
    _fill(p)
    p.drawEllipse(QRectF(32, 62, 36, 32))
    p.drawRect(QRectF(46, 36, 8, 30))


def _oximeter(p: QPainter) -> None:
    _pen(p, 6)
    p.drawRoundedRect(QRectF(10, 30, 80, 48), 14, 14)
    p.drawRoundedRect(QRectF(30, 8, 40, 44), 18, 18)  # the finger
    _fill(p)
    p.drawRect(QRectF(24, 58, 14, 10))
    p.drawRect(QRectF(44, 58, 14, 10))
    p.drawRect(QRectF(64, 58, 8, 10))


def _tensiometer(p: QPainter) -> None:
    _pen(p, 6)
    p.drawEllipse(QRectF(8, 8, 62, 62))
    p.drawLine(QPointF(39, 39), QPointF(58, 22))
    p.drawRoundedRect(QRectF(58, 66, 34, 26), 6, 6)
    path = QPainterPath()
    path.moveTo(39, 70)
    path.cubicTo(39, 90, 58, 84, 58, 79)
    p.drawPath(path)


def _phone(p: QPainter) -> None:
    _pen(p, 6)
    p.drawRoundedRect(QRectF(28, 6, 44, 88), 8, 8)
    _fill(p)
    p.drawEllipse(QRectF(45, 78, 10, 10))


def _document(p: QPainter) -> None:
    _pen(p, 6)
    p.drawPolygon(
        QPolygonF(
            [QPointF(18, 6), QPointF(62, 6), QPointF(82, 26), QPointF(82, 94), QPointF(18, 94)]
        )
    )
    for y in (38, 54, 70):
        p.drawLine(QPointF(30, y), QPointF(70, y))


def _euro(p: QPainter) -> None:
    _pen(p, 8)
    p.drawArc(QRectF(22, 14, 64, 72), 45 * 16, 270 * 16)
    p.drawLine(QPointF(12, 42), QPointF(60, 42))
    p.drawLine(QPointF(12, 58), QPointF(56, 58))


def _warning(p: QPainter) -> None:
    _pen(p, 7)
    p.drawPolygon(QPolygonF([QPointF(50, 8), QPointF(94, 88), QPointF(6, 88)]))
    p.drawLine(QPointF(50, 36), QPointF(50, 60))
    _fill(p)
    p.drawEllipse(QRectF(45, 68, 10, 10))


def _info(p: QPainter) -> None:
    _pen(p, 7)
    p.drawEllipse(QRectF(6, 6, 88, 88))
    p.drawLine(QPointF(50, 44), QPointF(50, 74))
    _fill(p)
    p.drawEllipse(QRectF(44, 22, 12, 12))


def _text_size(p: QPainter) -> None:
    _pen(p, 7)
    p.drawPolyline(QPolygonF([QPointF(6, 90), QPointF(30, 40), QPointF(54, 90)]))
    p.drawLine(QPointF(16, 72), QPointF(44, 72))
    p.drawPolyline(QPolygonF([QPointF(52, 90), QPointF(73, 10), QPointF(96, 90)]))
    p.drawLine(QPointF(60, 62), QPointF(88, 62))


def _contrast(p: QPainter) -> None:
    _pen(p, 7)
    p.drawEllipse(QRectF(8, 8, 84, 84))
    _fill(p)
    path = QPainterPath()
    path.moveTo(50, 8)
    path.arcTo(QRectF(8, 8, 84, 84), 90, -180)
    path.closeSubpath()
    p.drawPath(path)


def _globe(p: QPainter) -> None:
    _pen(p, 6)
    p.drawEllipse(QRectF(8, 8, 84, 84))
    p.drawEllipse(QRectF(30, 8, 40, 84))
    p.drawLine(QPointF(8, 50), QPointF(92, 50))
    p.drawLine(QPointF(16, 28), QPointF(84, 28))
    p.drawLine(QPointF(16, 72), QPointF(84, 72))


def _mic(p: QPainter) -> None:
    _pen(p, 7)
    p.drawRoundedRect(QRectF(36, 6, 28, 52), 14, 14)
    p.drawArc(QRectF(22, 24, 56, 50), 180 * 16, 180 * 16)
    p.drawLine(QPointF(50, 74), QPointF(50, 92))
    p.drawLine(QPointF(34, 92), QPointF(66, 92))


def _slash(p: QPainter) -> None:
    _pen(p, 9)
    p.drawLine(QPointF(10, 10), QPointF(90, 90))


def _mic_off(p: QPainter) -> None:
    _mic(p)
    _slash(p)


def _camera(p: QPainter) -> None:
    _pen(p, 6)
    p.drawRoundedRect(QRectF(6, 28, 62, 46), 8, 8)
    _fill(p)
    p.drawPolygon(QPolygonF([QPointF(72, 51), QPointF(94, 34), QPointF(94, 68)]))


def _camera_off(p: QPainter) -> None:
    _camera(p)
    _slash(p)


def _hang_up(p: QPainter) -> None:
    _pen(p, 6)
    _fill(p)
    path = QPainterPath()
    path.moveTo(6, 60)
    path.cubicTo(20, 30, 80, 30, 94, 60)
    path.lineTo(76, 70)
    path.lineTo(70, 56)
    path.cubicTo(58, 50, 42, 50, 30, 56)
    path.lineTo(24, 70)
    path.closeSubpath()
    p.drawPath(path)


def _keyboard(p: QPainter) -> None:
    _pen(p, 6)
    p.drawRoundedRect(QRectF(4, 22, 92, 56), 8, 8)
    _fill(p)
    for row, y in enumerate((34, 48)):
        for i in range(6 - row):
            p.drawRect(QRectF(14 + i * 13 + row * 6, y, 7, 7))
    p.drawRect(QRectF(28, 62, 44, 6))


def _lock(p: QPainter) -> None:
    _pen(p, 7)
    p.drawArc(QRectF(28, 8, 44, 50), 0, 180 * 16)
    p.drawLine(QPointF(28, 33), QPointF(28, 44))
    p.drawLine(QPointF(72, 33), QPointF(72, 44))
    _fill(p)
    p.drawRoundedRect(QRectF(18, 44, 64, 48), 6, 6)


def _clock(p: QPainter) -> None:
    _pen(p, 7)
    p.drawEllipse(QRectF(8, 8, 84, 84))
    p.drawLine(QPointF(50, 50), QPointF(50, 22))
    p.drawLine(QPointF(50, 50), QPointF(70, 60))


def _home(p: QPainter) -> None:
    _pen(p, 7)
    p.drawPolyline(QPolygonF([QPointF(8, 50), QPointF(50, 12), QPointF(92, 50)]))
    p.drawPolyline(QPolygonF([QPointF(20, 42), QPointF(20, 90), QPointF(80, 90), QPointF(80, 42)]))
    p.drawRect(QRectF(42, 62, 16, 28))


def _skip(p: QPainter) -> None:
    _pen(p, 8)
    _fill(p)
    p.drawPolygon(QPolygonF([QPointF(12, 20), QPointF(52, 50), QPointF(12, 80)]))
    p.drawPolygon(QPolygonF([QPointF(48, 20), QPointF(82, 50), QPointF(48, 80)]))
    p.drawLine(QPointF(90, 20), QPointF(90, 80))


def _hand(p: QPainter) -> None:
    _pen(p, 7)
    for x, top in ((26, 30), (40, 14), (54, 12), (68, 22)):
        p.drawLine(QPointF(x, top), QPointF(x, 58))
    path = QPainterPath()
    path.moveTo(20, 50)
    path.cubicTo(20, 96, 74, 100, 82, 62)
    path.lineTo(90, 40)
    p.drawPath(path)


def _send(p: QPainter) -> None:
    _pen(p, 6)
    _fill(p)
    p.drawPolygon(QPolygonF([QPointF(8, 14), QPointF(94, 50), QPointF(8, 86), QPointF(22, 50)]))


def _backspace(p: QPainter) -> None:
    _pen(p, 6)
    p.drawPolygon(
        QPolygonF(
            [QPointF(30, 18), QPointF(94, 18), QPointF(94, 82), QPointF(30, 82), QPointF(6, 50)]
        )
    )
    p.drawLine(QPointF(48, 36), QPointF(76, 64))
    p.drawLine(QPointF(76, 36), QPointF(48, 64))


PICTOGRAMS: dict[str, Drawer] = {
    "next": _arrow,
    "back": _back,
    "yes": _check,
    "no": _cross,
    "stop": _stop,
    "help": _help,
    "speaker": _speaker,
    "card": _card,
    "qr": _qr,
    "person": _person,
    "people": _people,
    "doctor": _doctor,
    "thermometer": _thermometer,
    "oximeter": _oximeter,
    "tensiometer": _tensiometer,
    "phone": _phone,
    "document": _document,
    "euro": _euro,
    "warning": _warning,
    "info": _info,
    "text-size": _text_size,
    "contrast": _contrast,
    "globe": _globe,
    "mic": _mic,
    "mic-off": _mic_off,
    "camera": _camera,
    "camera-off": _camera_off,
    "hang-up": _hang_up,
    "keyboard": _keyboard,
    "lock": _lock,
    "clock": _clock,
    "home": _home,
    "skip": _skip,
    "hand": _hand,
    "send": _send,
    "backspace": _backspace,
}

# Drawings that point somewhere: mirrored in a right-to-left layout.
DIRECTIONAL = frozenset({"next", "back", "send", "skip", "backspace"})


def draw_pictogram(
    painter: QPainter, name: str, box: QRectF, colour: QColor, right_to_left: bool = False
) -> None:
    """Draw pictogram `name` centred in `box` (kept square) in `colour`."""
    drawer = PICTOGRAMS[name]
    side = min(box.width(), box.height())
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    painter.translate(box.center().x() - side / 2, box.center().y() - side / 2)
    painter.scale(side / 100.0, side / 100.0)
    if right_to_left and name in DIRECTIONAL:
        painter.translate(100, 0)
        painter.scale(-1, 1)
    painter.setPen(QPen(colour, 6))
    drawer(painter)
    painter.restore()
