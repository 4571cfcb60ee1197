"""Waiting room: the patient sees themself and their microphone working while the doctor comes."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QVBoxLayout

from app.ui.screens.base import Screen
from app.ui.views import ScreenId, WaitingRoomView
from app.ui.widgets.picture import Picture


class WaitingRoomScreen(Screen[WaitingRoomView]):
    screen_id = ScreenId.WAITING_ROOM

    self_view: QLabel | None = None
    mic_level: QProgressBar | None = None

    waited: QLabel | None = None

    def build(self, view: WaitingRoomView) -> None:
        self.title("waiting.title")
        self.paragraph(view.status).setObjectName("status")
        self.waited = self.data_line(self._waited_words(view))
        self.waited.setObjectName("waited")
        if view.max_wait_min is not None:
            self.paragraph("waiting.max_wait", count=view.max_wait_min).setObjectName("max-wait")
        row = QHBoxLayout()
        row.setSpacing(32)
        self.self_view = QLabel()
        self.self_view.setObjectName("self-view")
        # 4:3; a step smaller under 1000 px of screen height, so that the words beside it
        # and the time waited fit without scrolling in large text at 1280x800.
        self.self_view.setFixedSize(*((400, 300) if self.compact() else (480, 360)))
        self.self_view.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.self_view.setProperty("role", "body")
        self.self_view.setStyleSheet("border: 3px solid palette(window-text);")
        row.addWidget(self.self_view)
        column = QVBoxLayout()
        column.setSpacing(16)
        self.paragraph("waiting.self_view", layout=column)
        mic = QHBoxLayout()
        mic.addWidget(Picture("mic", 80))
        self.mic_level = QProgressBar()
        self.mic_level.setObjectName("mic-level")
        self.mic_level.setRange(0, 100)
        self.mic_level.setTextVisible(False)
        mic.addWidget(self.mic_level, 1)
        column.addLayout(mic)
        self.paragraph("waiting.mic", layout=column)
        self.paragraph("waiting.stay", layout=column)
        column.addStretch(1)
        row.addLayout(column, 1)
        self.body.addLayout(row)

    def set_frame(self, image: QImage) -> None:
        if self.self_view is not None:
            self.self_view.setPixmap(
                QPixmap.fromImage(image).scaled(
                    self.self_view.size(),
                    Qt.AspectRatioMode.KeepAspectRatio,
                    Qt.TransformationMode.SmoothTransformation,
                )
            )

    def set_level(self, level: float) -> None:
        if self.mic_level is not None:
            self.mic_level.setValue(int(max(0.0, min(1.0, level)) * 100))

    def _waited_words(self, view: WaitingRoomView) -> str:
        if view.waited_min < 1:
            return self.text("waiting.waited_less")
        return self.text("waiting.waited", count=view.waited_min)

    def apply_view(self, view: object) -> bool:
        """The minutes waited move in place: the self view and the microphone bar stay."""
        held = self.view
        if not isinstance(view, WaitingRoomView) or not isinstance(held, WaitingRoomView):
            return False
        if (view.status, view.max_wait_min) != (held.status, held.max_wait_min):
            return False
        if self.waited is not None:
            words = self._waited_words(view)
            old = self.waited.text()
            self.waited.setText(words)
            self.waited.setAccessibleName(words)
            self._spoken = [words if part == old else part for part in self._spoken]
        return True

    def clear(self) -> None:
        self.waited = None
        self.self_view = None
        self.mic_level = None
        super().clear()
