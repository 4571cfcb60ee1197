"""A signed-in professional types a measurement by hand (a numeric keypad, units shown)."""

from __future__ import annotations

from PySide6.QtWidgets import QFormLayout, QHBoxLayout

from app.ui.screens.base import Screen
from app.ui.views import Intent, IntentKind, ManualEntryView, ScreenId
from app.ui.widgets.keyboard import KeyField, OnScreenKeyboard, bind_fields
from app.ui.widgets.text import label


class ManualEntryScreen(Screen):
    screen_id = ScreenId.MANUAL_ENTRY

    def build(self, view: ManualEntryView) -> None:
        self._view = view
        self.title(f"measure.{view.device.value}.title")
        self.paragraph("manual.by", name=view.professional).setObjectName("professional")
        if view.error is not None:
            _, inner = self.card("warning")
            self.paragraph(view.error, layout=inner).setObjectName("manual-error")
        form = QFormLayout()
        form.setSpacing(12)
        self.fields: dict[str, KeyField] = {}
        for spec in view.fields:
            field = KeyField()
            field.setObjectName(f"field-{spec.quantity}")
            words = self.say(self.text(spec.label))
            field.setAccessibleName(words)
            row = QHBoxLayout()
            row.addWidget(field, 1)
            row.addWidget(label(self.say(spec.unit), "body"))
            form.addRow(label(words, "body"), row)
            self.fields[spec.quantity] = field
        self.body.addLayout(form)
        keypad = OnScreenKeyboard("digits", self.t)
        keypad.setMaximumWidth(520)
        self.body.addWidget(keypad)
        bind_fields(keypad, list(self.fields.values()))
        self.button("common.cancel", "back", self.action(IntentKind.CANCEL), name="cancel")
        self.button("manual.save", "yes", self._save, "primary", name="save")

    def _save(self) -> None:
        values = {q: f.text().strip() for q, f in self.fields.items()}
        self.intent.emit(Intent(IntentKind.MANUAL_VALUE, self._view.device.value, values))
