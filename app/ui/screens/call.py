"""The call: the doctor's verified identity first, then the video, the doctor's text, the controls.

Why the identity comes first (charte §1.2): the doctor authenticates to the
patient before the consultation. Until the video starts, the screen shows
who the doctor is (name, RPPS number, specialty) and nothing else.

Why the text beside the video: a hard-of-hearing patient reads what the
doctor types, and can answer with the on-screen keyboard. A new message
updates the screen in place so that a sentence being typed is not lost.

Why this layout (1920×1080, normal and large text, fr/en/ar): the doctor's
video on the leading side, the patient's own picture in its lower corner,
and on the other side the doctor's identity, then the text (which scrolls
inside its own column) and the field to answer. Nothing of it is below the
fold, so the patient never has to scroll to see themselves or the doctor.
The keyboard opens in that column, under the field, with 64 px keys (the
doctor's card folds to the name while it is open, and away in large text
or on a 1280-wide screen,
so nothing is pushed off the screen); on a 1280-wide screen the video is
smaller and the open keyboard takes its place (the doctor still sees the
patient, and the video comes back when the keyboard closes).

Why "Raccrocher" asks twice and sits apart (see docs/ui.md, "Touch and
keyboard"): the sixteen taps before the call were "Non" and "Continuer" on
the trailing side of the button row; one tap of a hand used to that spot
must not end the consultation. So hang-up is on the leading side, no wider
than its words, and its first tap only turns it into "Touch again to hang
up" for a few seconds; a second tap (not the same double tap) ends the call.

Why a frame watchdog (issue 17, "never a frozen face"): when the doctor's
frames stop (a cut, a stall), the last picture would stay on screen, a face
frozen mid-word, for the seconds the call layer needs to notice the stall
(docs/call-network.md). So the screen keeps its own single-shot timer,
restarted by every frame of the doctor: after `REMOTE_STALL_S` without one,
the picture is dropped (not kept in memory) and a calm placeholder says who
the doctor is and that the image comes back; the first new frame brings the
video back. In audio-only the warning card above already says why the image
is off, so the placeholder then shows only the doctor's name.

Why the doctor's own switches have their own words (issue 17, "tell the
patient plainly what happens"): when the doctor switches her camera off the
frames stop too, and the watchdog's "the picture is paused, the connection
comes back" would be wrong: the line is fine, she chose it. So while the
view says her camera is off (`CallView.doctor_camera_off`, decided by the
controller) the placeholder says so and that the patient may go on
talking, the watchdog stands down, and what frames still come (a browser
sends black ones) are not shown. When she switches it back, her name stays
until her first frame, and the watchdog watches again. Her microphone
switched off is one short line over the top of her video (under her name on a
1280-wide screen), so the patient knows why he hears nothing. While the connection is lost the controller says neither, and
the reconnecting words stand alone.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QPointF, QRectF, Qt, QTimer
from PySide6.QtGui import (
    QColor,
    QHideEvent,
    QImage,
    QPainter,
    QPaintEvent,
    QPen,
    QPixmap,
    QShowEvent,
)
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QScrollArea, QVBoxLayout, QWidget

from app.ui.drag_scroll import touch_scrollable
from app.ui.i18n import is_right_to_left
from app.ui.screens.base import Screen, Translate, clear_layout
from app.ui.views import CallView, IntentKind, ScreenId
from app.ui.widgets.buttons import BigButton, keep_words_whole
from app.ui.widgets.keyboard import KeyField, OnScreenKeyboard, bind_fields, layout_for_language
from app.ui.widgets.picture import Picture
from app.ui.widgets.text import label

VIDEO_SIZE = (800, 450)  # the doctor, 16:9
SELF_SIZE = (224, 168)  # the patient, 4:3, in the video's lower trailing corner
NARROW_BELOW = 1600  # window width under which (1280×800) the video is smaller ...
NARROW_VIDEO_SIZE = (448, 252)
NARROW_SELF_SIZE = (128, 96)
# ... and the open keyboard takes the video's place (the doctor still sees the patient)
SELF_MARGIN = 12
CHAT_LINES = 20  # kept on screen; older lines scroll up out of sight
CHAT_MIN_H = 120
QWIDGETSIZE_MAX = (1 << 24) - 1
HANG_UP_ARMED_S = 5.0  # how long "touch again to hang up" waits for the second tap
HANG_UP_CONFIRM_AFTER_S = 0.6  # a second tap sooner is the same double tap, not a "yes"
EXAM_PICTOGRAM_PX = 140
NARROW_EXAM_PICTOGRAM_PX = 80
REMOTE_STALL_S = 1.5
"""No frame of the doctor for this long: the picture is paused (placeholder, frame dropped).

