"""Why did you come? A few everyday words to touch, a few words to type if wished, or "I'll say it".

Why choices first: the patient is often elderly and not at ease with a
keyboard; touching "Fièvre" is enough for the doctor's first idea, and the
call is where the reason is really told. The keyboard appears only when the
person asks to write, so the screen stays one thing at a time.
"""

from __future__ import annotations

from PySide6.QtWidgets import QGridLayout, QWidget

from app.ui.screens.base import Screen
from app.ui.views import Intent, IntentKind, ScreenId, VisitReasonView
from app.ui.widgets.buttons import BigButton
from app.ui.widgets.keyboard import KeyField, OnScreenKeyboard, bind_fields

PER_ROW = 3


class VisitReasonScreen(Screen):
    screen_id = ScreenId.VISIT_REASON

    choices: dict[str, BigButton]
    words: KeyField | None = None
    keyboard: OnScreenKeyboard | None = None

    def build(self, view: VisitReasonView) -> None:
        self.choices = {}
        self._max = view.max_choices
        self.title("reason.title")
        dense = self.compact()
        what = self.paragraph("reason.what", count=view.max_choices)
        grid = QGridLayout()
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
        self.body.addLayout(grid)
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
        host = QWidget()
        host.setObjectName("reason-keyboard-host")
        self.keyboard = OnScreenKeyboard(self.presentation.language, self.t, host)
        host.hide()
        self._keys_host = host
        self.body.addWidget(host)
        # "Write a few words" sits beside "I'll tell the doctor" and "Next".
        self.write = self.button(
            "reason.write", "keyboard", self._show_keyboard, name="reason-write"
        )
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
        self._words_label.show()
        self.words.show()
        self._keys_host.show()
        self.write.hide()
        bind_fields(self.keyboard, [self.words])

    def _send(self) -> None:
        chosen = ",".join(c for c, b in self.choices.items() if b.isChecked())
        text = self.words.text() if self.words is not None else ""
        self.intent.emit(Intent(IntentKind.VISIT_REASON, chosen, {"text": text}))

    def clear(self) -> None:
        self.words = None
        self.keyboard = None
        super().clear()

    def forget(self) -> None:
        self.choices = {}
