"""A signed-in professional types a measurement by hand (a numeric keypad, units shown).

The first field has the focus and the keypad (digits and a decimal comma)
from the start; the keypad stays beside the form, which scrolls if it must.
"""

from __future__ import annotations

from PySide6.QtWidgets import QFormLayout, QHBoxLayout, QVBoxLayout, QWidget

from app.ui.screens.base import Screen, Translate, clear_layout
from app.ui.views import Intent, IntentKind, ManualEntryView, ScreenId
from app.ui.widgets.keyboard import KeyField, OnScreenKeyboard, bind_fields, dock_keyboard
from app.ui.widgets.text import label

KEYPAD_WIDTH = 420  # three keys of 120 px and their gaps


class ManualEntryScreen(Screen[ManualEntryView]):
    screen_id = ScreenId.MANUAL_ENTRY

    keypad: OnScreenKeyboard | None = None

    def __init__(self, translate: Translate, parent: QWidget | None = None) -> None:
        super().__init__(translate, parent)
        self._keys_host = QWidget()
        self._keys = QVBoxLayout(self._keys_host)
        self._keys.setContentsMargins(0, 0, 0, 0)
        dock_keyboard(self.layout(), self._header, self._scroll, self._keys_host)

    def clear(self) -> None:
        super().clear()
        clear_layout(self._keys)
        self.keypad = None

    def build(self, view: ManualEntryView) -> None:
        self._view = view
        self.title(f"measure.{view.device.value}.title")
        self.paragraph("manual.by", name=view.professional).setObjectName("professional")
        if view.error is not None:
            _, inner = self.card("warning")
            self.paragraph(view.error, layout=inner).setObjectName("manual-error")
        form = QFormLayout()
        form.setSpacing(12)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapAllRows)  # the label above
        self.fields: dict[str, KeyField] = {}
        for spec in view.fields:
            field = KeyField()
            field.setObjectName(f"field-{spec.quantity}")
            field.setMaxLength(8)
            words = self.say(self.text(spec.label))
            field.setAccessibleName(words)
            row = QHBoxLayout()
            row.addWidget(field, 1)
            row.addWidget(label(self.say(spec.unit), "body"))
            form.addRow(label(words, "body"), row)
            self.fields[spec.quantity] = field
        self.body.addLayout(form)
        self.keypad = OnScreenKeyboard("digits", self.t, self._keys_host)
        self.keypad.setFixedWidth(KEYPAD_WIDTH)
        self.keypad.ensurePolished()  # the theme's key sizes before the layout asks
        self._keys.addWidget(self.keypad)
        self._keys.addStretch(1)
        bind_fields(self.keypad, list(self.fields.values()))
        self.button("common.cancel", "back", self.action(IntentKind.CANCEL), name="cancel")
        self.button("manual.save", "yes", self._save, "primary", name="save")

    def _save(self) -> None:
        values = {q: f.text().strip() for q, f in self.fields.items()}
        self.intent.emit(Intent(IntentKind.MANUAL_VALUE, self._view.device.value, values))
