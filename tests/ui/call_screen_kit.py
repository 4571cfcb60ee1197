"""What the call screen's tests share: real frames on a real timer, the screen, its video.

The frame watchdog's tests (test_call_frames.py) and the doctor's own switches'
(test_call_doctor_media.py) drive the same window the same way.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import QApplication, QLabel, QWidget

from app.ui.main_window import KioskWindow
from app.ui.screens.call import CallScreen
from app.ui.views import CallView
from tests.ui.sample_views import sample_views

FACE = QColor("#C08060")  # the doctor's frames are this colour, easy to find in a grab


def frame(n: int, colour: QColor = FACE) -> QImage:
    """A real 640x480 frame, a little different each time (a face that moves)."""
    image = QImage(640, 480, QImage.Format.Format_RGB888)
    image.fill(colour)
    p = QPainter(image)
    p.fillRect(100 + n % 40, 120, 80, 40, QColor("#303030"))  # the eyes move
    p.end()
    return image


def sample_call() -> CallView:
    view = sample_views()["call"]
    assert isinstance(view, CallView)
    return view


def show_call(window: KioskWindow, view: CallView | None = None) -> CallScreen:
    window.present(view or sample_call())
    QApplication.processEvents()
    screen = window.current_screen
    assert isinstance(screen, CallScreen)
    return screen


def video(screen: CallScreen) -> QLabel:
    assert screen.video is not None
    return screen.video


def centre_colour(screen: CallScreen, height_share: float = 0.25) -> QColor:
    """A pixel a quarter across the video (clear of the self view), `height_share` down."""
    shown = video(screen)
    shot = shown.grab().toImage()
    return shot.pixelColor(shown.width() // 4, int(shown.height() * height_share))


def feed(
    window: KioskWindow, fps: float, colour: QColor = FACE
) -> tuple[QTimer, list[int], list[float]]:
    """Frames on a real timer; returns it, the count sent and the time of the last one.

    The timer is the window's child: a test that fails mid-way cannot leave it feeding a
    deleted window during the next test's set-up (seen in CI)."""
    sent = [0]
    last = [0.0]
    timer = QTimer(window)
    timer.setInterval(round(1000 / fps))

    def tick() -> None:
        sent[0] += 1
        window.set_remote_frame(frame(sent[0], colour))
        last[0] = time.monotonic()

    timer.timeout.connect(tick)
    timer.start()
    return timer, sent, last


def save_png(screen: QWidget, name: str, env: str) -> None:
    """The window as a PNG in the folder `$env` names, when it names one (to look at)."""
    where = os.environ.get(env)
    if where:
        Path(where).mkdir(parents=True, exist_ok=True)
        screen.window().grab().save(str(Path(where) / f"{name}.png"))
