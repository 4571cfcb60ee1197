"""How the 3.11 finding was measured: None/True/False references lost per void Qt call.

    python tests/soak/none_leak.py            # any Python with PySide6 (no kiosk import)

Calls a few void-returning Qt methods (QPainter.setPen/save/restore,
QWidget.setEnabled) N times each and prints how sys.getrefcount(None), True
and False moved. On CPython 3.11 with PySide6-Essentials 6.12.0 each call
loses one reference (the count falls by N); with 6.11.3 on 3.11 it does not
move; on 3.12+ the three are immortal and the count stays at 2**32 - 1
whatever happens. Exit 1 when a count falls by N/2 or more.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

N = 1_000  # None starts with only a few thousand references on 3.11: more would abort there


def main() -> int:
    from PySide6 import __version__ as pyside
    from PySide6.QtGui import QColor, QImage, QPainter, QPen
    from PySide6.QtWidgets import QApplication, QWidget

    app = QApplication.instance() or QApplication([])
    image = QImage(8, 8, QImage.Format.Format_RGB32)
    painter = QPainter(image)
    pen = QPen(QColor(1, 2, 3))
    widget = QWidget()

    def save_restore() -> None:
        painter.save()
        painter.restore()

    calls: dict[str, Callable[[], object]] = {
        "QPainter.setPen": lambda: painter.setPen(pen),
        "QPainter.save+restore": save_restore,
        "QWidget.setEnabled(True)": lambda: widget.setEnabled(True),
        "QWidget.setEnabled(False)": lambda: widget.setEnabled(False),
    }
    print(
        f"Python {sys.version.split()[0]}, PySide6 {pyside}, {N} calls each; None starts at {sys.getrefcount(None)}"
    )
    leaking = False
    for name, call in calls.items():
        before = [sys.getrefcount(x) for x in (None, True, False)]
        for _ in range(N):
            call()
        after = [sys.getrefcount(x) for x in (None, True, False)]
        moved = [a - b for a, b in zip(after, before, strict=True)]
        leaking |= any(m <= -N // 2 for m in moved)
        print(f"  {name:28s} None {moved[0]:+8d}  True {moved[1]:+8d}  False {moved[2]:+8d}")
    painter.end()
    del app
    immortal = sys.getrefcount(None) >= 2**31 - 1
    print("None/True/False immortal here: " + ("yes (3.12+)" if immortal else "no"))
    return 1 if leaking else 0


if __name__ == "__main__":
    sys.exit(main())
