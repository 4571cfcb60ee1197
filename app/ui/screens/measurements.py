"""Measurements, guided: a picture of the device and what to do, one device per screen.

Every measurement can be skipped, and a professional can enter the value by
hand (after signing in). The patient sees the value only, never a flag or
a judgement: the doctor interprets.
"""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QProgressBar, QVBoxLayout

from app.ui.screens.base import Screen
from app.ui.views import IntentKind, MeasurementView, MeasureStep, ScreenId
from app.ui.widgets.picture import Picture


class MeasurementsScreen(Screen):
    screen_id = ScreenId.MEASUREMENTS

    def build(self, view: MeasurementView) -> None:
        kind = view.device.value
        self.title(f"measure.{kind}.title")
        self.step(view.index, view.total)
        row = QHBoxLayout()
        row.setSpacing(32)
        row.addWidget(Picture(kind, 240))
        column = QVBoxLayout()
        column.setSpacing(16)
        row.addLayout(column, 1)
        self.body.addLayout(row)
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
            self.button(
                "measure.again", "back", self.action(IntentKind.MEASURE_RETRY), name="retry"
            )
            self.button("common.next", "next", self.action(IntentKind.NEXT), "primary", name="next")
        else:
            _, inner = self.card("warning")
            self.paragraph(view.problem or "measure.failed", layout=inner).setObjectName("problem")
            self.paragraph("measure.failed_next", layout=inner)
            self.button(
                "measure.again", "back", self.action(IntentKind.MEASURE_RETRY), name="retry"
            )
        if view.step is not MeasureStep.RESULT:
            self.button(
                "measure.skip", "skip", self.action(IntentKind.MEASURE_SKIP, kind), name="skip"
            )
            self.button(
                "measure.by_professional",
                "hand",
                self.action(IntentKind.ASK_PROFESSIONAL, "manual-measure"),
                name="ask-professional",
            )
