"""The professional's sign-in form: name, password, one-time code, and the docked keyboard.

Why one module: the assisting professional (a value typed by hand, an identity
entered) and the technician (maintenance mode) sign in with the same account
kind (argon2id + TOTP, docs/accounts.md); their forms must read, sound and
behave alike — same labels read aloud, same field order, the password hidden,
the code limited to 8 characters, the AZERTY keys beside the form.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtWidgets import QFormLayout, QLineEdit, QVBoxLayout, QWidget

from app.ui.screens.base import Screen
from app.ui.widgets.keyboard import KeyField, OnScreenKeyboard, bind_fields
from app.ui.widgets.text import label

CODE_MAX_LENGTH = 8  # a TOTP code is 6 digits; room for spaces a person may type


@dataclass(frozen=True)
class SignInFields:
    username: KeyField
    password: KeyField
    code: KeyField
    keyboard: OnScreenKeyboard

    def take(self) -> tuple[str, str, str]:
        """The name and the code trimmed, the password as typed; the two secrets cleared."""
        typed = self.username.text().strip(), self.password.text(), self.code.text().strip()
        self.password.clear()
        self.code.clear()
        return typed


def sign_in_form[V](screen: Screen[V], keys: QVBoxLayout, keys_host: QWidget) -> SignInFields:
    """Add the three fields to `screen.body` and the keyboard to `keys` (its host docked
    beside the form by the screen); the keyboard types into whichever field has focus."""
    form = QFormLayout()
    form.setSpacing(12)
    form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapAllRows)  # the label above
    username = KeyField()
    username.setObjectName("username")
    password = KeyField()
    password.setObjectName("password")
    password.setEchoMode(QLineEdit.EchoMode.Password)
    code = KeyField()
    code.setObjectName("code")
    code.setMaxLength(CODE_MAX_LENGTH)
    for field, msgid in (
        (username, "login.username"),
        (password, "login.password"),
        (code, "login.code"),
    ):
        words = screen.say(screen.text(msgid))
        field.setAccessibleName(words)
        form.addRow(label(words, "body"), field)
    screen.body.addLayout(form)
    for field in (username, password, code):  # a touched field is brought into sight
        field.touched.connect(lambda f: screen._scroll.ensureWidgetVisible(f, 0, 16))  # noqa: SLF001
    keyboard = OnScreenKeyboard("azerty", screen.t, keys_host)
    keyboard.ensurePolished()  # the theme's key sizes before the layout asks
    keys.addWidget(keyboard)
    keys.addStretch(1)
    bind_fields(keyboard, [username, password, code])
    return SignInFields(username, password, code, keyboard)


def sign_in_page[V](
    screen: Screen[V],
    keys: QVBoxLayout,
    keys_host: QWidget,
    *,
    failed: bool,
    purpose: str,
    submit: tuple[str, str],
    on_cancel: Callable[[], None],
    on_submit: Callable[[str, str, str], None],
) -> SignInFields:
    """A sign-in page's body for the technician and the on-site staff: the one refusal
    sentence after a failed try, the form, the page's `purpose` (a message id) under it, the
    keyboard shown, Cancel and the submit button (`submit`: its message id and pictogram),
    which hands on what `SignInFields.take` reads.

    The purpose goes under the fields: at 1280×800 with the keyboard beside the form, above
    them it pushed the code field out of sight (a person test saw the hand scroll for it)."""
    if failed:
        _card, inner = screen.card("warning")
        screen.paragraph("login.failed", layout=inner).setObjectName("login-error")
    fields = sign_in_form(screen, keys, keys_host)
    screen.paragraph(purpose)
    keys_host.show()
    msgid, pictogram = submit
    screen.button("common.cancel", "back", on_cancel, name="cancel")
    screen.button(msgid, pictogram, lambda: on_submit(*fields.take()), "primary", name="submit")
    return fields
