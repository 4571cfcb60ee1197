"""The on-screen keyboards, touched key by key on the real screens (pytest-qt, offscreen).

One AZERTY family everywhere Latin letters are typed (login included):
capitals with Maj (one-shot, caps lock on a double touch), "?123" digits and
the signs a password needs, French accents in one touch; a digit pad with a
decimal comma for values; Arabic for an Arabic-speaking patient's text.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLabel, QLineEdit, QWidget
from pytestqt.qtbot import QtBot

from app.maintenance.password_policy import check_password
from app.ui.i18n import Msg
from app.ui.main_window import KioskWindow
from app.ui.screens.base import AnyScreen
from app.ui.theme import MIN_BODY_PX, MIN_TOUCH_PX
from app.ui.views import Presentation, ProfessionalLoginView
from app.ui.widgets.buttons import BigButton
from app.ui.widgets.keyboard import OnScreenKeyboard
from tests.ui.checks import child, clipping_problems
from tests.ui.sample_views import sample_views

PASSWORD = "Tilleul-Orange-42"  # noqa: S105 - 17 characters, 4 classes: the policy's kind


def _show(window: KioskWindow, name: str, lang: str = "fr") -> AnyScreen:
    window.present(sample_views()[name], Presentation(lang))
    QApplication.processEvents()
    QApplication.processEvents()
    return window.current_screen


def _keyboard(screen: QWidget) -> OnScreenKeyboard:
    found = [k for k in screen.findChildren(OnScreenKeyboard) if k.isVisible()]
    assert len(found) == 1
    return found[0]


def _tap(qtbot: QtBot, keyboard: OnScreenKeyboard, caption: str) -> None:
    """Touch the one visible key showing `caption` (a letter's caption follows Maj)."""
    keys = [k for k in keyboard.keys if k.isVisible() and k.text() == caption]
    assert len(keys) == 1, (caption, [k.text() for k in keyboard.keys if k.isVisible()])
    qtbot.mouseClick(keys[0], Qt.MouseButton.LeftButton)  # type: ignore[no-untyped-call]  # pytest-qt: QtBot.mouseClick is unannotated


def _type(qtbot: QtBot, keyboard: OnScreenKeyboard, captions: list[str]) -> None:
    for caption in captions:
        _tap(qtbot, keyboard, caption)


SHIFT, SYMBOLS, LETTERS = "⇧", "?123", "ABC"


def test_the_patient_writes_fievre_to_the_doctor(window: KioskWindow, qtbot: QtBot) -> None:
    screen = _show(window, "call")
    qtbot.mouseClick(child(screen, BigButton, "keyboard"), Qt.MouseButton.LeftButton)  # type: ignore[no-untyped-call]  # pytest-qt: QtBot.mouseClick is unannotated
    keyboard = _keyboard(screen)
    draft = child(screen, QLineEdit, "patient-text")
    assert window.focusWidget() is draft and keyboard.target is draft
    _type(qtbot, keyboard, [SHIFT, "F", "i", "è", "v", "r", "e", SYMBOLS, "!", "2"])
    assert draft.text() == "Fièvre!2"
    assert keyboard.page == "symbols"
    _tap(qtbot, keyboard, LETTERS)
    assert keyboard.page == "letters" and not keyboard.shift  # Maj was for one letter
    assert window.focusWidget() is draft  # the keys never took the focus
    assert clipping_problems(window) == []


def test_a_password_the_policy_wants_is_typed_at_the_login(
    window: KioskWindow, qtbot: QtBot
) -> None:
    window.present(ProfessionalLoginView(Msg("login.purpose.manual-measure")), Presentation("fr"))
    QApplication.processEvents()
    screen = window.current_screen
    keyboard = _keyboard(screen)
    username = child(screen, QLineEdit, "username")
    password = child(screen, QLineEdit, "password")
    assert window.focusWidget() is username and keyboard.target is username  # first field
    assert [keyboard.letters[c].text() for c in "azerty"] == list("azerty")  # AZERTY here too
    _type(qtbot, keyboard, list("sophie.bernard"))
    assert username.text() == "sophie.bernard"
    qtbot.mouseClick(password, Qt.MouseButton.LeftButton)  # type: ignore[no-untyped-call]  # pytest-qt: QtBot.mouseClick is unannotated
    assert keyboard.target is password
    keys = [SHIFT, "T", *"illeul", "-", SHIFT, "O", *"range", "-", SYMBOLS, "4", "2"]
    _type(qtbot, keyboard, keys)
    assert password.text() == PASSWORD
    check_password(password.text(), username="sophie.bernard", display_name="Sophie Bernard")
    assert window.focusWidget() is password


def test_maj_touched_twice_locks_capitals_until_touched_again(
    window: KioskWindow, qtbot: QtBot
) -> None:
    screen = _show(window, "manual-identity")
    keyboard = _keyboard(screen)
    field = child(screen, QLineEdit, "field-birth-name")
    assert window.focusWidget() is field and keyboard.target is field
    _type(qtbot, keyboard, [SHIFT, SHIFT])  # a second touch at once: capitals stay
    assert keyboard.caps_lock and keyboard.shift_key.isChecked()
    assert keyboard.shift_key.text() == "⇪"  # the key shows the lock
    _type(qtbot, keyboard, ["L", "E", "F", "È", "V", "R", "E", "'", "Œ", "Ç"])
    assert field.text() == "LEFÈVRE'ŒÇ"
    _tap(qtbot, keyboard, "⇪")
    assert not keyboard.caps_lock and not keyboard.shift
    _type(qtbot, keyboard, ["a", "l", "l"])  # "ll": keys are not debounced
    assert field.text() == "LEFÈVRE'ŒÇall"
    _tap(qtbot, keyboard, window.t("keyboard.erase"))
    assert field.text() == "LEFÈVRE'ŒÇal"


def test_the_symbols_page_has_every_sign_a_password_needs(window: KioskWindow) -> None:
    keyboard = _keyboard(_show(window, "professional-login"))
    signs = {k.text() for k in keyboard.keys if keyboard.page_widgets["symbols"].isAncestorOf(k)}
    assert set("0123456789!@#$%&*-_+=.,;:/?()'\"") <= signs
    letters = {k.text() for k in keyboard.keys if keyboard.page_widgets["letters"].isAncestorOf(k)}
    assert set("éèêëàâçùûôîïœ") <= letters


def test_a_value_is_typed_on_the_digit_pad_with_a_decimal_comma(
    window: KioskWindow, qtbot: QtBot
) -> None:
    screen = _show(window, "manual-entry")
    keypad = _keyboard(screen)
    assert keypad.kind == "digits"
    first = child(screen, QLineEdit, "field-systolic")
    assert window.focusWidget() is first and keypad.target is first
    _type(qtbot, keypad, ["1", "3", "5"])
    other = child(screen, QLineEdit, "field-diastolic")
    qtbot.mouseClick(other, Qt.MouseButton.LeftButton)  # type: ignore[no-untyped-call]  # pytest-qt: QtBot.mouseClick is unannotated
    _type(qtbot, keypad, ["8", "2", ",", "5"])
    assert (first.text(), other.text()) == ("135", "82,5")
    assert {k.text() for k in keypad.keys} >= set("0123456789,")


def test_an_arabic_speaking_patient_gets_arabic_keys(window: KioskWindow, qtbot: QtBot) -> None:
    screen = _show(window, "call", "ar")
    qtbot.mouseClick(child(screen, BigButton, "keyboard"), Qt.MouseButton.LeftButton)  # type: ignore[no-untyped-call]  # pytest-qt: QtBot.mouseClick is unannotated
    keyboard = _keyboard(screen)
    assert keyboard.kind == "ar"
    assert keyboard.layoutDirection() == Qt.LayoutDirection.LeftToRight  # as on a real keyboard
    _type(qtbot, keyboard, ["ش", "ك", "ر", "ا"])
    assert child(screen, QLineEdit, "patient-text").text() == "شكرا"


def test_every_key_touch_counts_as_activity(window: KioskWindow, qtbot: QtBot) -> None:
    keyboard = _keyboard(_show(window, "professional-login"))
    touches: list[None] = []
    window.activity.connect(lambda: touches.append(None))
    _type(qtbot, keyboard, ["a", "b", SHIFT, "C"])
    assert len(touches) >= 4


def test_keys_are_big_enough_and_readable_in_every_look(window: KioskWindow) -> None:
    for large in (False, True):
        window.present(sample_views()["professional-login"], Presentation("fr", large, large))
        QApplication.processEvents()
        QApplication.processEvents()
        keyboard = _keyboard(window.current_screen)
        visible = [k for k in keyboard.keys if k.isVisible()]
        assert visible
        assert all(k.width() >= MIN_TOUCH_PX and k.height() >= MIN_TOUCH_PX for k in visible)
        assert all(k.font().pixelSize() >= MIN_BODY_PX for k in visible)
        assert all(k.focusPolicy() == Qt.FocusPolicy.NoFocus for k in keyboard.keys)
        assert clipping_problems(window) == []


def test_the_patient_writes_the_reason_of_the_visit_at_1280x800(
    window: KioskWindow, qtbot: QtBot
) -> None:
    """The keys showed nowhere (their host had no layout): "a few words" could not be written."""
    window.resize(1280, 800)
    screen = _show(window, "visit-reason")
    qtbot.mouseClick(child(screen, BigButton, "reason-fever"), Qt.MouseButton.LeftButton)  # type: ignore[no-untyped-call]  # pytest-qt: QtBot.mouseClick is unannotated
    qtbot.mouseClick(child(screen, BigButton, "reason-write"), Qt.MouseButton.LeftButton)  # type: ignore[no-untyped-call]  # pytest-qt: QtBot.mouseClick is unannotated
    QApplication.processEvents()
    QApplication.processEvents()
    keyboard = _keyboard(screen)
    words = child(screen, QLineEdit, "reason-words")
    assert window.focusWidget() is words and keyboard.target is words
    for key in [k for k in keyboard.keys if k.isVisible()]:  # every key whole, on the screen
        assert key.visibleRegion().boundingRect().size() == key.size(), key.text()
        assert key.height() >= MIN_TOUCH_PX
    assert words.visibleRegion().boundingRect().size() == words.size()
    _type(qtbot, keyboard, [SHIFT, "F", "i", "è", "v", "r", "e"])
    assert words.text() == "Fièvre"
    assert not clipping_problems(window)
    chosen = child(screen, QLabel, "reason-chosen")
    assert chosen.isVisible() and "Fièvre" in chosen.text()
    qtbot.mouseClick(child(screen, BigButton, "reason-choices-again"), Qt.MouseButton.LeftButton)  # type: ignore[no-untyped-call]  # pytest-qt: QtBot.mouseClick is unannotated
    assert child(screen, BigButton, "reason-fever").isChecked()
    assert not keyboard.isVisible() and words.isVisible() and words.text() == "Fièvre"
    with qtbot.waitSignal(screen.intent) as sent:
        qtbot.mouseClick(child(screen, BigButton, "reason-next"), Qt.MouseButton.LeftButton)  # type: ignore[no-untyped-call]  # pytest-qt: QtBot.mouseClick is unannotated
    intent = sent.args[0]
    assert (intent.value, intent.data["text"]) == ("fever", "Fièvre")
