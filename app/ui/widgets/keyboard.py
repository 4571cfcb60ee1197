"""The on-screen keyboards: the cabin has a touch screen and no physical keys.

Why one AZERTY family (see docs/ui.md, "Touch and keyboard"): the people
who type here are French professionals (a user name, a password the policy
wants with capitals, digits and signs, an identity with accents) and
patients writing to the doctor ("j'ai de la fièvre"). They know AZERTY from
the pharmacy's PC, so every Latin field of the kiosk gets the same one:

- letters: a row of French accented letters (é è ê à â ç ù û ô î; ë ï œ
  after n), AZERTY rows, ' and - (names: O'Neil, Jean-Pierre), "Maj" (one
  touch: the next letter is a capital; two touches in a row: capitals until
  touched again), space, erase (bottom right, where it has room for its
  word), and "?123". No row has more than ten letters, so the keyboard
  fits the call's text column (1000 px) in large text;
- "?123": digits and every sign a password may need (! @ # $ % & * - _ + =
  . , ; : / ? ( ) ' "), and "ABC" back to the letters;
- digits: a keypad for numbers (measurements), with a decimal comma;
- Arabic: the Arabic letters for a patient writing to the doctor in Arabic.

Keys never take the focus (the field keeps its cursor) and are `Key`
buttons: big (64 px and more), text in the button size of the theme, and
exempt from the double-tap filter (typing "ll" is two letters) but not
from the "appeared under the finger" guard. Key rows always run left to
right, as on a physical keyboard, even when the screen is in Arabic.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Sequence

from PySide6.QtCore import QEvent, QSize, Qt, Signal
from PySide6.QtGui import QFocusEvent, QFontMetrics, QMouseEvent
from PySide6.QtWidgets import (
    QBoxLayout,
    QHBoxLayout,
    QLayout,
    QLineEdit,
    QSizePolicy,
    QStackedLayout,
    QVBoxLayout,
    QWidget,
)

from app.ui.theme import MIN_TOUCH_PX
from app.ui.widgets.buttons import PICTURE_GAP, BigButton

ACCENTS = "éèêàâçùûôî"
LETTER_ROWS = ("azertyuiop", "qsdfghjklm")
LETTER_ROW_3 = "wxcvbnëïœ"
SYMBOL_ROWS = ("1234567890", "@#$%&*()_+", "-=/:;!?'\",")
ARABIC_ROWS = ("١٢٣٤٥٦٧٨٩٠", "ضصثقفغعهخحج", "شسيبلاتنمكط", "ئءؤرىةوزظدذ")
DIGIT_ROWS = ("123", "456", "789")
DECIMAL_SEPARATOR = ","  # French; the presenter reads a point as well
LAYOUTS = ("azerty", "digits", "ar")
CAPS_LOCK_S = 0.4  # "Maj" touched twice within this time: capitals until touched again
KEY_SPACING = 6
KEYBOARD_MAX_WIDTH = 960  # keys of about 90 px at 1920×1080: wide, yet the hand travels little
KEY_HEIGHT = 80  # when there is room; 64 (MIN_TOUCH_PX) at the least
FORM_MIN_WIDTH = 400  # what the form beside a keyboard keeps at 1280×800 (keys go to 64 px)
CHAR, WIDE, SPACE = 2, 3, 8  # stretch of a character key, a special key, the space bar


def layout_for_language(language: str) -> str:
    """The keyboard a patient writing in `language` gets (professionals always get AZERTY)."""
    return "ar" if language == "ar" else "azerty"


class Key(BigButton):
    """One key: compact padding, no focus, no double-tap filter."""

    pad_x = 4
    pad_y = 4
    debounce = False
    renew_on_text = False  # Maj changes the captions' case, not what the keys mean
    key_height = KEY_HEIGHT

    def __init__(self, text: str, pictogram: str | None = None, name: str = "") -> None:
        super().__init__(text, pictogram, "key")
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        policy = QSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.setSizePolicy(policy)
        if name:
            self.setObjectName(name)

    def hasHeightForWidth(self) -> bool:
        return False  # one line; rows keep one height whatever the width

    def event(self, event: QEvent) -> bool:
        handled = super().event(event)
        if event.type() in (QEvent.Type.Polish, QEvent.Type.FontChange, QEvent.Type.StyleChange):
            self._fit()
        return handled

    def setText(self, text: str) -> None:
        super().setText(text)
        self._fit()

    def _fit(self) -> None:
        """The theme's style sheet gives every key one minimum size; a key holds its words
        on one line ("⇧ Maj", "Effacer") and shrinks to 64 px, no less, when room is short."""
        self.setMinimumSize(self.minimumSizeHint())

    def minimumSizeHint(self) -> QSize:
        metrics = QFontMetrics(self.font())
        side = self._picture_side()
        words = metrics.horizontalAdvance(self.text()) + 2 * self.pad_x + 4
        return QSize(max(MIN_TOUCH_PX, words + (side + PICTURE_GAP if side else 0)), MIN_TOUCH_PX)

    def sizeHint(self) -> QSize:
        return QSize(self.minimumSizeHint().width(), self.key_height)

    def _picture_side(self) -> int:
        return 0 if self.pictogram is None else max(24, int(self._font_px() * 1.2))


class OnScreenKeyboard(QWidget):
    """A keyboard of the family: `layout` is "azerty", "digits" or "ar" (or a language code).

    It types into the field given to `attach()` (the last one touched).
    """

    typed = Signal(str)  # every key that changed the text (tests, the probe)

    def __init__(
        self,
        layout: str,
        translate: Callable[..., str],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        if layout not in LAYOUTS:
            layout = layout_for_language(layout)
        self.kind = layout
        self.setObjectName("keyboard")
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus)  # handed to the field (see `attach`)
        self.setLayoutDirection(Qt.LayoutDirection.LeftToRight)  # rows as on a real keyboard
        self.t = translate
        self.target: QLineEdit | None = None
        self.keys: list[Key] = []
        self.letters: dict[str, Key] = {}  # lower-case letter -> its key (its caption follows Maj)
        self.shift = False
        self.caps_lock = False
        self._last_shift = 0.0
        self._pages = QStackedLayout(self)
        self._pages.setContentsMargins(0, 0, 0, 0)
        self.page_widgets: dict[str, QWidget] = {}
        if layout == "azerty":
            self._letters_page()
            self._symbols_page()
        elif layout == "digits":
            self._digits_page()
        else:
            self._arabic_page()
        self.show_page(next(iter(self.page_widgets)))

    # -- building -----------------------------------------------------------------

    def _page(self, name: str) -> QVBoxLayout:
        page = QWidget()
        page.setObjectName(f"keyboard-{name}")  # the probe finds keys by this prefix
        rows = QVBoxLayout(page)
        rows.setContentsMargins(0, 0, 0, 0)
        rows.setSpacing(KEY_SPACING)
        self._pages.addWidget(page)
        self.page_widgets[name] = page
        return rows

    def _row(self, rows: QVBoxLayout) -> QHBoxLayout:
        row = QHBoxLayout()
        row.setSpacing(KEY_SPACING)
        rows.addLayout(row)
        return row

    def _key(
        self,
        row: QHBoxLayout,
        text: str,
        action: Callable[[], None],
        stretch: int = CHAR,
        pictogram: str | None = None,
        name: str = "",
    ) -> Key:
        key = Key(text, pictogram, name)
        key.clicked.connect(lambda _=False: action())
        row.addWidget(key, stretch)
        self.keys.append(key)
        return key

    def _chars(self, row: QHBoxLayout, chars: str, letters: bool = False) -> None:
        for char in chars:
            key = self._key(row, char, functools.partial(self._type_char, char))
            key.setAccessibleName(char)
            if letters and char.isalpha():
                self.letters[char] = key

    def _erase_key(self, row: QHBoxLayout, stretch: int = WIDE) -> Key:
        words = self.t("keyboard.erase")
        key = self._key(row, words, self._erase, stretch, "backspace", "key-erase")
        key.setAccessibleName(words)
        return key

    def _space_key(self, row: QHBoxLayout) -> Key:
        words = self.t("keyboard.space")
        key = self._key(row, words, lambda: self._type(" "), SPACE, name="key-space")
        key.setAccessibleName(words)
        return key

    def _letters_page(self) -> None:
        rows = self._page("letters")
        self._chars(self._row(rows), ACCENTS, letters=True)
        for line in LETTER_ROWS:
            self._chars(self._row(rows), line, letters=True)
        row = self._row(rows)
        self.shift_key = self._key(
            row, self.t("keyboard.shift"), self._on_shift, WIDE, name="key-shift"
        )
        self.shift_key.setCheckable(True)
        self.shift_key.setAccessibleName(self.t("keyboard.shift"))
        self._chars(row, LETTER_ROW_3, letters=True)
        row = self._row(rows)
        words = self.t("keyboard.symbols")
        self._key(row, words, lambda: self.show_page("symbols"), WIDE, name="key-symbols")
        self._chars(row, "'-")
        self._space_key(row)
        self._chars(row, ".")
        self._erase_key(row)

    def _symbols_page(self) -> None:
        rows = self._page("symbols")
        for line in SYMBOL_ROWS:
            self._chars(self._row(rows), line)
        row = self._row(rows)
        words = self.t("keyboard.letters")
        self._key(row, words, lambda: self.show_page("letters"), WIDE, name="key-letters")
        self._space_key(row)
        self._chars(row, ".")
        self._erase_key(row)

    def _digits_page(self) -> None:
        rows = self._page("digits")
        for line in DIGIT_ROWS:
            self._chars(self._row(rows), line)
        row = self._row(rows)
        self._chars(row, DECIMAL_SEPARATOR + "0")
        self._erase_key(row, CHAR)

    def _arabic_page(self) -> None:
        rows = self._page("arabic")
        for line in ARABIC_ROWS:
            self._chars(self._row(rows), line)
        row = self._row(rows)
        self._chars(row, "،")
        self._space_key(row)
        self._chars(row, "؟.")
        self._erase_key(row)

    # -- behaviour ----------------------------------------------------------------

    @property
    def page(self) -> str:
        current = self._pages.currentWidget()
        return next(name for name, widget in self.page_widgets.items() if widget is current)

    def show_page(self, name: str) -> None:
        self._pages.setCurrentWidget(self.page_widgets[name])

    def set_compact(self, compact: bool) -> None:
        """Keys of 64 px (the least touch target) where height is short, 80 px otherwise."""
        for key in self.keys:
            key.key_height = MIN_TOUCH_PX if compact else KEY_HEIGHT
            key.updateGeometry()

    def attach(self, target: QLineEdit) -> None:
        """Type into `target` from now on.

        Why a focus proxy: a key takes no focus, but Qt then gives the click focus
        to the first ancestor that takes it (a scroll area around the keyboard),
        and the field would lose its cursor. The keyboard takes the click focus
        itself and hands it to the field.
        """
        self.target = target
        self.setFocusProxy(target)

    def _type_char(self, char: str) -> None:
        upper = self.shift or self.caps_lock
        self._type(char.upper() if upper and char in self.letters else char)
        if self.shift and char in self.letters and not self.caps_lock:
            self._set_shift(False)

    def _type(self, text: str) -> None:
        if self.target is None:
            return
        before = self.target.text()
        self.target.insert(text)
        if self.target.text() != before:
            self.typed.emit(text)

    def _erase(self) -> None:
        if self.target is not None:
            self.target.backspace()

    def _on_shift(self) -> None:
        now = time.monotonic()
        if self.caps_lock:
            self.caps_lock = False
            self._set_shift(False)
        elif self.shift and now - self._last_shift < CAPS_LOCK_S:
            self.caps_lock = True
            self._set_shift(True)
        else:
            self._set_shift(not self.shift)
        self._last_shift = now

    def _set_shift(self, on: bool) -> None:
        self.shift = on
        upper = on or self.caps_lock
        for char, key in self.letters.items():
            key.setText(char.upper() if upper else char)
            key.setAccessibleName(key.text())
        caption = self.t("keyboard.caps_lock" if self.caps_lock else "keyboard.shift")
        self.shift_key.setText(caption)
        self.shift_key.setAccessibleName(caption)
        self.shift_key.setChecked(upper)


class KeyField(QLineEdit):
    """A text field that tells the keyboard when the person touches it."""

    touched = Signal(object)

    def focusInEvent(self, event: QFocusEvent) -> None:
        super().focusInEvent(event)
        self.touched.emit(self)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        super().mousePressEvent(event)
        self.touched.emit(self)


def bind_fields(
    keyboard: OnScreenKeyboard, fields: Sequence[KeyField], focus_first: bool = True
) -> None:
    """Point the keyboard at whichever field was touched last; the first one has the focus."""
    for field in fields:
        field.touched.connect(keyboard.attach)
    if fields:
        keyboard.attach(fields[0])
        if focus_first:
            fields[0].setFocus(Qt.FocusReason.OtherFocusReason)


class KeyboardArea(QHBoxLayout):
    """The screen's title and form in one column, the keyboard beside them (mirrored in Arabic).

    Why beside and not under: under the form, a five-row keyboard, the title
    and the buttons leave no room for the form at 1280×800 in large text.
    Beside the title and the form it has their height (the keys go down to
    64 px before anything is cut), the form keeps `FORM_MIN_WIDTH`, and the
    screen's buttons keep the whole width under both, as on every screen.
    """

    def __init__(self, header: QLayout, content: QWidget, keys_host: QWidget) -> None:
        super().__init__()
        self.setSpacing(24)
        self.column = QVBoxLayout()
        self.column.setSpacing(20)
        self.column.addLayout(header)
        content.setMinimumWidth(FORM_MIN_WIDTH)
        self.column.addWidget(content, 1)
        self.addLayout(self.column, 1)
        keys_host.setMaximumWidth(KEYBOARD_MAX_WIDTH)
        self.addWidget(keys_host, 1)
        self.keys_host = keys_host


def dock_keyboard(
    outer: QLayout | None, header: QLayout, content: QWidget, keys_host: QWidget
) -> KeyboardArea:
    """Replace a screen's `header` and `content` in its `outer` layout by a `KeyboardArea`."""
    assert isinstance(outer, QBoxLayout)  # noqa: S101 - a screen's own vertical layout
    index = outer.indexOf(header)
    outer.removeItem(header)
    outer.removeWidget(content)
    area = KeyboardArea(header, content, keys_host)
    outer.insertLayout(index, area, 1)
    return area
