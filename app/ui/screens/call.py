"""The call: the doctor's verified identity first, then the video, the doctor's text, the controls.

Why the identity comes first (charte §1.2): the doctor authenticates to the
patient before the consultation. Until the video starts, the screen shows
who the doctor is (name, RPPS number, specialty) and nothing else.

Why the text beside the video: a hard-of-hearing patient reads what the
doctor types, and can answer with the on-screen keyboard. A new message
updates the screen in place so that a sentence being typed is not lost.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from app.ui.screens.base import Screen, clear_layout
from app.ui.views import CallView, IntentKind, ScreenId
from app.ui.widgets.buttons import BigButton
from app.ui.widgets.keyboard import KeyField, OnScreenKeyboard, bind_fields
from app.ui.widgets.picture import Picture
from app.ui.widgets.text import label


class CallScreen(Screen):
    screen_id = ScreenId.CALL

    video: QLabel | None = None
    self_view: QLabel | None = None
    _chat: QVBoxLayout | None = None
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
        self.title("call.your_doctor")
        _, who = self.card()
        row = QHBoxLayout()
        row.addWidget(Picture("doctor", 120 if not view.video_started else 80))
        names = QVBoxLayout()
        self.data_line(view.doctor.name, "title", layout=names).setObjectName("doctor-name")
        self.paragraph("call.rpps", layout=names, rpps=view.doctor.rpps).setObjectName(
            "doctor-rpps"
        )
        self.data_line(view.doctor.specialty, "body", layout=names).setObjectName(
            "doctor-specialty"
        )
        row.addLayout(names, 1)
        who.addLayout(row)
        if not view.video_started:
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
        videos = QVBoxLayout()
        self.video = QLabel()
        self.video.setObjectName("remote-video")
        self.video.setFixedSize(800, 450)
        self.video.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.video.setStyleSheet("background-color: #000000;")
        videos.addWidget(self.video)
        self.self_view = QLabel()
        self.self_view.setObjectName("self-view")
        self.self_view.setFixedSize(240, 180)
        self.self_view.setStyleSheet("background-color: #000000;")
        videos.addWidget(self.self_view)
        row.addLayout(videos)
        side = QVBoxLayout()
        self.paragraph("call.messages", layout=side)
        chat_host = QWidget()
        self._chat = QVBoxLayout(chat_host)
        self._chat.setContentsMargins(0, 0, 0, 0)
        side.addWidget(chat_host)
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
        side.addStretch(1)
        row.addLayout(side, 1)
        self.body.addLayout(row)
        self._controls(view)

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
        assert self._chat is not None
        clear_layout(self._chat)
        for line in view.chat[-8:]:
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
        self._keyboard = None

    def forget(self) -> None:
        self._view = None
