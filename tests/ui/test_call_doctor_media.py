"""The doctor switches her camera or microphone off: the call screen says so, in plain words.

Issue 17 ("tell the patient plainly what happens"). When the doctor switches
her camera off, her frames stop, and the frame watchdog would say "the
picture is paused, the connection comes back" — wrong: she chose it. The
view (`CallView.doctor_camera_off` / `doctor_muted`, decided by the
controller) brings her choice; the screen shows a calm placeholder with her
name and "the doctor switched her camera off, you can keep talking", never
her last frame, and one short line over the video while her microphone is
off. The real window, real QImage frames through `KioskWindow.set_remote_frame`
(the path of app/ui/call_bridge.py) on a real QTimer, as in test_call_frames.py.
Set CALL_MEDIA_PNG_DIR to keep the rendered states (1280×800 and 1920×1080).
"""

from __future__ import annotations

import time
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QApplication, QLabel, QWidget
from pytestqt.qtbot import QtBot

from app.ui.i18n import Msg
from app.ui.main_window import KioskWindow
from app.ui.screens.call import (
    DOCTOR_CAMERA_OFF_MESSAGE,
    DOCTOR_LOST_MESSAGE,
    DOCTOR_MUTED_MESSAGE,
    REMOTE_STALL_S,
    VIDEO_PAUSED_MESSAGE,
    CallScreen,
)
from app.ui.views import CallView, Presentation
from tests.ui.call_screen_kit import FACE, centre_colour, feed, frame, save_png
from tests.ui.call_screen_kit import video as video_of
from tests.ui.checks import clipping_problems
from tests.ui.sample_views import sample_views


def _sample(**changes: object) -> CallView:
    view = sample_views()["call"]
    assert isinstance(view, CallView)
    return replace(view, **changes)  # type: ignore[arg-type]


def _present(window: KioskWindow, view: CallView) -> CallScreen:
    window.present(view)
    QApplication.processEvents()
    screen = window.current_screen
    assert isinstance(screen, CallScreen)
    return screen


def _words(screen: CallScreen) -> QLabel:
    words = screen.findChild(QLabel, "video-paused-text")
    assert words is not None
    return words


def _muted_line(screen: CallScreen) -> QWidget:
    line = screen._muted_line  # the words over the wide video, or their row in her card
    assert line is not None
    return line


def _muted_words(screen: CallScreen) -> QLabel:
    words = screen.findChild(QLabel, "doctor-muted-text")
    assert words is not None
    return words


def test_camera_off_says_so_and_never_the_paused_words(window: KioskWindow, qtbot: QtBot) -> None:
    screen = _present(window, _sample())
    timer, sent, _ = feed(window, 15)
    qtbot.waitUntil(lambda: sent[0] >= 15, timeout=20000)
    assert centre_colour(screen, 0.5) == FACE
    builds = window.builds

    _present(window, _sample(doctor_camera_off=True))  # she switches her camera off
    assert window.builds == builds  # in place: the draft, the keyboard, a hang-up stay
    assert screen.doctor_camera_off_shown and screen.video_paused
    assert _words(screen).isVisible()
    assert _words(screen).text() == window.t(DOCTOR_CAMERA_OFF_MESSAGE)
    name = screen.findChild(QLabel, "video-paused-name")
    assert name is not None and name.isVisible() and name.text() == _sample().doctor.name
    assert video_of(screen).pixmap().isNull()  # her last frame is gone, not only covered
    QApplication.processEvents()
    assert centre_colour(screen, 0.5) != FACE

    # What still comes (a browser sends black frames for a disabled camera) is not shown ...
    black, _, _ = feed(window, 15, QColor("#000000"))
    sent_before = sent[0]
    qtbot.waitUntil(lambda: sent[0] >= sent_before + 5, timeout=20000)
    assert screen.doctor_camera_off_shown and video_of(screen).pixmap().isNull()
    timer.stop()
    black.stop()
    # ... and when nothing comes, the watchdog does not put its "reconnecting" words instead.
    stopped = time.monotonic()
    qtbot.waitUntil(lambda: time.monotonic() - stopped > 2 * REMOTE_STALL_S, timeout=60000)
    QApplication.processEvents()
    assert _words(screen).text() == window.t(DOCTOR_CAMERA_OFF_MESSAGE)
    assert screen.doctor_camera_off_shown
    save_png(screen, "camera-off-1920", "CALL_MEDIA_PNG_DIR")

    _present(window, _sample())  # she switches it back on
    assert window.builds == builds
    assert not screen.doctor_camera_off_shown
    assert screen.video_paused and _words(screen).isHidden()  # her name until her first frame
    window.set_remote_frame(frame(1))
    assert not screen.video_paused
    QApplication.processEvents()
    assert centre_colour(screen, 0.5) == FACE
    # Back to watching: frames stop now, and the "paused" words come as before.
    qtbot.waitUntil(lambda: screen.video_paused, timeout=int(REMOTE_STALL_S * 1000) + 10000)
    assert _words(screen).isVisible()
    assert _words(screen).text() == window.t(VIDEO_PAUSED_MESSAGE)


