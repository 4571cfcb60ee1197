"""Welcome: choose the language, larger text, high contrast, hear the screen, then start."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel

from app.ui.i18n import language_name
from app.ui.screens.base import Screen
from app.ui.views import IntentKind, ScreenId, WelcomeView
from app.ui.widgets.buttons import BigButton


class WelcomeScreen(Screen[WelcomeView]):
    screen_id = ScreenId.WELCOME

    def build(self, view: WelcomeView) -> None:
        p = self.presentation
        self.title("welcome.title")
        said: list[QLabel] = []
        if view.card_left:
            frame, note = self.card("warning")
            frame.setObjectName("card-left")
            note.setContentsMargins(20, 8, 20, 8)
            said.append(self.paragraph("welcome.card_left", layout=note))
        said.append(self.paragraph("welcome.what"))
        said.append(self.paragraph("welcome.choose_language"))
        langs = QHBoxLayout()
        langs.setSpacing(24)
        for code in view.languages:
            # A language's own name, so each person finds theirs: data, not a message.
            button = BigButton(self.say(language_name(code)), "globe")
            button.setObjectName(f"lang-{code}")
            button.setCheckable(True)
            button.setChecked(code == p.language)
            button.clicked.connect(
                lambda _=False, c=code: self.intent.emit(self.action(IntentKind.SET_LANGUAGE, c))
            )
            langs.addWidget(button)
        self.body.addLayout(langs)
        said.append(self.paragraph("welcome.comfort"))
        if view.card_left and (p.large_text or self.compact()):
            # The forgotten card's note takes two lines: the sentences go a step smaller
            # (never under the body minimum) so that "Start" needs no scrolling.
            for words in said:
                words.setProperty("role", "small")
        comfort = QHBoxLayout()
        comfort.setSpacing(24)
        large = self.button(
            "welcome.large_text",
            "text-size",
            self.action(IntentKind.SET_LARGE_TEXT, "off" if p.large_text else "on"),
            layout=comfort,
            name="large-text",
        )
        large.setCheckable(True)
        large.setChecked(p.large_text)
        contrast = self.button(
            "welcome.high_contrast",
            "contrast",
            self.action(IntentKind.SET_HIGH_CONTRAST, "off" if p.high_contrast else "on"),
            layout=comfort,
            name="high-contrast",
        )
        contrast.setCheckable(True)
        contrast.setChecked(p.high_contrast)
        self.button(
            "welcome.audio_help",
            "speaker",
            self.action(IntentKind.READ_ALOUD),
            layout=comfort,
            name="audio-help",
        )
        self.body.addLayout(comfort)
        self.button("welcome.start", "next", self.action(IntentKind.START), "primary", name="start")