Why 1.5 s: well above the normal gaps of a live stream. The kiosk's own ladder
(app/call/quality.py, VIDEO_LADDER) sends no lower than 15 fps, but the
doctor's browser may fall further on a poor line, and the quality classifier
calls 8 fps merely "fair"; at 5 fps a frame comes every 200 ms, so 1.5 s is
7.5 frame intervals (over the 3 that jitter and a late keyframe can cost),
and the screen's own throttle (REMOTE_FPS, 15 fps) never spaces frames by
more than 67 ms. Yet it is short: the call layer needs several seconds to
declare a stall, and a face frozen that long is what the patient must not see.
"""
AUDIO_ONLY_MESSAGE = "call.quality.poor"  # CallView.quality in audio-only (CallStatusBoard)
DOCTOR_LOST_MESSAGE = "call.status.doctor_lost"  # CallView.quality while the call reconnects
VIDEO_PAUSED_MESSAGE = "call.video_paused"
DOCTOR_CAMERA_OFF_MESSAGE = "call.doctor_camera_off"  # her choice: not the paused words
DOCTOR_MUTED_MESSAGE = "call.doctor_muted"  # the short line while she is muted
MUTED_PICTOGRAM_PX = 48  # beside the line in the doctor's card (1280-wide screens)
MUTED_LINE_MARGINS = (12, 6, 12, 6)  # the line over the top of the wide video
EXAM_NOTICES = {"stethoscope": "call.exam.stethoscope", "otoscope": "call.exam.otoscope"}


class ExamPictogram(QWidget):
    """Where the device goes, drawn: a torso with the stethoscope's spot, or a head and its ear.

    Why drawn here and not a picture file: two shapes and a dot, in the theme's
    text colour, so it follows high contrast like the rest of the screen.
    """

    def __init__(self, device: str, size: int) -> None:
        super().__init__()
        self.device = device
        self.setFixedSize(size, size)
        self.setAccessibleName(device)

    def paintEvent(self, event: QPaintEvent) -> None:
        del event
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.scale(self.width() / 100, self.height() / 100)
        ink = self.palette().windowText().color()
        p.setPen(QPen(ink, 4))
        if self.device == "stethoscope":
            p.drawEllipse(QRectF(38, 6, 24, 26))  # head
            p.drawRoundedRect(QRectF(18, 36, 64, 60), 18, 18)  # torso
            spot = QPointF(58, 62)  # left of the chest (the patient's left: the viewer's right)
        else:
            p.drawEllipse(QRectF(22, 10, 56, 70))  # head
            p.drawEllipse(QRectF(74, 36, 12, 20))  # ear
            spot = QPointF(80, 46)
        p.setPen(QPen(QColor("#C62828"), 4))
        p.setBrush(QColor("#C62828"))
        p.drawEllipse(spot, 7, 7)
        p.end()


class CallScreen(Screen[CallView]):
    screen_id = ScreenId.CALL

    video: QLabel | None = None
    self_view: QLabel | None = None
    _chat: QVBoxLayout | None = None
    _chat_scroll: QScrollArea | None = None
    _view: CallView | None = None
    _keyboard: OnScreenKeyboard | None = None

    _hang_up: BigButton | None = None
    _mute: BigButton | None = None
    _camera: BigButton | None = None
    _details: list[QWidget]
    _armed_at: float | None = None
    _narrow = False
    _exam_device: str | None = None  # the examination device the doctor switched on
    _exam_notice: QFrame | None = None
    _lead: QVBoxLayout | None = None  # the video's column, where the notice goes
    _paused: QFrame | None = None  # the placeholder over the video, shown when frames stop
    _muted_line: QWidget | None = None  # "the doctor's microphone is off" (video or card)
    _camera_off = False  # the placeholder says the doctor switched her camera off

    def __init__(self, translate: Translate, parent: QWidget | None = None) -> None:
        super().__init__(translate, parent)
        self._details = []
        self._disarm_timer = QTimer(self)
        self._disarm_timer.setSingleShot(True)
        self._disarm_timer.timeout.connect(self._disarm)
        # Single-shot, restarted by each of the doctor's frames: it fires only when they stop
        # (no polling). Running only while the call's video is built and the screen shown.
        self._stall_timer = QTimer(self)
        self._stall_timer.setSingleShot(True)
        self._stall_timer.setInterval(int(REMOTE_STALL_S * 1000))
        self._stall_timer.timeout.connect(self._pause_video)

    def apply_view(self, view: object) -> bool:
        """A new chat line, mute or camera: changed in place (the draft, the keyboard and a
        hang-up waiting for its second tap stay as they are)."""
        previous = self._view
        if (
            isinstance(view, CallView)
            and previous is not None
            and previous.video_started
            and view.video_started
            and previous.doctor == view.doctor
            and previous.quality == view.quality
            and self._chat is not None
        ):
            self._view = view
            self._update_in_place(view)
            return True
        return False

    def build(self, view: CallView) -> None:
        self._view = view
        if not view.video_started:
            self.title("call.your_doctor")
            _, who = self.card()
            self._doctor(view, who, 120)
            self.paragraph("call.identity_first")
            self._hang_up_button()
            self.action_row.addStretch(1)
            return
        if view.quality is not None:
            _, inner = self.card("warning")
            self.paragraph(view.quality, layout=inner).setObjectName("quality")
        row = QHBoxLayout()
        row.setSpacing(24)
        self.video = QLabel()
        self.video.setObjectName("remote-video")
        self._narrow = self.window().width() < NARROW_BELOW
        video_size = NARROW_VIDEO_SIZE if self._narrow else VIDEO_SIZE
        self_size = NARROW_SELF_SIZE if self._narrow else SELF_SIZE
        self.video.setFixedSize(*video_size)
        self.video.setAlignment(Qt.AlignmentFlag.AlignCenter)
        # A grey edge so the picture's frame shows on the black of the high-contrast theme too.
        self.video.setStyleSheet("background-color: #000000; border: 3px solid #808080;")
        # The patient's own picture sits in a corner of the doctor's (as in the video calls
        # people know): it stays in sight without pushing anything below the fold.
        self.self_view = QLabel(self.video)
        self.self_view.setObjectName("self-view")
        self.self_view.setFixedSize(*self_size)
        self.self_view.setStyleSheet("background-color: #202020; border: 3px solid #FFFFFF;")
        rtl = is_right_to_left(self.presentation.language)  # the window mirrors after the build
        x = SELF_MARGIN if rtl else video_size[0] - self_size[0] - SELF_MARGIN
        self.self_view.move(x, video_size[1] - self_size[1] - SELF_MARGIN)
        self._paused = self._placeholder(view, video_size, self_size)
        self.self_view.raise_()  # the patient still sees themselves over the placeholder
        lead = QVBoxLayout()
        lead.setSpacing(12)
        lead.addWidget(self.video, 0, Qt.AlignmentFlag.AlignTop)
        self._lead = lead
        self._add_exam_notice(lead)
        row.addLayout(lead)
        side = QVBoxLayout()
        side.setSpacing(12)
        frame, who = self.card()
        frame.setObjectName("doctor-card")
        self.body.removeWidget(frame)  # the doctor's identity heads the text column
        side.addWidget(frame)
        # With the video on, the doctor's card is the heading (no title line: the fold);
        # "your doctor" is still read aloud first and names the card for assistive tools.
        frame.setAccessibleName(self.say(self.text("call.your_doctor")))
        self._doctor(view, who, 64)
        self._muted_line = self._muted(who, video_size)
        self.paragraph("call.messages", layout=side).setObjectName("messages-heading")
        chat_host = QWidget()
        self._chat = QVBoxLayout(chat_host)
        self._chat.setContentsMargins(0, 0, 0, 0)
        self._chat.addStretch(1)
        self._chat_scroll = QScrollArea()
        self._chat_scroll.setObjectName("chat")
        self._chat_scroll.setWidgetResizable(True)
        self._chat_scroll.setFrameShape(QFrame.Shape.NoFrame)
        self._chat_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self._chat_scroll.setWidget(chat_host)
        self._chat_scroll.setMinimumHeight(CHAT_MIN_H)
        touch_scrollable(self._chat_scroll)
        bar = self._chat_scroll.verticalScrollBar()  # the newest line stays in sight
        bar.rangeChanged.connect(lambda _lo, hi, b=bar: b.setValue(hi))
        side.addWidget(self._chat_scroll, 1)
        self._fill_chat(view)
        entry = QHBoxLayout()
        self.draft = KeyField()
        self.draft.setObjectName("patient-text")
        self.draft.setAccessibleName(self.say(self.text("call.write")))
        self.draft.setPlaceholderText(self.text("call.write"))
        entry.addWidget(self.draft, 1)
        send = BigButton(self.say(self.text("call.send")), "send", "primary")
        send.setObjectName("send")
        send.clicked.connect(self._send)
        entry.addWidget(send)
        side.addLayout(entry)
        self._keyboard = OnScreenKeyboard(layout_for_language(self.presentation.language), self.t)
        self._keyboard.setObjectName("keyboard-call")
        self._keyboard.setVisible(False)
        bind_fields(self._keyboard, [self.draft], focus_first=False)
        self._keyboard.set_compact(True)  # 64 px keys: room for the doctor's text
        if self._narrow:
            lead.addWidget(self._keyboard)
            lead.addStretch(1)
        else:
            side.addWidget(self._keyboard)
        row.addLayout(side, 1)
        self.body.addLayout(row, 1)
        keep_words_whole(send)  # now in the window: the theme's font gives the real width
        self._controls(view)
        self._stall_timer.start()  # no first frame within the bound: the placeholder too
        if view.quality is not None and view.quality.id in (
            AUDIO_ONLY_MESSAGE,
            DOCTOR_LOST_MESSAGE,
        ):
            self._pause_video()  # no frame is coming: the placeholder at once, not a black box
        self._show_doctor_media(view)

    # -- the doctor's picture: shown, or paused when the frames stop -----------------------

    def _placeholder(
        self, view: CallView, video_size: tuple[int, int], self_size: tuple[int, int]
    ) -> QFrame:
        """The calm words over the video: the doctor's name and that the picture comes back.

        Kept clear of the patient's own picture: above it on the wide video, beside it
        on the narrow one (448×252: above it, large text would not fit), where the
        name is left out too (the doctor's card beside the video names her; with
        both, large text overflows the 228 px left).
        """
        assert self.video is not None
        frame = QFrame(self.video)
        frame.setObjectName("video-paused")
        frame.setGeometry(0, 0, *video_size)
        frame.setStyleSheet("QFrame#video-paused { background-color: #202020; }")
        inner = QVBoxLayout(frame)
        inner.setContentsMargins(*self._placeholder_margins(self_size, 0))
        inner.addStretch(1)
        name = label(view.doctor.name, "title")
        name.setObjectName("video-paused-name")
        words = label(self.text(VIDEO_PAUSED_MESSAGE), "body")
        words.setObjectName("video-paused-text")
        for line in (name, words):
            line.setAlignment(Qt.AlignmentFlag.AlignCenter)
            line.setStyleSheet("color: #FFFFFF; background: transparent; border: none;")
            inner.addWidget(line)
        inner.addStretch(1)
        name.setVisible(not self._narrow)
        frame.hide()
        return frame

    def _placeholder_margins(
        self, self_size: tuple[int, int], top_band: int
    ) -> tuple[int, int, int, int]:
        """The placeholder's words stay clear of the self view, and of the muted line over
        the top of the wide video (`top_band` px high)."""
        clear = self_size[0] + 2 * SELF_MARGIN  # the self view's band, on the trailing side
        if self._narrow:
            left, right = 12, clear
            if is_right_to_left(self.presentation.language):  # placed by hand, like the self view
                left, right = right, left
            return left, 12, right, 12
        top = top_band + 8 if top_band else 24  # large text needs the room under the line
        return 24, top, 24, self_size[1] + SELF_MARGIN

    def _pause_video(self) -> None:
        """No frame for REMOTE_STALL_S: the last picture goes, the placeholder comes.

        Not while the doctor's camera is off: the placeholder already says why no
        picture comes, and "the connection comes back" would be wrong."""
        if self.video is None or self._paused is None or self._camera_off:
            return
        quality = self._view.quality if self._view is not None else None
        audio_only = quality is not None and quality.id == AUDIO_ONLY_MESSAGE
        self._cover(None if audio_only else VIDEO_PAUSED_MESSAGE)  # audio-only: the card says why

    def _cover(self, message: str | None) -> None:
        """The placeholder over the video: the doctor's name and `message` (None: the name).

        The frozen face is dropped, not only hidden. On the narrow video the name
        goes when there are words (the doctor's card beside the video names her).
        """
        assert self.video is not None and self._paused is not None
        self.video.clear()
        name_line = self._paused.findChild(QLabel, "video-paused-name")
        words = self._paused.findChild(QLabel, "video-paused-text")
        sentence = self.text(message) if message is not None else ""
        if words is not None:
            if message is not None and words.text() != sentence:
                words.setText(sentence)
                words.setAccessibleName(sentence)
            words.setVisible(message is not None)
        if name_line is not None:
            name_line.setVisible(message is None or not self._narrow)
        name = self._view.doctor.name if self._view is not None else ""
        self._paused.setAccessibleName(f"{name} {sentence}" if message is not None else name)
        self._paused.show()

    # -- what the doctor switched off herself: her camera, her microphone -----------------

    def _muted(self, card: QVBoxLayout, video_size: tuple[int, int]) -> QWidget:
        """The short line that says the doctor's microphone is off: over the top of her video,
        or under her name on a 1280-wide screen.

        Why two places: over the video is where the patient looks, and it costs the
        layout nothing (at 1920×1080 in large text a line more in her card pushes the
        field to answer below the fold). But the 448×252 video of a 1280-wide screen
        has no room for it above the camera-off words in large text; there the card's
        column gives way (the screen already scrolls at that size)."""
        assert self.video is not None
        if self._narrow:
            row = QWidget()
            line = QHBoxLayout(row)
            line.setContentsMargins(0, 0, 0, 0)
            line.addWidget(Picture("mic-off", MUTED_PICTOGRAM_PX), 0, Qt.AlignmentFlag.AlignTop)
            words = label(self.text(DOCTOR_MUTED_MESSAGE), "body")
            line.addWidget(words, 1)
            card.addWidget(row)
        else:
            row = words = label(self.text(DOCTOR_MUTED_MESSAGE), "body", self.video)
            words.setAlignment(Qt.AlignmentFlag.AlignCenter)
            words.setContentsMargins(*MUTED_LINE_MARGINS)
            words.setStyleSheet(
                "QLabel#doctor-muted-text { color: #FFFFFF; background-color: rgba(0, 0, 0, 200);"
                " border: none; }"
            )
            row.setFixedWidth(video_size[0])
        words.setObjectName("doctor-muted-text")
        if row is not words:
            row.setObjectName("doctor-muted")
        row.setAccessibleName(words.text())
        row.hide()
        return row

    def _show_doctor_media(self, view: CallView) -> None:
        """Her camera or microphone switched off (or back on), as the view says: in place."""
        if self.video is None or self._paused is None:
            return
        band = 0
        line = self._muted_line
        if line is not None and line.parent() is self.video:  # over the wide video
            if view.doctor_muted:
                line.ensurePolished()  # the theme's font: the real height of the words
                band = line.heightForWidth(line.width())
                line.setFixedHeight(band)
                line.move(0, 0)
                line.raise_()
        if line is not None:
            line.setVisible(view.doctor_muted)
        inner = self._paused.layout()
        if inner is not None and self.self_view is not None:
            size = (self.self_view.width(), self.self_view.height())
            inner.setContentsMargins(*self._placeholder_margins(size, band))
        was_off, self._camera_off = self._camera_off, view.doctor_camera_off
        if view.doctor_camera_off:
            self._stall_timer.stop()  # no frame is expected: nothing to watch
            self._cover(DOCTOR_CAMERA_OFF_MESSAGE)
        elif was_off:
            self._cover(None)  # her name until her first frame; then the watchdog as ever
            if self.isVisible():
                self._stall_timer.start()

    @property
    def doctor_camera_off_shown(self) -> bool:
        """True while the placeholder says the doctor switched her camera off."""
        return self._camera_off and self.video_paused

    @property
    def doctor_muted_shown(self) -> bool:
        """True while the line says the doctor's microphone is off."""
        return self._muted_line is not None and not self._muted_line.isHidden()

    @property
    def video_paused(self) -> bool:
        """True while the placeholder stands in for the doctor's picture."""
        return self._paused is not None and not self._paused.isHidden()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self.video is not None and not self._camera_off:
            self._stall_timer.start()

    def hideEvent(self, event: QHideEvent) -> None:
        super().hideEvent(event)
        self._stall_timer.stop()  # the help screen over the call: no frames reach us, no matter

    # -- the examination devices: where the patient places them ---------------------------

    def show_exam_notice(self, device: str | None) -> str | None:
        """The doctor switched `device` on (None: off): the notice under the video changes.

        Returns the words to read aloud (None when the notice goes away). The
        choice outlives a rebuild of the screen, not the call (`forget`).
        """
        if device is not None and device not in EXAM_NOTICES:
            raise ValueError(f"No notice for the device {device!r}.")
        self._exam_device = device
        if self._exam_notice is not None:
            self._exam_notice.hide()
            self._exam_notice.setParent(None)
            self._exam_notice.deleteLater()
            self._exam_notice = None
        if self._lead is not None:
            self._add_exam_notice(self._lead)
        return self.text(EXAM_NOTICES[device]) if device is not None else None

    def _add_exam_notice(self, lead: QVBoxLayout) -> None:
        device = self._exam_device
        if device is None or self.video is None:
            return
        frame, inner = self.card("warning")
        frame.setObjectName("exam-notice")
        self.body.removeWidget(frame)  # under the video, not at the end of the body
        row = QHBoxLayout()
        size = NARROW_EXAM_PICTOGRAM_PX if self._narrow else EXAM_PICTOGRAM_PX
        row.addWidget(ExamPictogram(device, size), 0, Qt.AlignmentFlag.AlignTop)
        words = label(self.say(self.text(EXAM_NOTICES[device])), "body")
        words.setObjectName("exam-notice-text")
        row.addWidget(words, 1)
        inner.addLayout(row)
        lead.insertWidget(lead.indexOf(self.video) + 1, frame)
        self._exam_notice = frame

    def _doctor(self, view: CallView, layout: QVBoxLayout, picture_px: int) -> None:
        """Name, RPPS number and specialty: who the doctor is, as the platform vouches."""
        row = QHBoxLayout()
        picture = Picture("doctor", picture_px)
        row.addWidget(picture, 0, Qt.AlignmentFlag.AlignTop)
        names = QVBoxLayout()
        names.setSpacing(4)
        self.data_line(view.doctor.name, "title", layout=names).setObjectName("doctor-name")
        rpps = self.paragraph("call.rpps", layout=names, rpps=view.doctor.rpps)
        rpps.setObjectName("doctor-rpps")
        specialty = self.data_line(view.doctor.specialty, "body", layout=names)
        specialty.setObjectName("doctor-specialty")
        row.addLayout(names, 1)
        layout.addLayout(row)
        self._details = [picture, rpps, specialty]

    def _controls(self, view: CallView) -> None:
        """Hang-up on the leading side, alone; the other controls on the trailing side."""
        self._hang_up_button()
        if not self._narrow:  # at 1280 px the four buttons need the whole row
            self.action_row.addStretch(1)
        # At 1280 px the words of four buttons need the whole row: the words stay, the
        # pictograms of the three harmless ones go (hang-up keeps its own).
        pictures = not self._narrow
        self._mute = self.button(
            "call.mute", "mic" if pictures else None, self._toggle_mute, name="mute"
        )
        self._camera = self.button(
            "call.camera_off", "camera" if pictures else None, self._toggle_camera, name="camera"
        )
        keys = self.button(
            "call.keyboard",
            "keyboard" if pictures else None,
            self._toggle_keyboard,
            name="keyboard",
        )
        self._show_controls(view)
        keep_words_whole(self._hang_up, self._mute, self._camera, keys)

    def _show_controls(self, view: CallView) -> None:
        """The words and pictures of mute and camera for `view`, on the same buttons."""
        for button, (words, picture) in (
            (self._mute, ("call.unmute", "mic-off") if view.muted else ("call.mute", "mic")),
            (
                self._camera,
                ("call.camera_on", "camera-off")
                if view.camera_off
                else ("call.camera_off", "camera"),
            ),
        ):
            if button is None:
                continue
            text = self.text(words)
            if button.text() != text:
                button.setText(text)
                button.setAccessibleName(text)
                button.pictogram = picture if button.pictogram is not None else None
                button.updateGeometry()
                button.update()

    def _toggle_mute(self) -> None:
        muted = self._view is not None and self._view.muted
        self.intent.emit(self.action(IntentKind.MUTE, "off" if muted else "on"))

    def _toggle_camera(self) -> None:
        off = self._view is not None and self._view.camera_off
        self.intent.emit(self.action(IntentKind.CAMERA, "on" if off else "off"))

    def _hang_up_button(self) -> BigButton:
        button = self.button("call.end", "hang-up", self._on_hang_up, "danger", name="hang-up")
        self._hang_up = button
        self._armed_at = None
        return button

    def _on_hang_up(self) -> None:
        """First tap: ask again; a second tap within the time (not the same double tap): end."""
        now = time.monotonic()
        if self._armed_at is None:
            self._armed_at = now
            self._set_hang_up_words("call.end_confirm")
            self._disarm_timer.start(int(HANG_UP_ARMED_S * 1000))
            return
        if now - self._armed_at < HANG_UP_CONFIRM_AFTER_S:
            return
        self._disarm()
        self.intent.emit(self.action(IntentKind.HANG_UP))

    def _disarm(self) -> None:
        self._disarm_timer.stop()
        self._armed_at = None
        if self._hang_up is not None:
            self._set_hang_up_words("call.end")

    def _set_hang_up_words(self, message: str) -> None:
        assert self._hang_up is not None
        words = self.text(message)
        self._hang_up.setText(words)
        self._hang_up.setAccessibleName(words)
        self._hang_up.updateGeometry()

    @property
    def hang_up_armed(self) -> bool:
        return self._armed_at is not None

    def _fill_chat(self, view: CallView) -> None:
        """The last lines, newest at the bottom and in sight (the column scrolls, not the screen)."""
        assert self._chat is not None
        clear_layout(self._chat)
        self._chat.addStretch(1)
        for line in view.chat[-CHAT_LINES:]:
            who = self.text("call.from_doctor" if line.from_doctor else "call.from_you")
            widget = label(self.say(f"{who} {line.text}"), "body")
            widget.setObjectName("chat-line")
            self._chat.addWidget(widget)

    def _update_in_place(self, view: CallView) -> None:
        self._fill_chat(view)
        self._show_controls(view)
        self._show_doctor_media(view)

    def _toggle_keyboard(self) -> None:
        if self._keyboard is None:
            return
        opened = not self._keyboard.isVisible()
        self._keyboard.setVisible(opened)
        for widget in self._details:  # the doctor's card folds to the name while typing ...
            widget.setVisible(not opened)
        card = self.findChild(QFrame, "doctor-card")
        if card is not None and (self._narrow or self.presentation.large_text):
            card.setVisible(not opened)  # ... and away where room is short (the video shows her)
        if self._narrow and self.video is not None:
            self.video.setVisible(not opened)  # the keyboard takes the video's place
        if self._chat_scroll is not None:  # the text gives the keyboard room, keeps 3 lines
            self._chat_scroll.setMaximumHeight(CHAT_MIN_H if opened else QWIDGETSIZE_MAX)
        heading = self.findChild(QLabel, "messages-heading")
        if heading is not None:
            heading.setVisible(not opened)
        if opened:
            self.draft.setFocus(Qt.FocusReason.OtherFocusReason)

    def _send(self) -> None:
        text = self.draft.text().strip()
        if text:
            self.draft.clear()
            self.intent.emit(self.action(IntentKind.SEND_TEXT, text))

    def set_remote_frame(self, image: QImage) -> None:
        if self.video is None or self._camera_off:
            return  # her camera is off: what still comes (black frames) is not shown
        self._stall_timer.start()  # restarted: it fires only if the next frames do not come
        if self._paused is not None and not self._paused.isHidden():
            self._paused.hide()
        self._show(self.video, image)

    def set_self_frame(self, image: QImage) -> None:
        self._show(self.self_view, image)

    @staticmethod
    def _show(target: QLabel | None, image: QImage) -> None:
        if target is not None:
            target.setPixmap(
                QPixmap.fromImage(image).scaled(
                    target.size(),
                    Qt.AspectRatioMode.KeepAspectRatio,
                    Qt.TransformationMode.FastTransformation,
                )
            )

    def clear(self) -> None:
        self._disarm_timer.stop()
        self._stall_timer.stop()
        self._paused = None
        self._muted_line = None
        self._camera_off = False
        self._armed_at = None
        self._hang_up = self._mute = self._camera = None
        self._details = []
        super().clear()
        self.video = None
        self.self_view = None
        self._chat = None
        self._chat_scroll = None
        self._keyboard = None
        self._exam_notice = None
        self._lead = None

    def forget(self) -> None:
        self._view = None
        self._exam_device = None