def test_camera_back_with_no_frame_gives_the_watchdog_its_words(
    window: KioskWindow, qtbot: QtBot
) -> None:
    """Her camera is said to be back but no frame comes: then the line is the suspect."""
    screen = _present(window, _sample(doctor_camera_off=True))
    assert not screen._stall_timer.isActive()  # nothing to watch while her camera is off
    _present(window, _sample())
    assert screen._stall_timer.isActive()
    qtbot.waitUntil(lambda: _words(screen).isVisible(), timeout=int(REMOTE_STALL_S * 1000) + 10000)
    assert _words(screen).text() == window.t(VIDEO_PAUSED_MESSAGE)


def test_muted_is_one_line_over_her_video_changed_in_place(window: KioskWindow) -> None:
    screen = _present(window, _sample())
    window.set_remote_frame(frame(0))
    assert not screen.doctor_muted_shown
    screen.draft.setText("j'ai mal")  # the patient is typing: it must survive
    builds = window.builds
    _present(window, _sample(doctor_muted=True))
    assert window.builds == builds
    line = _muted_line(screen)
    assert screen.doctor_muted_shown and line.isVisible()
    assert _muted_words(screen).text() == window.t(DOCTOR_MUTED_MESSAGE)
    assert video_of(screen).isAncestorOf(line) and line.y() == 0  # over the top of her video
    assert not screen.video_paused  # her picture goes on
    assert screen.draft.text() == "j'ai mal"
    save_png(screen, "muted-1920", "CALL_MEDIA_PNG_DIR")
    _present(window, _sample())
    assert not screen.doctor_muted_shown and line.isHidden()
    assert window.builds == builds


def test_the_lost_connection_words_stand_alone(window: KioskWindow) -> None:
    """Camera off and muted, then the connection is lost: the controller says neither, and the
    screen shows the reconnecting words only (the placeholder's and the card's)."""
    screen = _present(window, _sample(doctor_camera_off=True, doctor_muted=True))
    assert screen.doctor_camera_off_shown and screen.doctor_muted_shown
    save_png(screen, "camera-off-and-muted-1920", "CALL_MEDIA_PNG_DIR")
    screen = _present(window, _sample(quality=Msg(DOCTOR_LOST_MESSAGE)))
    assert screen.video_paused and not screen.doctor_camera_off_shown
    assert _words(screen).text() == window.t(VIDEO_PAUSED_MESSAGE)
    assert not screen.doctor_muted_shown
    quality = screen.findChild(QLabel, "quality")
    assert quality is not None and quality.text() == window.t(DOCTOR_LOST_MESSAGE)
    save_png(screen, "lost-1920", "CALL_MEDIA_PNG_DIR")


def test_a_new_call_starts_clean(window: KioskWindow) -> None:
    screen = _present(window, _sample(doctor_camera_off=True, doctor_muted=True))
    window.wipe()
    screen = _present(window, _sample())
    assert not screen.doctor_camera_off_shown and not screen.doctor_muted_shown
    window.set_remote_frame(frame(0))
    assert not screen.video_paused
    assert not video_of(screen).pixmap().isNull()


