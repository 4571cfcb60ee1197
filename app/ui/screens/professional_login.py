"""The professional signs in with their own account: user name, password and TOTP code.

Why here and not elsewhere: entering a value by hand or identifying a
patient without a card is an act done by a named professional, recorded
with who did it. The password field never echoes; everything typed is
cleared as soon as the screen is left.

Why this layout: the user name field has the focus and the AZERTY keyboard
of the kiosk (capitals, digits and signs: what the password policy asks)
from the start; the form scrolls, the keyboard stays in place beside it on
a wide screen and under it on a small one (see `KeyboardArea`).
"""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QWidget

from app.ui.screens.base import KeyboardDock, Screen, Translate
from app.ui.screens.sign_in_form import sign_in_form
from app.ui.views import Intent, IntentKind, ProfessionalLoginView, ScreenId
from app.ui.widgets.keyboard import OnScreenKeyboard


class ProfessionalLoginScreen(Screen[ProfessionalLoginView]):
    screen_id = ScreenId.PROFESSIONAL_LOGIN

    keyboard: OnScreenKeyboard | None = None

    def __init__(self, translate: Translate, parent: QWidget | None = None) -> None:
        super().__init__(translate, parent)
        self._dock = KeyboardDock(self.layout(), self._header, self._scroll)

    def clear(self) -> None:
        super().clear()
        self._dock.clear(hide=False)
        self.keyboard = None

    def build(self, view: ProfessionalLoginView) -> None:
        self.title("login.title")
        self.paragraph(view.purpose)
        error_card: QWidget | None = None
        if view.error is not None:
            error_card, inner = self.card("warning")
            self.paragraph(view.error, layout=inner).setObjectName("login-error")
        fields = sign_in_form(self, self._dock.keys, self._dock.host)
        self.username, self.password, self.code = fields.username, fields.password, fields.code
        self.keyboard = fields.keyboard
        self._fields = fields
        self.button("common.cancel", "back", self.action(IntentKind.CANCEL), name="cancel")
        self.button("login.submit", "lock", self._submit, "primary", name="submit")
        if error_card is not None:
            # After a refused sign-in the form is often scrolled down to the code field (at
            # 1280x800 the keyboard takes the lower half): bring the reason into sight and put
            # the cursor in the password field, which was emptied. After the window gave back
            # the typed text and focus (restore_state), hence the next turn of the loop.
            QTimer.singleShot(0, lambda: self._show_error(view, error_card))

    def _show_error(self, view: ProfessionalLoginView, error_card: QWidget) -> None:
        if self.view is not view:  # the screen moved on (or was wiped) meanwhile
            return
        self._scroll.ensureWidgetVisible(error_card, 0, 16)
        self.password.setFocus()
        if self.keyboard is not None:  # the keys type where the cursor is
            self.keyboard.attach(self.password)

    def _submit(self) -> None:
        username, password, code = self._fields.take()
        fields = {"username": username, "password": password, "code": code}
        self.intent.emit(Intent(IntentKind.PROFESSIONAL_LOGIN, None, fields))
