"""A signed-in professional types the patient's identity (INS traits), beside the patient.

Why this shape: the cabin has no physical keyboard, so the form sits on one
side and the kiosk's AZERTY keyboard (accents, capitals, digits) on the
other (mirrored in Arabic), or under the form on a small screen; the first
field has the focus and the keyboard from the start; each field
is large, says what it expects, and has its own error right under it in
plain words, so the professional corrects everything in one pass. Sex and
the document checked are choices (buttons), not typing. The typed values
come back in the view only when a field was refused; the screen keeps
nothing once left.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QGridLayout, QVBoxLayout, QWidget

from app.ui.screens.base import Screen, Translate, clear_layout
from app.ui.views import IdentityFormView, Intent, IntentKind, ScreenId
from app.ui.widgets.buttons import BigButton
from app.ui.widgets.keyboard import KeyField, OnScreenKeyboard, bind_fields, dock_keyboard
from app.ui.widgets.text import label

# (field id, label id, hint id or None, max length)
TEXT_FIELDS: tuple[tuple[str, str, str | None, int], ...] = (
    ("birth-name", "identity_form.birth-name", None, 100),
    ("birth-first-names", "identity_form.birth-first-names", "identity_form.hint.first-names", 100),
    ("first-name-used", "identity_form.first-name-used", "identity_form.hint.optional", 100),
    ("birth-date", "identity_form.birth-date", "identity_form.hint.date", 10),
    ("birth-place", "identity_form.birth-place", "identity_form.hint.insee", 5),
    ("nir", "identity_form.nir", "identity_form.hint.optional", 21),
)
SEXES = ("female", "male")
DOCUMENTS = ("passport", "national-id-card", "residence-permit", "none")


class ManualIdentityScreen(Screen[IdentityFormView]):
    """The form scrolls; the keyboard beside it stays in place, whichever field is touched."""

    screen_id = ScreenId.MANUAL_IDENTITY

    def __init__(self, translate: Translate, parent: QWidget | None = None) -> None:
        super().__init__(translate, parent)
        self._keys_host = QWidget()
        self._keys = QVBoxLayout(self._keys_host)
        self._keys.setContentsMargins(0, 0, 0, 0)
        self._columns = dock_keyboard(self.layout(), self._header, self._scroll, self._keys_host)

    def clear(self) -> None:
        super().clear()
        clear_layout(self._keys)

    def build(self, view: IdentityFormView) -> None:
        self.title("identity_form.title")
        self.paragraph("manual.by", name=view.professional).setObjectName("professional")
        if view.error is not None:
            _, inner = self.card("warning")
            self.paragraph(view.error, layout=inner).setObjectName("form-error")
        form = self.body
        self.fields: dict[str, KeyField] = {}
        for field_id, label_id, hint_id, length in TEXT_FIELDS:
            words = self.text(label_id)
            if hint_id is not None:
                words = f"{words} — {self.text(hint_id)}"
            form.addWidget(label(self.say(words), "body"))
            field = KeyField()
            field.setObjectName(f"field-{field_id}")
            field.setAccessibleName(words)
            field.setMaxLength(length)
            field.setLayoutDirection(Qt.LayoutDirection.LeftToRight)  # INS traits: Latin letters
            field.setText(view.values.get(field_id, ""))
            form.addWidget(field)
            self.fields[field_id] = field
            self._error(form, view, field_id)
        self.sex = self._choices(form, view, "sex", "identity_form.sex", SEXES, 1)
        self.document = self._choices(
            form, view, "document", "identity_form.document", DOCUMENTS, 1
        )
        keyboard = OnScreenKeyboard("azerty", self.t, self._keys_host)
        keyboard.setObjectName("identity-keyboard")  # its pages are "keyboard-…" for the probe
        keyboard.ensurePolished()  # the theme's key sizes before the layout asks
        self._keys.addWidget(keyboard)
        self._keys.addStretch(1)
        bind_fields(keyboard, list(self.fields.values()))
        self.button("common.cancel", "back", self.action(IntentKind.CANCEL), name="cancel")
        self.button("identity_form.save", "yes", self._save, "primary", name="save-identity")

    def forget(self) -> None:
        self.fields = {}
        self.sex = {}
        self.document = {}

    def _error(self, form: QVBoxLayout, view: IdentityFormView, field_id: str) -> None:
        message = view.errors.get(field_id)
        if message is None:
            return
        frame = QFrame()
        frame.setProperty("role", "warning")
        inner = QVBoxLayout(frame)
        inner.setContentsMargins(16, 8, 16, 8)
        self.paragraph(message, layout=inner).setObjectName(f"error-{field_id}")
        form.addWidget(frame)

    def _choices(
        self,
        form: QVBoxLayout,
        view: IdentityFormView,
        field_id: str,
        label_id: str,
        options: tuple[str, ...],
        per_row: int,
    ) -> dict[str, BigButton]:
        form.addWidget(label(self.say(self.text(label_id)), "body"))
        grid = QGridLayout()
        grid.setSpacing(12)
        chosen = view.values.get(field_id, "")
        buttons: dict[str, BigButton] = {}
        for index, option in enumerate(options):
            button = BigButton(self.say(self.text(f"identity_form.{field_id}.{option}")))
            button.setObjectName(f"{field_id}-{option}")
            button.setCheckable(True)
            button.setChecked(option == chosen)
            button.clicked.connect(lambda _=False, o=option, b=buttons: _pick(b, o))
            grid.addWidget(button, index // per_row, index % per_row)
            buttons[option] = button
        form.addLayout(grid)
        self._error(form, view, field_id)
        return buttons

    def _save(self) -> None:
        data = {field_id: field.text() for field_id, field in self.fields.items()}
        data["sex"] = next((o for o, b in self.sex.items() if b.isChecked()), "")
        data["document"] = next((o for o, b in self.document.items() if b.isChecked()), "")
        self.intent.emit(Intent(IntentKind.MANUAL_IDENTITY, None, data))


def _pick(buttons: dict[str, BigButton], option: str) -> None:
    """One choice at a time; touching the chosen one again keeps it chosen."""
    for name, button in buttons.items():
        button.setChecked(name == option)
