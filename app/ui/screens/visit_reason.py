"""Why did you come? A few everyday words to touch, a few words to type if wished, or "I'll say it".

Why choices first: the patient is often elderly and not at ease with a
keyboard; touching "Fièvre" is enough for the doctor's first idea, and the
call is where the reason is really told. The keyboard appears only when the
person asks to write, so the screen stays one thing at a time.
"""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QGridLayout, QVBoxLayout, QWidget

from app.ui.screens.base import KeptState, Screen, Translate, clear_layout
from app.ui.views import Intent, IntentKind, ScreenId, VisitReasonView
from app.ui.widgets.buttons import BigButton
from app.ui.widgets.keyboard import KeyField, OnScreenKeyboard, bind_fields, dock_keyboard

PER_ROW = 3


class VisitReasonScreen(Screen[VisitReasonView]):
    screen_id = ScreenId.VISIT_REASON

    choices: dict[str, BigButton]
    words: KeyField | None = None
    keyboard: OnScreenKeyboard | None = None

    def __init__(self, translate: Translate, parent: QWidget | None = None) -> None:
        super().__init__(translate, parent)
        # The keys, once asked for, stand beside the title and the choices (as on the login
        # screen): under them, in the scrolling body, their lower rows fell below the fold
        # at 1280x800. Hidden until the person touches "Write a few words".
        self._keys_host = QWidget()
        self._keys_host.setObjectName("reason-keyboard-host")
        self._keys = QVBoxLayout(self._keys_host)
        self._keys.setContentsMargins(0, 0, 0, 0)
        dock_keyboard(self.layout(), self._header, self._scroll, self._keys_host)
        self._keys_host.hide()

    def build(self, view: VisitReasonView) -> None:
        self.choices = {}
        self._max = view.max_choices
        self.title("reason.title")
        dense = self.compact()
        what = self.paragraph("reason.what", count=view.max_choices)
        self._what = what
        self._grid_host = QWidget()
        grid = QGridLayout(self._grid_host)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setSpacing(8 if dense else 16)
        for index, choice in enumerate(view.choices):
            button = BigButton(self.say(self.text(f"reason.choice.{choice}")))
            button.setObjectName(f"reason-{choice}")
            button.setCheckable(True)
            button.toggled.connect(lambda on, c=choice: self._limit(c, on))
            grid.addWidget(button, index // PER_ROW, index % PER_ROW)
            self.choices[choice] = button
        for column in range(PER_ROW):
            grid.setColumnStretch(column, 1)
        self.body.addWidget(self._grid_host)
        # While writing, the choices give way to one line that names them (the keys beside
        # leave the column too narrow for three buttons a row); "See the choices again"
        # brings them back, with what was written kept.
        self._chosen = self.data_line("")
        self._chosen.setObjectName("reason-chosen")
        self._chosen.hide()
        if dense:
            what.setProperty("role", "small")
        # "You may also write a few words (not required)" labels the field: it shows with
        # the field, once the person asks to write (the body keeps its height for the
        # choices: nothing below the fold at 1280x800). Read aloud from the start.
        self._words_label = self.paragraph("reason.words")
        self._words_label.hide()
        self.words = KeyField()
        self.words.setObjectName("reason-words")
        self.words.setMaxLength(view.max_text)
        self.words.setAccessibleName(self.text("reason.words"))
        self.words.hide()
        self.body.addWidget(self.words)
        self.keyboard = OnScreenKeyboard(self.presentation.language, self.t, self._keys_host)
        self.keyboard.ensurePolished()  # the theme's key sizes before the layout asks
        self._keys.addWidget(self.keyboard)
        self._keys.addStretch(1)
        self._keys_host.hide()
        # "Write a few words" sits beside "I'll tell the doctor" and "Next"; while writing,
        # "See the choices again" takes its place.
        self.write = self.button(
            "reason.write", "keyboard", self._show_keyboard, name="reason-write"
        )
        self.again = self.button(
            "reason.choices_again", "back", self._show_choices, name="reason-choices-again"
        )
        self.again.hide()
        self.button(
            "reason.tell_doctor",
            "doctor",
            self.action(IntentKind.VISIT_REASON, ""),
            name="reason-tell-doctor",
        )
        self.button("common.next", "next", self._send, "primary", name="reason-next")
        for index in range(self.action_row.count()):
            self.action_row.setStretch(index, 1)

    def _limit(self, choice: str, on: bool) -> None:
        """At most `max_choices`: a further touch is undone (the words say how many)."""
        if on and sum(b.isChecked() for b in self.choices.values()) > self._max:
            self.choices[choice].setChecked(False)

    def _show_keyboard(self) -> None:
        if self.words is None or self.keyboard is None:
            return
        chosen = [self.text(f"reason.choice.{c}") for c, b in self.choices.items() if b.isChecked()]
        self._chosen.setText(self.text("reason.chosen", choices=", ".join(chosen)))
        self._chosen.setVisible(bool(chosen))
        self._what.hide()
        self._grid_host.hide()
        self._words_label.show()
        self.words.show()
        self._keys_host.show()
        self.write.hide()
        self.again.show()
        bind_fields(self.keyboard, [self.words])
        # Once the layout has made room: the field in sight, even in large text.
        QTimer.singleShot(0, self._scroll_to_words)

    def _show_choices(self) -> None:
        """Back to the buttons; the words written stay, in their field, without the keys."""
        self._keys_host.hide()
        self._chosen.hide()
        self._what.show()
        self._grid_host.show()
        self.again.hide()
        self.write.show()
        has_words = self.words is not None and bool(self.words.text())
        self._words_label.setVisible(has_words)
        if self.words is not None:
            self.words.setVisible(has_words)

    def restore_state(self, kept: KeptState) -> None:
        """Words given back by a rebuild (a language change) are shown, not held unseen."""
        super().restore_state(kept)
        if self.words is not None and self.words.text():
            self._words_label.show()
            self.words.show()

    def _scroll_to_words(self) -> None:
        if self.words is None or not self.words.isVisible():  # the screen moved on meanwhile
            return
        self._scroll.ensureWidgetVisible(self.words, 0, 24)

    def _send(self) -> None:
        chosen = ",".join(c for c, b in self.choices.items() if b.isChecked())
        text = self.words.text() if self.words is not None else ""
        self.intent.emit(Intent(IntentKind.VISIT_REASON, chosen, {"text": text}))

    def clear(self) -> None:
        self.words = None
        self.keyboard = None
        super().clear()
        clear_layout(self._keys)
        self._keys_host.hide()

    def forget(self) -> None:
        self.choices = {}
