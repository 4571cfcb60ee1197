"""The one place where the screens meet the session controller.

    binding = ControllerBinding(controller, window, presenter)

- every `SessionView` the controller publishes is turned by the presenter
  into a screen view and shown (`window.present`);
- every touch (`window.intents`) is turned by the presenter into actions
  that are carried out on the controller: `submit`, `decide_consent`,
  `assist.sign_in`, `assist.enter_measurement`, `assist.enter_identity`,
  `assist.check_document`; call controls (mute, camera, text) go to
  `call_controls` when the call room provides one;
- a refused sign-in always shows the same sentence: the typed reason is not
  passed on (a distinct "locked" sentence would let an onlooker confirm that
  a username exists; see docs/accounts.md), it stays in the audit log;
- when the controller wipes a session (`controller.on_wipe`: the flow's
  `Wipe`, one explicit event), the window, the presenter and whatever was
  added to `on_wipe` forget it; nothing compares session ids.

Why no Qt import here: the window is used only through its presenter API
(`present`, `wipe`, `show_calm_error`, and the `intents`/`incidents`
signals' `connect`), so this glue runs in the same asyncio loop as the
controller and tests drive it with the real controller.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from app.controller.assisted import Credentials
from app.controller.controller import SessionController
from app.controller.view import AssistAct, SessionView
from app.domain import session_events as ev
from app.ui.presenter import (
    Action,
    CallForHelp,
    CheckDocument,
    Consent,
    EnterIdentity,
    EnterValue,
    Forward,
    Presenter,
    PrintDocuments,
    SignIn,
    Submit,
)
from app.ui.views import HelpView, Intent, IntentKind, UiIncident

if TYPE_CHECKING:  # the window is used through its presenter API only (no Qt import here)
    from app.ui.main_window import KioskWindow

log = logging.getLogger(__name__)

CallControls = Callable[[Intent], None]

UI_ERROR_REASON = "ui-error"  # the subject of the safe close's incident (software-fault)


class ControllerBinding:
    def __init__(
        self,
        controller: SessionController,
        window: KioskWindow,
        presenter: Presenter,
        call_controls: CallControls | None = None,
        on_incident: Callable[[UiIncident], None] | None = None,
    ) -> None:
        self.controller = controller
        self.window = window
        self.presenter = presenter
        self.call_controls = call_controls
        self.on_incident = on_incident
        self.refused: list[str] = []  # sentences of refused choices (for the demo report)
        # Called with the session's id when the controller has wiped it: whatever holds
        # something of the session outside the screens forgets it.
        self.on_wipe: list[Callable[[str], None]] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._unsubscribe = controller.subscribe(self._on_view)
        self._unsubscribe_wipe = controller.on_wipe(self._wiped)
        window.intents.connect(self.on_intent)
        window.incidents.connect(self._incident)
        window.activity.connect(self.on_activity)
        self.refresh()

    def close(self) -> None:
        self._unsubscribe()
        self._unsubscribe_wipe()
        self.window.intents.disconnect(self.on_intent)
        self.window.incidents.disconnect(self._incident)
        self.window.activity.disconnect(self.on_activity)

    def refresh(self) -> None:
        sv = self.controller.view
        try:
            self.window.present(self.presenter.view_for(sv), self.presenter.presentation(sv))
            shown = self.window.current_view
            if isinstance(shown, HelpView) and shown.call != sv.help_call:
                self.window.present(HelpView(call=sv.help_call))  # the help call's news
        except Exception as exc:  # a screen that cannot be drawn: calm screen, never a trace
            self.window.show_calm_error(exc)

    def _on_view(self, sv: SessionView) -> None:
        del sv  # refresh reads the controller's current view
        self.refresh()

    def _wiped(self, session_id: str) -> None:
        """The controller wiped a session: the screens, the paging and the rest forget it."""
        self.window.wipe()
        self.presenter.reset()
        for forget in self.on_wipe:
            try:
                forget(session_id)
            except Exception as exc:
                log.error("wipe listener failed (%s)", type(exc).__name__)

    def on_activity(self) -> None:
        """Any touch or key (a keyboard key, a drag) tells the flow someone is there.

        The controller throttles these and adds no trace entry; they only keep
        the inactivity countdown from starting, or close it.
        """
        task = asyncio.ensure_future(self.controller.note_activity())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def on_intent(self, intent: object) -> None:
        if not isinstance(intent, Intent):
            return
        task = asyncio.ensure_future(self.handle(intent))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def handle(self, intent: Intent) -> None:
        """Carry out one touch; tests await this directly."""
        try:
            actions = self.presenter.actions_for(intent, self.controller.view)
            urgent = any(
                isinstance(a, Submit) and a.event_type is ev.EmergencyDeclared for a in actions
            )
            # Urgent help opens a session even while the cabin is being prepared (issue 15).
            with self.controller.emergency_start() if urgent else contextlib.nullcontext():
                for action in actions:
                    await self._carry(action)
            self.refresh()
        except Exception as exc:
            log.error("touch %s failed (%s)", intent.kind.value, type(exc).__name__)
            self.window.show_calm_error(exc)

    async def idle(self) -> None:
        """Wait for the touches under way (tests and the headless demo)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def _carry(self, action: Action) -> None:
        c = self.controller
        if isinstance(action, Submit):
            result = await c.submit(action.event_type, **dict(action.fields))
            if not result.accepted:
                self.refused.append(result.reason)
                log.info("choice %s refused", action.event_type.__name__)
        elif isinstance(action, Consent):
            result = await c.decide_consent(action.text, action.choice)
            if not result.accepted:
                self.refused.append(result.reason)
        elif isinstance(action, SignIn):
            # The result comes back in the controller's view (`assist_news`): the presenter
            # applies it there; nothing here pokes the presenter.
            if c.assist is None:
                c.note_assist(AssistAct.SIGN_IN, False)
                return
            credentials = Credentials(action.username, action.password, action.code)
            await c.assist.sign_in(credentials, action.task.permission)
        elif isinstance(action, EnterValue):
            if c.assist is None:
                c.note_assist(AssistAct.MEASUREMENT, False)
                return
            await c.assist.enter_measurement(action.kind, action.values)
        elif isinstance(action, EnterIdentity):
            if c.assist is None:
                c.note_assist(AssistAct.IDENTITY, False)
                return
            await c.assist.enter_identity(action.traits, action.nir, action.document)
        elif isinstance(action, CheckDocument):
            if c.assist is None:
                c.note_assist(AssistAct.DOCUMENT_CHECK, False)
                return
            await c.assist.check_document(action.document)
        elif isinstance(action, CallForHelp):
            if action.ring:
                await c.call_help()
            else:
                await c.end_help("closed")
        elif isinstance(action, PrintDocuments):
            c.print_documents()  # a task: the outcome comes in the view (`printing`)
        elif isinstance(action, Forward):
            if action.intent.kind is IntentKind.SAFE_STATE:
                # The calm screen promised "back to the welcome screen": the controller
                # closes the session as it does for its own faults (traced, wiped), so
                # the patient never lands back mid-session with an identity on screen.
                await c.close_safely(UI_ERROR_REASON)
                return
            if self.call_controls is not None:
                self.call_controls(action.intent)

    def _incident(self, incident: object) -> None:
        if not isinstance(incident, UiIncident):
            return
        log.warning("ui incident %s", incident.code)
        if self.on_incident is not None:
            self.on_incident(incident)
