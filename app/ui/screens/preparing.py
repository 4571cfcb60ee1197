"""The welcome screen's other face: the cabin is being prepared for the next patient.

Shown instead of the welcome screen while `PreparationGate` says the cabin is
being prepared (app/maintenance/onsite.py; site setting `[site]
preparation_required`). A patient who arrives reads that someone is preparing
the cabin and is asked to wait; nothing here starts a session. The on-site
staff member presses "Personnel" and signs in with their own account (the
professional's sign-in form: name, password, one-time code); the cabin is
ready when the accounts service accepts them for `confirm-preparation`.

Why a screen apart, held by the window like maintenance, rather than a state
of the flow: the flow is a patient's way through one session, and preparation
is between sessions. `PreparingPanel` binds the screen to the gate; the
screen decides nothing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass

from PySide6.QtWidgets import QWidget

from app.domain.preparation import PreparationRefused
from app.maintenance.errors import AuthError, PermissionDenied
from app.maintenance.onsite import PreparationGate
from app.ui.screens.base import KeyboardDock, Screen, Translate
from app.ui.screens.sign_in_form import sign_in_page
from app.ui.views import ScreenId
from app.ui.widgets.keyboard import OnScreenKeyboard

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PreparingPage:
    signing_in: bool = False  # the staff member's sign-in form is open
    failed: bool = False  # the last sign-in was refused (one sentence for every reason)


class PreparingActions:
    """What the screen's buttons call (the panel sets these)."""

    def __init__(self) -> None:
        self.staff: Callable[[], None] = lambda: None
        self.cancel: Callable[[], None] = lambda: None
        self.submit: Callable[[str, str, str], None] = lambda _u, _p, _c: None


class PreparingScreen(Screen[PreparingPage]):
    # Not a flow screen: the base class reads `screen_id` only to name the widget.
    screen_id = ScreenId.WELCOME

    keyboard: OnScreenKeyboard | None = None

    def __init__(self, translate: Translate, parent: QWidget | None = None) -> None:
        super().__init__(translate, parent)
        self.setObjectName("screen-preparing")
        self.calls = PreparingActions()
        self._dock = KeyboardDock(self.layout(), self._header, self._scroll)
        self._dock.host.hide()

    def clear(self) -> None:
        super().clear()
        self._dock.clear()
        self.keyboard = None

    def build(self, view: PreparingPage) -> None:
        self.title("preparing.title")
        if not view.signing_in:
            self.paragraph("preparing.wait")
            self.button("preparing.staff", "person", self.calls.staff, name="staff")
            return
        fields = sign_in_page(
            self,
            self._dock.keys,
            self._dock.host,
            failed=view.failed,
            purpose="preparing.staff.purpose",
            submit=("preparing.confirm", "yes"),
            on_cancel=lambda: self.calls.cancel(),
            on_submit=lambda u, p, c: self.calls.submit(u, p, c),
        )
        self.username, self.password, self.code = fields.username, fields.password, fields.code
        self.keyboard = fields.keyboard


class PreparingPanel:
    """Binds the screen to the gate: the form's sign-in goes to `gate.confirm`."""

    def __init__(
        self,
        gate: PreparationGate,
        screen: PreparingScreen,
        *,
        show: Callable[[PreparingPage], None],
        ready: Callable[[], None],
    ) -> None:
        self.gate = gate
        self.screen = screen
        self._show = show
        self._ready = ready
        self.page = PreparingPage()
        self._tasks: set[asyncio.Task[None]] = set()
        screen.calls.staff = lambda: self.render(PreparingPage(signing_in=True))
        screen.calls.cancel = lambda: self.render(PreparingPage())
        screen.calls.submit = lambda u, p, c: self._spawn(self._confirm(u, p, c))

    def render(self, page: PreparingPage) -> None:
        self.page = page
        self._show(page)

    async def idle(self) -> None:
        """Wait for the sign-in under way (tests)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def _spawn(self, coro: Coroutine[object, object, None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _confirm(self, username: str, password: str, code: str) -> None:
        try:
            await self.gate.confirm(username, password, code)
        except (AuthError, PermissionDenied):
            self.render(PreparingPage(signing_in=True, failed=True))
            return
        except PreparationRefused:
            pass  # ready already (confirmed from elsewhere): nothing to wait for
        except Exception as exc:  # noqa: BLE001 - a screen state, never a stack trace
            log.error("preparation: the confirmation failed (%s)", type(exc).__name__)
            self.render(PreparingPage(signing_in=True, failed=True))
            return
        self.page = PreparingPage()
        self._ready()
