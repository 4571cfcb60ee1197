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
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QScrollArea, QVBoxLayout, QWidget

from app.ui.i18n import is_right_to_left
from app.ui.screens.base import Screen, clear_layout
from app.ui.views import CallView, IntentKind, ScreenId
from app.ui.widgets.buttons import BigButton
from app.ui.widgets.keyboard import KeyField, OnScreenKeyboard, bind_fields
from app.ui.widgets.picture import Picture
from app.ui.widgets.text import label

VIDEO_SIZE = (800, 450)  # the doctor, 16:9
SELF_SIZE = (224, 168)  # the patient, 4:3, in the video's lower trailing corner
SELF_MARGIN = 12
CHAT_LINES = 20  # kept on screen; older lines scroll up out of sight
CHAT_MIN_H = 120


class CallScreen(Screen):
    screen_id = ScreenId.CALL

    video: QLabel | None = None
    self_view: QLabel | None = None
    _chat: QVBoxLayout | None = None
    _chat_scroll: QScrollArea | None = None
    _view: CallView | None = None
    _keyboard: OnScreenKeyboard | None = None

    def show_view(self, view: Any) -> None:
        previous = self._view
        if (
            isinstance(view, CallView)
            and previous is not None
            and previous.video_started
            and view.video_started
            and previous.doctor == view.doctor
            and self._chat is not None
        ):
            self._view = view
            self._update_in_place(view)
            return
        super().show_view(view)

    def build(self, view: CallView) -> None:
        self._view = view
        if not view.video_started:
            self.title("call.your_doctor")
            _, who = self.card()
            self._doctor(view, who, 120)
            self.paragraph("call.identity_first")
            self.button(
                "call.end", "hang-up", self.action(IntentKind.HANG_UP), "danger", name="hang-up"
            )
            return
        if view.quality is not None:
            _, inner = self.card("warning")
            self.paragraph(view.quality, layout=inner).setObjectName("quality")
        row = QHBoxLayout()
        row.setSpacing(24)
        self.video = QLabel()
        self.video.setObjectName("remote-video")
        self.video.setFixedSize(*VIDEO_SIZE)
        self.video.setAlignment(Qt.AlignmentFlag.AlignCenter)
        # A grey edge so the picture's frame shows on the black of the high-contrast theme too.
        self.video.setStyleSheet("background-color: #000000; border: 3px solid #808080;")
        # The patient's own picture sits in a corner of the doctor's (as in the video calls
        # people know): it stays in sight without pushing anything below the fold.
        self.self_view = QLabel(self.video)
        self.self_view.setObjectName("self-view")
        self.self_view.setFixedSize(*SELF_SIZE)
        self.self_view.setStyleSheet("background-color: #202020; border: 3px solid #FFFFFF;")
        rtl = is_right_to_left(self.presentation.language)  # the window mirrors after the build
        x = SELF_MARGIN if rtl else VIDEO_SIZE[0] - SELF_SIZE[0] - SELF_MARGIN
        self.self_view.move(x, VIDEO_SIZE[1] - SELF_SIZE[1] - SELF_MARGIN)
        row.addWidget(self.video, 0, Qt.AlignmentFlag.AlignTop)
        side = QVBoxLayout()
        side.setSpacing(12)
        frame, who = self.card()
        self.body.removeWidget(frame)  # the doctor's identity heads the text column
        side.addWidget(frame)
        # With the video on, the doctor's card is the heading (no title line: the fold);
        # "your doctor" is still read aloud first and names the card for assistive tools.
        frame.setAccessibleName(self.say(self.text("call.your_doctor")))
        self._doctor(view, who, 64)
        self.paragraph("call.messages", layout=side)
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
        self._keyboard = OnScreenKeyboard(self.presentation.language, self.t)
        self._keyboard.setVisible(False)
        bind_fields(self._keyboard, [self.draft])
        side.addWidget(self._keyboard)
        row.addLayout(side, 1)
        self.body.addLayout(row, 1)
        self._controls(view)

    def _doctor(self, view: CallView, layout: QVBoxLayout, picture: int) -> None:
        """Name, RPPS number and specialty: who the doctor is, as the platform vouches."""
        row = QHBoxLayout()
        row.addWidget(Picture("doctor", picture), 0, Qt.AlignmentFlag.AlignTop)
        names = QVBoxLayout()
        names.setSpacing(4)
        self.data_line(view.doctor.name, "title", layout=names).setObjectName("doctor-name")
        self.paragraph("call.rpps", layout=names, rpps=view.doctor.rpps).setObjectName(
            "doctor-rpps"
        )
        self.data_line(view.doctor.specialty, "body", layout=names).setObjectName(
            "doctor-specialty"
        )
        row.addLayout(names, 1)
        layout.addLayout(row)

    def _controls(self, view: CallView) -> None:
        clear_layout(self.action_row)
        self.button(
            "call.unmute" if view.muted else "call.mute",
            "mic-off" if view.muted else "mic",
            self.action(IntentKind.MUTE, "off" if view.muted else "on"),
            name="mute",
        )
        self.button(
            "call.camera_on" if view.camera_off else "call.camera_off",
            "camera-off" if view.camera_off else "camera",
            self.action(IntentKind.CAMERA, "on" if view.camera_off else "off"),
            name="camera",
        )
        self.button("call.keyboard", "keyboard", self._toggle_keyboard, name="keyboard")
        self.button(
            "call.end", "hang-up", self.action(IntentKind.HANG_UP), "danger", name="hang-up"
        )

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
        self._controls(view)

    def _toggle_keyboard(self) -> None:
        if self._keyboard is not None:
            self._keyboard.setVisible(not self._keyboard.isVisible())

    def _send(self) -> None:
        text = self.draft.text().strip()
        if text:
            self.draft.clear()
            self.intent.emit(self.action(IntentKind.SEND_TEXT, text))

    def set_remote_frame(self, image: QImage) -> None:
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
        super().clear()
        self.video = None
        self.self_view = None
        self._chat = None
        self._chat_scroll = None
        self._keyboard = None

    def forget(self) -> None:
        self._view = None
