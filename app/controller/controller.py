"""The session controller: feeds the pure session flow and carries out what it decides.

Why one service: the flow (app.domain.flow) is pure and decides everything;
someone must turn touches, device reports, call and network news and clock
ticks into its events, and its effects into acts (start a device, write to
the store, open the call, wipe). Doing it in one place keeps the order
right: one event at a time, effects in the order the flow gave them, a fact
acknowledged by the store before the next event is handled, follow-up
events (a device that cannot start, the end of a wipe) handled right after.

Nothing here decides what the patient sees next; nothing here blocks the
loop; nothing here lets an exception reach the screen: a failing effect is
turned into the flow's own degraded path (device failed, platform
unreachable), and a fault anywhere else ends the session safely (trace
kept, devices and call stopped, memory wiped, welcome screen with a calm
notice). Technical logs carry ids, codes and exception type names only.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from app.call.documents import ReceivedDocument
from app.call.messages import DoctorIdentity
from app.controller.assisted import AssistedActs
from app.controller.call_events import (
    CallStatusBoard,
    still_not_kept,
    still_trace,
    trace_code,
    translate_call_event,
)
from app.controller.device_events import MEASURING_KINDS, LiveProgress, read_card, translate
from app.controller.document_links import forget_parsed_links
from app.controller.help_desk import HelpCalls, HelpDesk
from app.controller.ports import (
    CallMediaCheckFailed,
    CallPort,
    Clock,
    DeviceHub,
    InsiPort,
    NetworkMonitor,
    PrinterPort,
    SessionStore,
)
from app.controller.printing import SessionPrinting
from app.controller.view import (
    AssistAct,
    AssistantView,
    AssistNews,
    ChatLine,
    DeviceStatus,
    Notice,
    SessionDocument,
    SessionView,
)
from app.domain import session_effects as fx
from app.domain import session_events as ev
from app.domain.consent import ConsentChoice, ConsentText, decide
from app.domain.errors import DomainError
from app.domain.flow import IllegalTransition, SessionFlow
from app.domain.mode import RunMode
from app.domain.preparation import PreparationRefused, Readiness
from app.domain.session_context import State
from app.domain.trace import (
    SYSTEM,
    Actor,
    ActorKind,
    IncidentCode,
    TraceEntry,
    TraceKind,
    incident,
)
from app.maintenance.accounts import AuditEntry, AuditSink, Professional
from app.maintenance.onsite import PreparationGate
from app.maintenance.service import AccountService
from app.sync.help_call import HelpReason
from app.sync.insi_client import InsiError, InsiErrorReason
from drivers import events as dev
from vocabulary.devices import DEVICE_FOR_MEASUREMENT, DeviceKind

log = logging.getLogger(__name__)

STORE_ATTEMPTS = 3
STORE_RETRY_S = (0.05, 0.25)
PREPARING_SENTENCE = "The cabin is being prepared for the next patient; a session cannot start yet."
ACTIVITY_THROTTLE_S = 1.0
"""At most one `Touched` per this many seconds (the window reports every touch)."""


_INSI_INCIDENTS: dict[InsiErrorReason, IncidentCode | None] = {
    InsiErrorReason.TRAITS_MISMATCH: IncidentCode.INSI_MISMATCH,
    InsiErrorReason.SEVERAL_CANDIDATES: IncidentCode.INSI_SEVERAL_CANDIDATES,
    InsiErrorReason.QUERY_REFUSED: IncidentCode.INSI_REFUSED,
    InsiErrorReason.INVALID_ANSWER: IncidentCode.INSI_REFUSED,
    InsiErrorReason.ALREADY_FROM_INSI: None,  # nothing was asked: nothing went wrong
}


def insi_incident_code(reason: InsiErrorReason) -> IncidentCode | None:
    """The trace's code for a failed INSi query (the client's typed reason); default unavailable.

    The reason stays an enum from the INSi client to the trace and the
    professional's screen (`SessionView.insi_outcome`): nothing parses words.
    """
    return _INSI_INCIDENTS.get(reason, IncidentCode.INSI_UNAVAILABLE)


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


def new_uuid() -> str:
    return uuid.uuid4().hex


@dataclass(frozen=True, slots=True)
class Submitted:
    """The answer to a choice: accepted, or refused with a sentence for the log/UI."""

    accepted: bool
    reason: str = ""


Listener = Callable[[SessionView], None]
WipeListener = Callable[[str], None]
"""Told the id of a session just wiped (the end of a session, once, as the flow's `Wipe`)."""
TextSender = Callable[[str], Awaitable[None]]
"""Sends the patient's chat line to the call under way (raises when it cannot)."""
LinkFetcher = Callable[[str, str], Awaitable[str | None]]
"""(session id, document id) -> the patient's link the platform minted, or None."""


class SessionController:
    """Feed it choices and reports; read `view`; subscribe to changes."""

    def __init__(
        self,
        flow: SessionFlow,
        *,
        store: SessionStore,
        devices: DeviceHub,
        clock: Clock | None = None,
        call: CallPort | None = None,
        insi: InsiPort | None = None,
        network: NetworkMonitor | None = None,
        audit: AuditSink | None = None,
        accounts: AccountService | None = None,
        new_id: Callable[[], str] = new_uuid,
        tick_interval_s: float = 1.0,
        assistant_idle_s: float = 120.0,
        printer: PrinterPort | None = None,
    ) -> None:
        self._flow = flow
        self._call_status = CallStatusBoard()  # the doctor's connection, in words for the call
        self._store = store
        self._devices = devices
        self._clock: Clock = clock or SystemClock()
        self._call = call
        self._insi = insi
        self._network = network
        self._audit = audit
        self._new_id = new_id
        self._tick_interval_s = tick_interval_s
        self._mode: RunMode = flow.settings.mode
        self._lock = asyncio.Lock()
        self._listeners: list[Listener] = []
        self._queues: list[asyncio.Queue[SessionView]] = []
        self._tasks: set[asyncio.Task[object]] = set()
        self._session_tasks: set[asyncio.Task[object]] = set()
        self._pumps: list[asyncio.Task[None]] = []
        self._begun: set[str] = set()
        self._unsaved: list[tuple[str, fx.Fact, datetime]] = []
        self._revision = 0
        self._device_status: DeviceStatus | None = None
        self._live = LiveProgress()  # the cuff's pressure and the pleth wave, throttled
        self._doctor: DoctorIdentity | None = None
        self._notice: Notice | None = None
        self._assistant: Professional | None = None
        self._assistant_idle_s = assistant_idle_s
        self._assistant_expires_at: datetime | None = None
        self._professional_names: dict[str, str] = {}
        self._last_touch_at: datetime | None = None
        self._card_read: dev.CardRead | None = None  # the card in the reader's last read
        self._camera_on = False
        self._insi_outcome: IncidentCode | None = None
        # The call's news for the screens (chat, documents and their links): the
        # controller's alone, published in the view, dropped at the wipe.
        self._chat: list[ChatLine] = []
        self._documents: dict[str, SessionDocument] = {}
        self._send_text: TextSender | None = None
        self._fetch_link: LinkFetcher | None = None
        self._wipe_listeners: list[WipeListener] = []
        self._assist_news: AssistNews | None = None
        self._assist_count = 0
        self._printing = SessionPrinting(printer, self._publish, self.record_incident)
        self._gate: PreparationGate | None = None  # preparation between patients (issue 15)
        self._help = HelpDesk(None, self._record_help, self._publish)
        self._watched_step: State | None = None
        self._emergency = False  # urgent help opens a session even while being prepared
        self._view = self._build_view()
        self.assist: AssistedActs | None = (
            AssistedActs(self, accounts) if accounts is not None else None
        )
        """Assisted acts (sign in, manual entry); None when the kiosk runs without accounts."""

    # ---- what the UI binds to ------------------------------------------------------------

    @property
    def view(self) -> SessionView:
        return self._view

    @property
    def state(self) -> State:
        return self._flow.state

    @property
    def mode(self) -> RunMode:
        return self._mode

    def now(self) -> datetime:
        return self._clock.now()

    def new_id(self) -> str:
        return self._new_id()

    @property
    def assistant(self) -> Professional | None:
        return self._assistant

    def professional_names(self) -> dict[str, str]:
        """Who signed in during this session (account id -> display name), for the doctor.

        The doctor's summary says who entered a value or checked an identity by
        name; the map lives only as long as the session (wiped with it).
        """
        return dict(self._professional_names)

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call `listener(view)` after every change; returns the unsubscribe function.

        A listener must not block (the Qt side posts to the UI thread); an
        exception in it is logged and does not stop the session.
        """
        self._listeners.append(listener)

        def unsubscribe() -> None:
            with contextlib.suppress(ValueError):
                self._listeners.remove(listener)

        return unsubscribe

    def on_wipe(self, listener: WipeListener) -> Callable[[], None]:
        """Call `listener(session_id)` when a session has been wiped; returns the unsubscribe.

        The end of a session is this one event (the flow's `Wipe` effect, or the
        safe close after a fault), never inferred from a changed session id:
        whatever holds something of the patient outside the controller (the
        screens, the call bridge, the sender waiting for the session's bundle)
        forgets it or acts on it here. A listener must not block; its exception
        is logged and the others still run.
        """
        self._wipe_listeners.append(listener)

        def unsubscribe() -> None:
            with contextlib.suppress(ValueError):
                self._wipe_listeners.remove(listener)

        return unsubscribe

    def connect_call(
        self, *, send_text: TextSender | None = None, fetch_link: LinkFetcher | None = None
    ) -> None:
        """What the composition gives for the call's chat and documents (both optional).

        `send_text` carries the patient's line to the call; `fetch_link` asks the
        platform for a document's patient link (app/controller/document_links.py).
        """
        self._send_text = send_text
        self._fetch_link = fetch_link

    def connect_printer(self, printer: PrinterPort | None) -> None:
        """The cabin's printer, when the composition makes it after the controller (the
        headless demo's file printer); `build_session_services` passes the configured one."""
        self._printing.use(printer)

    def attach_preparation(
        self,
        gate: PreparationGate | None,
        help_calls: HelpCalls | None = None,
        *,
        silence_after_s: float | None = None,
    ) -> None:
        """The on-site person's parts (issue 15; docs/onsite.md), from the composition.

        `gate`: no session starts while it says the cabin is being prepared; every
        session's start and end are told to it. `help_calls`: the help-call client
        (app/sync/help_call.py) the Help page's "Appeler quelqu'un" rings;
        `silence_after_s` (`[site] help_after_silence_s`, None: off) rings it on
        its own after a long silence on one step. The controller traces the call
        itself (`HELP_*` entries); the client's own trace hook is left to its logs.
        """
        self._gate = gate
        self._help = HelpDesk(
            help_calls, self._record_help, self._publish, silence_after_s=silence_after_s
        )
        self._publish()

    @property
    def preparation(self) -> PreparationGate | None:
        return self._gate

    @contextlib.contextmanager
    def emergency_start(self) -> Iterator[None]:
        """Urgent help from the welcome screen opens a session even while the cabin is
        being prepared: the numbers to call are never held back. The gate is left as it
        was (still being prepared after that session)."""
        self._emergency = True
        try:
            yield
        finally:
            self._emergency = False

    async def call_help(self, reason: HelpReason = HelpReason.BUTTON) -> None:
        """The Help page's "Appeler quelqu'un": the people on site are called. Never raises.

        The sentence for the patient comes in the view (`help_call`); while the call
        rings, the tick asks the platform whether someone answered.
        """
        try:
            await self._help.ring(reason, self._clock.now())
        except Exception as exc:
            log.error("help call failed (%s)", type(exc).__name__)

    async def end_help(self, why: str = "closed") -> None:
        """The patient closed Help: the call under way (if any) ends. Never raises."""
        try:
            await self._help.hang_up(why)
        except Exception as exc:
            log.error("help call not ended (%s)", type(exc).__name__)

    async def help_idle(self) -> None:
        """Wait for the help call's questions and ends under way (tests)."""
        await self._help.idle()

    async def _record_help(self, kind: TraceKind, actor: Actor, call_id: str, detail: str) -> None:
        """A help call's entry: in the session's trace, or the audit between sessions."""
        try:
            async with self._lock:
                session_id = self._flow.context.session_id
                now = self._clock.now()
                if session_id is None:
                    await self.audit(actor.kind.value, f"help.{kind.value}", "ok", call_id, detail)
                    return
                entry = TraceEntry(now, kind, actor, call_id, message=detail)
                await self._write(session_id, entry, now)
        except Exception as exc:
            log.error("trace %s could not be recorded (%s)", kind.value, type(exc).__name__)

    def print_documents(self) -> asyncio.Task[None] | None:
        """The end screen's "Print": the session's documents to the cabin's printer.

        Returns at once (the job runs as a task; `view.printing` says how it
        goes: PRINTING, then PRINTED or the problem). Only at the end of a
        session; without a printer the view says NO_PRINTER (the QR codes
        stay the way). A failure is traced as an incident (app/controller/printing.py).
        """
        ctx = self._flow.context
        if ctx.session_id is None or ctx.state is not State.END:
            return None
        return self._printing.start(ctx.identity, self._clock.now())

    async def send_chat(self, text: str) -> bool:
        """The patient's chat line: shown in the view, sent to the call. Never raises.

        A line that cannot leave is traced (CHAT_SEND_FAILED) and stays shown:
        it must not cover the running call with the calm screen.
        """
        if not text or self._flow.context.session_id is None:
            return False
        self._chat.append(ChatLine(False, text))
        self._publish()
        sender = self._send_text
        if sender is None:
            return False
        try:
            await sender(text)
        except Exception as exc:
            log.warning("chat text not sent (%s, %d characters)", type(exc).__name__, len(text))
            await self.record_incident(IncidentCode.CHAT_SEND_FAILED, "chat")
            return False
        return True

    async def changes(self) -> AsyncIterator[SessionView]:
        """Every view from now on, as an async iterator (tests and headless demo)."""
        queue: asyncio.Queue[SessionView] = asyncio.Queue()
        self._queues.append(queue)
        try:
            while True:
                yield await queue.get()
        finally:
            self._queues.remove(queue)

    async def submit(self, event_type: type[ev.PersonEvent], **fields: object) -> Submitted:
        """A person's choice. The controller stamps the time (and a new session id for Begin)."""
        if event_type is ev.Begin and "session_id" not in fields:
            fields["session_id"] = self._new_id()
        try:
            event = event_type(self._clock.now(), **fields)
        except (TypeError, DomainError) as exc:
            return Submitted(
                False, f"The choice {event_type.__name__} is malformed ({type(exc).__name__})."
            )
        return await self._dispatch(event)

    async def decide_consent(self, text: ConsentText, choice: ConsentChoice) -> Submitted:
        """The patient's answer on the consent text shown (the domain builds the decision)."""
        try:
            decision = decide(text, choice, self._clock.now(), self._flow.context.consents)
        except DomainError as exc:
            return Submitted(False, exc.sentence)
        return await self.submit(ev.ConsentDecided, decision=decision)

    async def feed(self, event: ev.Event) -> Submitted:
        """A domain event from outside (adapters, tests); handled like any other."""
        return await self._dispatch(event)

    async def note_activity(self) -> None:
        """Any touch or key on the screen (the window's `activity` signal). Never raises.

        Throttled to one `Touched` per ACTIVITY_THROTTLE_S on the controller's
        clock; a touch where the flow takes none is simply ignored. It also
        keeps a professional's sign-in alive (they are at the screen).
        """
        try:
            now = self._clock.now()
            last = self._last_touch_at
            if last is not None and (now - last).total_seconds() < ACTIVITY_THROTTLE_S:
                return
            self._last_touch_at = now
            self._help.touched(now)
            if self._assistant is not None and self._assistant_expires_at is not None:
                self._assistant_expires_at = now + timedelta(seconds=self._assistant_idle_s)
            await self._dispatch(ev.Touched(now))
        except Exception as exc:
            log.error("activity could not be noted (%s)", type(exc).__name__)

    async def device_event(self, event: dev.DeviceEvent) -> None:
        """A driver's report: progress goes to the view, the rest to the flow."""
        self._note_device_progress(event)
        live_news = self._live.fold(event, asyncio.get_running_loop().time())
        if isinstance(event, dev.CuffPressure | dev.PlethWave):
            if live_news:
                self._publish()
            return  # progress only: nothing for the flow, at most five views a second
        if isinstance(event, dev.CardRead):
            self._card_read = event  # kept while the card stays in (rule 7 of the flow)
        elif isinstance(event, dev.CardRemoved | dev.CardInserted):
            self._card_read = None
        if isinstance(event, dev.CardRead):
            for left in read_card(event)[1]:  # each beneficiary left out is a fact of the act
                log.info("card beneficiary left out (%s)", left.subject)
                await self.record_incident(IncidentCode.CARD_ERROR, left.subject)
        active = self._flow.context.active_device
        for domain_event in translate(event, self._clock.now(), self._mode, self._new_id, active):
            await self._dispatch(domain_event)
        if not isinstance(event, dev.Reading | dev.Failed | dev.CardRead | dev.QrIdentity):
            self._publish()

    async def call_event(self, event: object) -> None:
        from app.call import events as call

        if isinstance(event, call.DoctorIdentified):
            self._doctor = event.doctor
        elif isinstance(event, call.TextReceived):
            if event.sender == "doctor" and self._flow.context.session_id is not None:
                self._chat.append(ChatLine(True, event.text))
                self._publish()
        elif isinstance(event, call.DocumentReceived):
            self._document_received(event.document)
        elif isinstance(event, call.Incident):
            log.info("call incident %s", event.code.value)
            code = trace_code(event)
            if code is not None:  # a fact of the act: the trace that reaches the platform
                await self.record_incident(code, event.code.value)
        elif isinstance(event, call.ExamStillKept):  # the doctor's act: a line of the trace
            doctor = self._doctor
            await self._record_entries(
                lambda now, session_id: still_trace(
                    event,
                    now,
                    doctor_rpps=doctor.rpps if doctor is not None else None,
                    session_id=session_id,
                ),
                "exam-still-taken",
            )
        if self._call_status.feed(event, time.monotonic()):
            self._publish()  # "the connection with the doctor is lost / back" on the call screen
        for domain_event in translate_call_event(event, self._clock.now()):
            await self._dispatch(domain_event)

    def _document_received(self, document: ReceivedDocument) -> None:
        """A document of the call: kept for the end screen; its patient link asked for."""
        document_id = document.document_id
        session_id = self._flow.context.session_id
        if session_id is None:
            return
        self._documents[document_id] = SessionDocument(document_id, document.kind, document.title)
        self._printing.keep(document)
        self._publish()
        fetch = self._fetch_link
        if fetch is None:
            return

        async def ask() -> None:
            try:
                url = await fetch(session_id, document_id)
            except Exception as exc:
                log.warning("document link not fetched (%s)", type(exc).__name__)
                return
            kept = self._documents.get(document_id)
            if url is None or kept is None or self._flow.context.session_id != session_id:
                return
            self._documents[document_id] = SessionDocument(
                kept.document_id, kept.kind, kept.title, url
            )
            self._publish()

        task = asyncio.create_task(ask())
        self._session_tasks.add(task)
        task.add_done_callback(self._session_tasks.discard)

    async def platform_reachable(self, reachable: bool) -> None:
        now = self._clock.now()
        await self._dispatch(
            ev.PlatformReachable(now) if reachable else ev.PlatformUnreachable(now)
        )

    async def tick(self) -> None:
        """One clock tick (the ticker does this every second; tests call it after moving time)."""
        now = self._clock.now()
        expires = self._assistant_expires_at
        if self._assistant is not None and expires is not None and now >= expires:
            await self.end_assistance("idle")
        self._help.tick(now)
        if self._help.silence_due(now):  # a long silence on one step: someone is called
            self._help.spawn(self.call_help(HelpReason.SILENCE))
        await self._dispatch(ev.Tick(now))

    # ---- the professional beside the patient -------------------------------------------

    def set_assistant(self, professional: Professional | None) -> None:
        """Who is signed in for assisted acts (see app.controller.assisted); None signs out.

        A sign-in lasts `assistant_idle_s` from the last touch or act (see
        `expires_at` in the view); `end_assistance` ends it with a reason.
        """
        self._assistant = professional
        if professional is not None:
            self._professional_names[professional.username] = professional.display_name
        self._assistant_expires_at = (
            self._clock.now() + timedelta(seconds=self._assistant_idle_s)
            if professional is not None
            else None
        )
        self._publish()

    async def begin_assistance(self, professional: Professional, purpose: str) -> None:
        """A professional signed in for one act: shown, timed and traced (actor: their account)."""
        self.set_assistant(professional)
        await self._record_trace(
            TraceKind.ASSISTANT_SIGNED_IN,
            Actor(ActorKind.ASSISTANT, professional.username),
            purpose,
        )

    async def end_assistance(self, reason: str) -> None:
        """End the sign-in (act-done, idle, signed-out) and trace it; nothing if none. Never raises."""
        professional = self._assistant
        if professional is None:
            return
        self.set_assistant(None)
        await self._record_trace(
            TraceKind.ASSISTANT_SIGNED_OUT,
            Actor(ActorKind.ASSISTANT, professional.username),
            reason,
        )
        if self.assist is not None:
            await self.assist.note_sign_out(professional, reason)

    def note_assist(self, act: AssistAct, ok: bool) -> None:
        """The result of a professional's act, for the screen (published in the view)."""
        self._assist_count += 1
        self._assist_news = AssistNews(self._assist_count, act, ok)
        self._publish()

    def assistant_expired(self) -> bool:
        """The sign-in's idle time ran out (the next tick ends it)."""
        expires = self._assistant_expires_at
        return expires is not None and self._clock.now() >= expires

    async def _record_trace(self, kind: TraceKind, actor: Actor, subject: str | None) -> None:
        """A trace entry from outside the flow (the professional's sign-in), in order; no raise."""
        await self._record_entries(
            lambda now, _: [TraceEntry(now, kind, actor, subject)], kind.value
        )

    async def _record_entries(
        self, make: Callable[[datetime, str], list[TraceEntry]], what: str
    ) -> None:
        """Trace entries from outside the flow, made under the lock for the act under way.

        `make(now, session_id)` decides (pure, `app.controller.call_events`);
        what it returns joins the session's trace in order with the flow's
        own entries. Never raises: a trace that fails is logged by its kind.
        """
        try:
            async with self._lock:
                session_id = self._flow.context.session_id
                now = self._clock.now()
                if session_id is None:  # outside a session there is no act to trace
                    return
                entries = make(now, session_id)
                if not entries:
                    return
                for entry in entries:
                    await self._write(session_id, entry, now)
                self._publish()
        except Exception as exc:
            log.error("trace %s could not be recorded (%s)", what, type(exc).__name__)

    async def exam_still_not_kept(self, event: object) -> None:
        """The store could not keep a still the doctor took (the `StillKeeper`'s report).

        An incident naming the still joins its act's trace; a still of an act
        already wiped is not the next patient's incident. Never raises.
        """
        await self._record_entries(
            lambda now, session_id: still_not_kept(event, now, session_id=session_id),
            "exam-still-not-kept",
        )

    async def record_incident(self, code: IncidentCode, subject: str | None = None) -> bool:
        """A technical incident seen outside the flow (the screen, reading aloud) joins the trace.

        Why not through the flow: an incident changes nothing in the
        patient's way; it is a fact of the act (CSP R.6316-4), written to the
        store like the flow's own trace entries, in order with them (same
        lock). Outside a session (welcome screen) there is no act to trace:
        an audit row keeps the code. The code is typed: a screen's own words
        become one at the UI's edge (`UiIncident.incident_code`). Returns True
        when it joined a session's trace. Never raises: an incident must not
        become a second one.
        """
        known = code
        try:
            async with self._lock:
                session_id = self._flow.context.session_id
                now = self._clock.now()
                if session_id is None:
                    await self.audit("system", "ui.incident", "recorded", "-", f"code={known}")
                    return False
                await self._write(session_id, incident(now, known, subject), now)
                self._publish()
                return True
        except Exception as exc:
            log.error("incident %s could not be recorded (%s)", known.value, type(exc).__name__)
            return False

    async def audit(
        self, actor: str, action: str, outcome: str, subject: str, detail: str = ""
    ) -> None:
        if self._audit is None:
            return
        try:
            await self._audit.append_audit(
                AuditEntry(self._clock.now(), actor, action, outcome, subject, detail)
            )
        except Exception as exc:  # the audit failing must not stop the patient's session
            log.error("audit write failed (%s)", type(exc).__name__)

    # ---- life cycle --------------------------------------------------------------------------

    async def start(self, *, ticker: bool = True) -> None:
        """Start the pumps (devices, call, network) and the ticker; the card reader listens."""
        self._pumps.append(self._spawn_pump(self._pump_devices()))
        if self._network is not None:
            self._pumps.append(self._spawn_pump(self._pump_network()))
        if ticker:
            self._pumps.append(self._spawn_pump(self._ticker()))
        if DeviceKind.CARD_READER in self._devices.kinds():
            await self._guarded(self._devices.start(DeviceKind.CARD_READER), "start card reader")

    async def close(self) -> None:
        await self._help.close()
        printing = self._printing.running()
        for task in [*self._pumps, *self._tasks, *self._session_tasks, *printing]:
            task.cancel()
        for task in [*self._pumps, *self._tasks, *self._session_tasks, *printing]:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._pumps.clear()
        await self._guarded(self._devices.stop_all(), "stop devices")
        if self._call is not None:
            await self._guarded(self._call.end(), "end call")

    def _spawn_pump(self, coro: Coroutine[object, None, None]) -> asyncio.Task[None]:
        return asyncio.create_task(coro)

    async def _pump_devices(self) -> None:
        async for event in self._devices.events():
            await self._guarded(self.device_event(event), "device event")

    async def _pump_network(self) -> None:
        assert self._network is not None
        async for change in self._network.events():
            await self._guarded(self.platform_reachable(change.online), "network event")

    async def _pump_call(self, call: CallPort) -> None:
        async for event in call.events():
            await self._guarded(self.call_event(event), "call event")

    async def _ticker(self) -> None:
        while True:
            await asyncio.sleep(self._tick_interval_s)
            await self._guarded(self.tick(), "tick")

    async def _guarded(self, coro: Coroutine[object, None, object], what: str) -> None:
        try:
            await coro
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.error("%s failed (%s)", what, type(exc).__name__)

    # ---- one event at a time ------------------------------------------------------------------

    async def _dispatch(self, event: ev.Event) -> Submitted:
        async with self._lock:
            result = Submitted(True)
            pending: deque[ev.Event] = deque([event])
            first = True
            while pending:
                current = pending.popleft()
                before = self._flow.context
                if isinstance(current, ev.Begin) and not self._may_start():
                    if first:
                        result = Submitted(False, PREPARING_SENTENCE)
                    log.info("refused Begin: the cabin is being prepared")
                    first = False
                    continue
                try:
                    effects = self._flow.handle(current)
                except IllegalTransition as exc:
                    if first:
                        result = Submitted(False, exc.sentence)
                    log.info("refused %s in %s", exc.event_name, exc.state.value)
                    first = False
                    continue
                except Exception as exc:
                    await self._fault(exc, "flow")
                    result = Submitted(
                        False, "The kiosk met an unexpected problem; the session was closed safely."
                    )
                    break
                first = False
                if isinstance(current, ev.Begin):
                    self._notice = None
                    self._preparation_started()
                try:
                    for effect in effects:
                        pending.extend(await self._carry_out(effect, current.at))
                    await self._follow_step(before.step)
                except Exception as exc:
                    await self._fault(exc, "effect")
                    result = Submitted(
                        False, "The kiosk met an unexpected problem; the session was closed safely."
                    )
                    break
            self._publish()
            return result

    def _may_start(self) -> bool:
        return self._gate is None or self._gate.may_start or self._emergency

    def _preparation_started(self) -> None:
        if self._gate is None:
            return
        if self._emergency and not self._gate.may_start:
            log.info("urgent help opened a session while the cabin is being prepared")
            return
        try:
            self._gate.session_started()
        except PreparationRefused as exc:  # a bug guard: `_may_start` was asked first
            log.error("preparation refused the start (%s)", exc.reason.value)

    def _preparation_ended(self) -> None:
        if self._gate is None or self._gate.readiness is not Readiness.IN_SESSION:
            return  # no gate, or a session it did not see start (urgent help while preparing)
        try:
            self._gate.session_ended(self._clock.now())
        except PreparationRefused as exc:  # a session the gate did not see start
            log.error("preparation refused the end (%s)", exc.reason.value)

    async def _follow_step(self, before: State) -> None:
        """What the step itself asks of the devices: the camera reads QR codes only while identifying."""
        step = self._flow.step
        want_camera = step is State.IDENTIFICATION and DeviceKind.CAMERA in self._devices.kinds()
        if want_camera and not self._camera_on:
            self._camera_on = True
            await self._guarded(self._devices.start(DeviceKind.CAMERA), "start camera")
        elif not want_camera and self._camera_on:
            self._camera_on = False
            await self._guarded(self._devices.stop(DeviceKind.CAMERA), "stop camera")

    async def _carry_out(self, effect: fx.Effect, at: datetime) -> list[ev.Event]:
        match effect:
            case fx.WriteToStore(session_id=session_id, fact=fact):
                await self._write(session_id, fact, at)
                return []
            case fx.StartDevice(kind=kind):
                device = DEVICE_FOR_MEASUREMENT[kind]
                self._device_status = DeviceStatus.STARTING
                try:
                    await self._devices.start(device)
                except Exception as exc:
                    log.warning("device %s did not start (%s)", device.value, type(exc).__name__)
                    self._device_status = None
                    return [ev.DeviceFailed(self._clock.now(), kind=kind, device_id=device.value)]
                return []
            case fx.StopDevices():
                self._device_status = None
                self._live.clear()
                for device_kind in self._measuring_kinds():
                    await self._guarded(self._devices.stop(device_kind), "stop device")
                return []
            case fx.OpenCall():
                return await self._open_call()
            case fx.EndCall():
                if self._call is not None:
                    await self._guarded(self._call.end(), "end call")
                return []
            case fx.QueryInsi():
                self._query_insi()
                return []
            case fx.ReadCard():
                return await self._read_card_again()
            case fx.ShowDegraded():
                return []  # the context carries it; the view shows it
            case fx.Wipe(session_id=session_id, reason=reason):
                await self._wipe(session_id, reason.value, at)
                return [ev.WipeDone(self._clock.now())]
        raise AssertionError(f"unknown effect {type(effect).__name__}")

    # ---- effects ------------------------------------------------------------------------------

    async def _write(self, session_id: str, fact: fx.Fact, at: datetime) -> None:
        """One fact = one transaction, acknowledged before the controller moves on.

        A store that fails even after retries must not stop the patient: the
        fact is kept in memory (and retried with the next write) and the view
        tells the UI so; a STORE_FAILED incident joins the trace.
        """
        self._unsaved.append((session_id, fact, at))
        backlog, self._unsaved = self._unsaved, []
        for index, (sid, item, when) in enumerate(backlog):
            stored = await self._store_with_retries(sid, item, when)
            if stored is None:  # refused for good: retrying would block every later fact
                log.error("store refused a %s for good; dropped", type(item).__name__)
                await self.audit(
                    "system", "session.fact-refused", "failed", sid, type(item).__name__
                )
                continue
            if not stored:
                self._unsaved = backlog[index:]
                if self._notice is not Notice.STORE_DELAYED:
                    self._notice = Notice.STORE_DELAYED
                    self._unsaved.append((sid, incident(at, IncidentCode.STORE_FAILED), at))
                return
        if self._notice is Notice.STORE_DELAYED:
            self._notice = None

    async def _store_with_retries(
        self, session_id: str, fact: fx.Fact, at: datetime
    ) -> bool | None:
        """True stored, False failed (retry later), None refused for good (an invalid value)."""
        for attempt in range(STORE_ATTEMPTS):
            try:
                if session_id not in self._begun:
                    await self._store.begin_session(session_id, at)
                    self._begun.add(session_id)
                await self._store.record_fact(session_id, fact, at)
                return True
            except Exception as exc:
                if str(getattr(exc, "reason", "")) == "invalid-value":
                    return None
                log.error(
                    "store write failed (%s), attempt %d of %d",
                    type(exc).__name__,
                    attempt + 1,
                    STORE_ATTEMPTS,
                )
                if attempt < len(STORE_RETRY_S):
                    await asyncio.sleep(STORE_RETRY_S[attempt])
        return False

    async def _open_call(self) -> list[ev.Event]:
        session_id = self._flow.context.session_id
        if self._call is None or session_id is None:
            return [ev.PlatformUnreachable(self._clock.now())]
        try:
            await self._call.open(session_id)
        except CallMediaCheckFailed as exc:  # the cabin's own camera/mic/speaker, not the platform
            problems = tuple(code.value for code in exc.codes)  # the pure domain's words
            log.warning("call not opened: waiting room checks failed (%s)", ",".join(problems))
            return [ev.CallMediaCheckFailed(self._clock.now(), problems=problems)]
        except Exception as exc:
            log.warning("call did not open (%s)", type(exc).__name__)
            return [ev.PlatformUnreachable(self._clock.now())]
        task = asyncio.create_task(self._pump_call(self._call))
        self._session_tasks.add(task)
        task.add_done_callback(self._session_tasks.discard)
        return []

    async def _read_card_again(self) -> list[ev.Event]:
        """The card put in before identification: its kept read, or the reader reads it anew."""
        read = self._card_read
        if read is not None:
            for left in read_card(read)[1]:
                log.info("card beneficiary left out (%s)", left.subject)
            return translate(read, self._clock.now(), self._mode, self._new_id)
        if DeviceKind.CARD_READER in self._devices.kinds():
            # The driver reads on insertion only: restarting it reports the card in again.
            await self._guarded(self._devices.stop(DeviceKind.CARD_READER), "stop reader")
            await self._guarded(self._devices.start(DeviceKind.CARD_READER), "start reader")
        return []

    def _query_insi(self) -> None:
        self._insi_outcome = None  # a new identity: the last answer was about another one
        identity = self._flow.context.identity
        if self._insi is None or identity is None:
            return
        if not identity.traits.birth_date_complete:
            # INSi's contract needs a whole date; sending a made-up day would be a false trait.
            log.info("INSi not asked: the date of birth is known only in part")
            return
        insi = self._insi

        async def ask() -> None:
            try:
                answer = await insi.query(identity, self._clock.now())
            except Exception as exc:
                log.warning("INSi query failed (%s)", type(exc).__name__)
                if isinstance(exc, InsiError):
                    code, subject = insi_incident_code(exc.reason), exc.reason.value
                else:  # a port that failed on its own: INSi could not be asked
                    code, subject = IncidentCode.INSI_UNAVAILABLE, type(exc).__name__
                if code is not None and self._flow.context.identity == identity:
                    self._insi_outcome = code
                    await self.record_incident(code, subject)
                return
            if answer is not None and self._flow.context.identity == identity:
                await self._dispatch(ev.IdentityUpdated(self._clock.now(), identity=answer))

        task = asyncio.create_task(ask())
        self._session_tasks.add(task)
        task.add_done_callback(self._session_tasks.discard)

    def _measuring_kinds(self) -> frozenset[DeviceKind]:
        try:
            return MEASURING_KINDS & self._devices.kinds()
        except Exception as exc:  # a hub that cannot say: stop every kind it might have
            log.error("device hub kinds failed (%s)", type(exc).__name__)
            return MEASURING_KINDS

    async def _wipe(self, session_id: str, reason: str, at: datetime) -> None:
        try:
            await self._wipe_session(session_id, reason, at)
        finally:
            self._chat = []
            self._documents = {}
            self._printing.clear()
            self._assist_news = None
            forget_parsed_links()  # the standard library's URL cache held the patient links
            for listener in list(self._wipe_listeners):
                try:
                    listener(session_id)
                except Exception as exc:
                    log.error("wipe listener failed (%s)", type(exc).__name__)

    async def _wipe_session(self, session_id: str, reason: str, at: datetime) -> None:
        self._call_status.clear()
        self._preparation_ended()
        helped = self._help.end_in_background("session-ended")
        if helped is not None:  # traced now, in the session it belonged to
            ended = TraceEntry(
                at, TraceKind.HELP_ENDED, SYSTEM, helped.call_id, message="why=session-ended"
            )
            with contextlib.suppress(Exception):
                await self._write(session_id, ended, at)
        current = asyncio.current_task()
        for task in list(self._session_tasks):
            if task is not current:
                task.cancel()
        for kind in self._measuring_kinds():
            await self._guarded(self._devices.stop(kind), "stop device")
        if self._call is not None:
            await self._guarded(self._call.end(), "end call")
        if self._unsaved:  # one last try, so nothing the doctor needs is lost
            await self._write(*self._unsaved.pop())
        if self._unsaved:
            log.error("%d fact(s) could not be stored before the wipe", len(self._unsaved))
            await self.audit(
                "system",
                "session.unsaved-facts",
                "failed",
                session_id,
                f"count={len(self._unsaved)}",
            )
            self._unsaved = []
        if session_id in self._begun:
            try:
                await self._store.end_session(session_id, reason, at)
            except Exception as exc:
                log.error("store could not close the session (%s)", type(exc).__name__)
            self._begun.discard(session_id)
        self._device_status = None
        self._doctor = None
        self._professional_names.clear()
        if self._assistant is not None:
            with contextlib.suppress(Exception):
                await self._write(
                    session_id,
                    TraceEntry(
                        at,
                        TraceKind.ASSISTANT_SIGNED_OUT,
                        Actor(ActorKind.ASSISTANT, self._assistant.username),
                        "session-end",
                    ),
                    at,
                )
        self._assistant = None
        self._assistant_expires_at = None
        self._insi_outcome = None

    async def close_safely(self, reason: str) -> None:
        """Close the session the way a fault does, on request (the calm error screen's button).

        Why public: the screen met an unexpected error of its own and told the
        patient "we go back to the welcome screen"; that promise is kept only
        if the session is really closed (incident SOFTWARE_FAULT with `reason`
        as subject, wipe traced, devices and call stopped, memory wiped) and
        not just redrawn mid-way with the identity still on screen. The person
        has seen the calm screen and pressed its button, so the welcome screen
        comes back without the fault notice. Never raises.
        """
        async with self._lock:
            if self._flow.context.session_id is not None:
                await self._fault_named(reason, "reported")
            self._notice = None
            self._publish()

    async def _fault(self, exc: Exception, where: str) -> None:
        """An unexpected error: trace it, stop everything, wipe, back to welcome with a notice."""
        await self._fault_named(where, type(exc).__name__)

    async def _fault_named(self, where: str, error: str) -> None:
        try:
            await self._close_after_fault(error, where)
        except Exception as again:  # even the safe path failed: still go back to welcome
            log.critical("safe close failed (%s)", type(again).__name__)
        self._flow = SessionFlow.after_fault(self._flow.settings, self._flow.context)
        self._camera_on = False
        self._notice = Notice.FAULT
        self._insi_outcome = None
        self._device_status = None
        self._doctor = None
        self._assistant = None
        self._assistant_expires_at = None
        self._card_read = None

    async def _close_after_fault(self, error: str, where: str) -> None:
        log.error("unexpected %s error (%s); session closed safely", where, error)
        ctx = self._flow.context
        session_id = ctx.session_id
        now = self._clock.now()
        await self.audit(
            "system",
            "controller.fault",
            "failed",
            session_id or "-",
            f"where={where},error={error}",
        )
        if session_id is not None:
            # The trace of the act carries the technical incident (CSP R.6316-4),
            # then the wipe that closed the session because of it.
            for entry in (
                incident(now, IncidentCode.SOFTWARE_FAULT, where),
                TraceEntry(now, TraceKind.WIPE, SYSTEM, "fault"),
            ):
                with contextlib.suppress(Exception):
                    await self._write(session_id, entry, now)
            await self._wipe(session_id, "fault", now)
        else:
            with contextlib.suppress(Exception):
                await self._devices.stop_all()

    # ---- the view ---------------------------------------------------------------------------

    def _note_device_progress(self, event: dev.DeviceEvent) -> None:
        match event:
            case dev.Connected(kind=kind) if kind in MEASURING_KINDS:
                self._device_status = DeviceStatus.CONNECTED
            case dev.Measuring(kind=kind) if kind in MEASURING_KINDS:
                self._device_status = DeviceStatus.MEASURING
            case dev.Reading() | dev.Failed() | dev.Disconnected():
                if getattr(event, "kind", None) in MEASURING_KINDS:
                    self._device_status = None
            case _:
                pass

    def _build_view(self) -> SessionView:
        ctx = self._flow.context
        settings = self._flow.settings
        if ctx.card_stale or not ctx.card_present:
            self._card_read = None  # a stale card's read is never used for the next patient
        person_choices = frozenset(e for e in self._flow.accepts() if e.ORIGIN is ev.Origin.PERSON)
        assistant = (
            AssistantView(
                self._assistant.username,
                self._assistant.display_name,
                self._assistant.role.value,
                self._assistant_expires_at,
            )
            if self._assistant is not None
            else None
        )
        return SessionView(
            revision=self._revision,
            state=ctx.state,
            step=ctx.step,
            context=ctx,
            choices=person_choices,
            countdown_deadline=ctx.warning_deadline(self._flow.settings),
            device_status=self._device_status if ctx.active_device is not None else None,
            live=self._live.live if ctx.active_device is not None else None,
            doctor=self._doctor,
            assistant=assistant,
            notice=self._notice,
            insi_outcome=self._insi_outcome if ctx.identity is not None else None,
            card_to_take=ctx.card_to_take,
            card_ready=ctx.card_ready,
            take_card_deadline=ctx.take_card_deadline(settings),
            waiting_since=ctx.waiting_since,
            wait_deadline=ctx.wait_deadline(settings),
            call_status=self._call_status.message_id(time.monotonic()),
            doctor_media=self._call_status.doctor_media(),
            chat=tuple(self._chat),
            assist_news=self._assist_news,
            documents=tuple(self._documents.values()),
            printing=self._printing.status,
            help_call=self._help.sentence,
        )

    def _publish(self) -> None:
        ctx = self._flow.context
        if ctx.state is not self._watched_step:  # a new screen: the silence is counted anew
            self._watched_step = ctx.state
            self._help.step_shown(ctx.state, ctx.session_id is not None, self._clock.now())
        self._revision += 1
        self._view = self._build_view()
        for listener in list(self._listeners):
            try:
                listener(self._view)
            except Exception as exc:
                log.error("view listener failed (%s)", type(exc).__name__)
        for queue in self._queues:
            queue.put_nowait(self._view)