_STEPS = st.sampled_from(["camera-off", "camera-on", "mute", "unmute", "frame", "stall"])


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(_STEPS, min_size=1, max_size=14))
def test_any_order_shows_what_the_last_view_says(window: KioskWindow, steps: list[str]) -> None:
    """Whatever the order of her switches, frames and stalls: while the view says her camera is
    off, the placeholder says so and no picture shows; the muted line is there exactly while the
    view says she is muted; with her camera on, a frame shows her and a stall pauses her."""
    view = _sample()
    screen = _present(window, view)
    last_media: str | None = None  # "frame" or "stall" since the camera came back on
    for n, step in enumerate(steps):
        if step in ("camera-off", "camera-on"):
            view = replace(view, doctor_camera_off=step == "camera-off")
            screen = _present(window, view)
            last_media = None
        elif step in ("mute", "unmute"):
            view = replace(view, doctor_muted=step == "mute")
            screen = _present(window, view)
        elif step == "frame":
            window.set_remote_frame(frame(n))
            last_media = step
        else:
            screen._pause_video()  # what the watchdog's timer does when it fires
            last_media = step
        assert screen.doctor_muted_shown is view.doctor_muted
        if view.doctor_camera_off:
            assert screen.doctor_camera_off_shown
            assert _words(screen).text() == window.t(DOCTOR_CAMERA_OFF_MESSAGE)
            assert video_of(screen).pixmap().isNull()
            assert not screen._stall_timer.isActive()
        else:
            assert not screen.doctor_camera_off_shown
            if last_media == "frame":
                assert not screen.video_paused and not video_of(screen).pixmap().isNull()
            elif last_media == "stall":
                assert screen.video_paused and video_of(screen).pixmap().isNull()
                assert _words(screen).text() == window.t(VIDEO_PAUSED_MESSAGE)


@pytest.mark.parametrize("size", [(1920, 1080), (1280, 800)])
@pytest.mark.parametrize("lang", ["fr", "en", "ar"])
@pytest.mark.parametrize("look", ["normal", "large", "large-high-contrast"])
def test_the_words_fit_whole_and_clear_of_the_self_view(
    window: KioskWindow, size: tuple[int, int], lang: str, look: str
) -> None:
    """Camera off and muted at once, every language, normal and large text, both screens:
    nothing on the screen is cut (the house's clipping check), the window did not grow, and
    the placeholder's words are inside the video and clear of the patient's own picture."""
    window.resize(*size)
    QApplication.processEvents()
    large = look != "normal"
    contrast = look.endswith("high-contrast")
    view = _sample(doctor_camera_off=True, doctor_muted=True)
    window.present(view, Presentation(lang, large, contrast))
    QApplication.processEvents()
    QApplication.processEvents()  # wrapped labels settle their height in a second pass
    screen = window.current_screen
    assert isinstance(screen, CallScreen)
    assert screen.doctor_camera_off_shown and screen.doctor_muted_shown
    assert clipping_problems(window) == []
    assert (window.width(), window.height()) == size
    paused, me, video = screen._paused, screen.self_view, video_of(screen)
    assert paused is not None and me is not None
    muted = _muted_line(screen)
    over_video = video.isAncestorOf(muted)
    if over_video:  # 1920: over the top of her video, whole, clear of the patient's picture
        assert size[0] == 1920
        assert video.rect().contains(muted.geometry())
        assert not muted.geometry().intersects(me.geometry())
        assert muted.heightForWidth(muted.width()) <= muted.height()
    else:  # 1280: under her name, in her card
        card = screen.findChild(QWidget, "doctor-card")
        assert card is not None and card.isAncestorOf(muted)
    shown = [w for w in paused.findChildren(QLabel) if w.isVisible()]
    assert [w.objectName() for w in shown][-1] == "video-paused-text"
    for words in shown:
        where = words.geometry()  # in the placeholder, which covers the whole video
        assert paused.rect().contains(where), words.objectName()
        assert not where.intersects(me.geometry()), words.objectName()
        assert not (over_video and where.intersects(muted.geometry())), words.objectName()
        assert words.heightForWidth(where.width()) <= where.height(), words.objectName()
    save_png(screen, f"both-{size[0]}-{lang}-{look}", "CALL_MEDIA_PNG_DIR")
