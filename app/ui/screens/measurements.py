"""Measurements, guided: a picture of the device and what to do, one device per screen.

Every measurement can be skipped, and a professional can enter the value by
hand (after signing in). The patient sees the value only, never a flag or
a judgement: the doctor interprets.

Why "Skip" and "A professional enters the value" are small and on the
leading side (see docs/ui.md, "Touch and keyboard"): the screen before (the
reason for the visit, or the last measurement's result) had its main button,
"Next", on the trailing side; the main action here ("Start", "Try again",
"Next") sits there too, and the two that leave the measurement are only as
wide as their words, at the other end of the row.
"""

from __future__ import annotations

from PySide6.QtGui import QFontMetrics, QResizeEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from app.ui.screens.base import Screen
from app.ui.theme import MIN_TOUCH_PX
from app.ui.views import IntentKind, MeasurementView, MeasureStep, ScreenId
from app.ui.widgets.buttons import BigButton, keep_words_whole
from app.ui.widgets.picture import Picture
from app.ui.widgets.pleth import PlethWave

WIDE_FROM = 1600  # window width from which the leaving buttons carry their pictograms
LEAVE_SHARE = 0.44  # of the screen's width: skip and the professional's value stay in it


class MeasurementsScreen(Screen[MeasurementView]):
    screen_id = ScreenId.MEASUREMENTS

    _leave: QWidget | None = None
    _cuff: QLabel | None = None
    _wave: PlethWave | None = None

    def build(self, view: MeasurementView) -> None:
        self._build(view)
        keep_words_whole(*self.findChildren(BigButton))
        self._fit_leave()

    def _build(self, view: MeasurementView) -> None:
        self._cuff = self._wave = None
        kind = view.device.value
        self.title(f"measure.{kind}.title")
        self.step(view.index, view.total)
        row = QHBoxLayout()
        row.setSpacing(32)
        dense = self.compact()  # under 1000 px of height: a smaller picture, the words as big
        row.addWidget(Picture(kind, 180 if dense else 240))
        column = QVBoxLayout()
        column.setSpacing(10 if dense else 16)
        row.addLayout(column, 1)
        self.body.addLayout(row)
        if view.step is not MeasureStep.RESULT:
            self._leave_buttons(kind)
            self.action_row.addStretch(1)
        if view.step is MeasureStep.INSTRUCTIONS:
            for n in (1, 2, 3):
                self.paragraph(f"measure.{kind}.how{n}", layout=column)
            self.button(
                "measure.start",
                "next",
                self.action(IntentKind.MEASURE_START, kind),
                "primary",
                name="measure-start",
            )
        elif view.step is MeasureStep.MEASURING:
            self.paragraph("measure.in_progress", layout=column).setObjectName("measuring")
            if view.live_hint is not None:
                self.paragraph(view.live_hint, layout=column).setObjectName("live-hint")
            if view.cuff is not None:
                self._cuff = self.data_line(view.cuff, "big-number", layout=column)
                self._cuff.setObjectName("cuff")
            if view.pleth:
                self._wave = PlethWave(view.pleth)
                column.addWidget(self._wave)
            else:
                bar = QProgressBar()
                bar.setRange(0, 0)
                bar.setTextVisible(False)
                column.addWidget(bar)
        elif view.step is MeasureStep.RESULT:
            self.paragraph("measure.result", layout=column)
            for label_msg, value in view.result:
                line = QHBoxLayout()
                self.paragraph(label_msg, layout=line)
                self.data_line(value, "big-number", layout=line).setObjectName("value")
                column.addLayout(line)
            if view.problem is not None:
                # The device said the reading is not reliable (arm moved, cuff loose): the
                # values stay shown as measured, the sentence says to measure again, and
                # "measure again" becomes the first choice.
                frame, inner = self.card("warning")
                self.body.removeWidget(frame)
                column.addWidget(frame)
                self.paragraph(view.problem, layout=inner).setObjectName("measure-again-hint")
            again_first = view.problem is not None
            self.button(
                "measure.again",
                "back",
                self.action(IntentKind.MEASURE_RETRY),
                "primary" if again_first else "secondary",
                name="retry",
            )
            self.button(
                "common.next",
                "next",
                self.action(IntentKind.NEXT),
                "secondary" if again_first else "primary",
                name="next",
            )
        else:
            # Beside the device's picture, as the steps are: the problem and what to do
            # next read together with the picture, and nothing goes below the fold.
            frame, inner = self.card("warning")
            self.body.removeWidget(frame)
            column.addWidget(frame)
            column.addStretch(1)
            self.paragraph(view.problem or "measure.failed", layout=inner).setObjectName("problem")
            self.paragraph("measure.failed_next", layout=inner)
            self.button(
                "measure.again",
                "back",
                self.action(IntentKind.MEASURE_RETRY),
                "primary",
                name="retry",
            )

    def apply_view(self, view: object) -> bool:
        """The live values (cuff, wave) in place: no rebuild, so no tap is lost meanwhile."""
        held = self.view
        if not (isinstance(view, MeasurementView) and isinstance(held, MeasurementView)):
            return False
        if view.step is not MeasureStep.MEASURING or not held.same_but_live(view):
            return False
        if bool(view.pleth) != (self._wave is not None):
            return False  # the wave appears (or goes): the column changes, built anew
        if self._cuff is not None and view.cuff is not None:
            self._cuff.setText(self.say(view.cuff))
        if self._wave is not None:
            self._wave.set_samples(view.pleth)
        return True

    def _leave_buttons(self, kind: str) -> None:
        """Skip, and a professional's value: inside the leading `LEAVE_SHARE` of the row."""
        host = QWidget()
        host.setObjectName("leave-buttons")
        policy = QSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        policy.setHeightForWidth(True)  # words that wrap make the row taller, not cut
        host.setSizePolicy(policy)
        pair = QHBoxLayout(host)
        pair.setContentsMargins(0, 0, 0, 0)
        pair.setSpacing(24)
        pictures = self.window().width() >= WIDE_FROM  # at 1280 px the words need the room
        self.button(
            "measure.skip",
            "skip" if pictures else None,
            self.action(IntentKind.MEASURE_SKIP, kind),
            layout=pair,
            name="skip",
        )
        self.button(
            "measure.by_professional",
            "hand" if pictures else None,
            self.action(IntentKind.ASK_PROFESSIONAL, "manual-measure"),
            layout=pair,
            name="ask-professional",
        )
        self._leave = host
        self.action_row.addWidget(host)

    def _fit_leave(self) -> None:
        """Clear of the trailing half, where the last screen's "Next" was (words may wrap)."""
        if self._leave is None:
            return
        for button in self._leave.findChildren(BigButton):
            # Each keeps the width at which its words take at most one more line than on
            # one line: Qt would otherwise squeeze one into three lines and the other not.
            if button.property("themeMinH") is None:  # the theme's own minimum, kept
                button.setProperty("themeMinH", button.minimumHeight())
            floor = int(button.property("themeMinH"))
            button.setMinimumHeight(0)  # measured without the last fit's height
            natural = button.sizeHint().width()
            one_line = button.heightForWidth(natural)
            line = QFontMetrics(button.font()).lineSpacing()
            width = max(button.minimumSizeHint().width(), MIN_TOUCH_PX)
            while width < natural and button.heightForWidth(width) > one_line + line:
                width += 8
            button.setMinimumWidth(width)
            button.setMinimumHeight(max(floor, button.heightForWidth(width)))
        share = int(self.width() * LEAVE_SHARE)  # never less than whole words need
        self._leave.setMaximumWidth(max(share, self._leave.minimumSizeHint().width()))

    def resizeEvent(self, event: QResizeEvent) -> None:
        self._fit_leave()
        super().resizeEvent(event)

    def clear(self) -> None:
        self._leave = self._cuff = self._wave = None
        super().clear()
