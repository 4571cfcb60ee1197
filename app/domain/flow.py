"""The session flow: one patient from the welcome screen back to a clean welcome screen.

The flow is a transition table (h11-style): `TABLE[state][event type]` names
the handler; an event with no entry for the current state raises
`IllegalTransition` and changes nothing. Handlers build a new immutable
`SessionContext`; it is swapped in only when the handler returns, so a
refusal anywhere leaves state, context and trace exactly as they were.

Rules
-----
1. The way through: WELCOME → EMERGENCY_CHECK → INFORMATION → IDENTIFICATION
   → (BENEFICIARY_CHOICE when the card holds several people) →
   IDENTITY_CONFIRMATION → CONSENT → ORIENTATION → VISIT_REASON →
   MEASUREMENTS → WAITING_ROOM → CALL → END → (TAKE_CARD while the card is
   still in) → WIPE → WELCOME.
2. No call without a patient-confirmed identity and a granted
   teleconsultation consent: both are checked when entering WAITING_ROOM and
   again on CallStarted. Refusing teleconsultation consent, or withdrawing
   it later, goes to END without (more of) a call.
3. No payment before the call has ended (PaymentDone is legal only in END
   and only after a call that has ended).
4. Every path ends in WIPE, and WipeDone is the only way back to WELCOME,
   with a fresh context. A session closing (finish, stop, abandon, emergency
   finish) with the card still in the reader first waits in TAKE_CARD: the
   card taken out wipes; after `take_card_s` (or Finish) the wipe happens
   anyway with a CARD_LEFT_IN_READER incident, and the card is marked stale:
   a stale card is asked to be taken and never read for the next patient.
5. Stop is offered on every patient-facing state: StopRequested opens
   STOP_CONFIRM over the step; StopConfirmed wipes, StopCancelled goes back.
6. Inactivity counts only idleness: idle time runs from the later of the
   last activity (a touch, `Touched` included) and the last change of what
   is on screen or the end of a phase where no touch was expected (a
   measurement finished or failed; WAITING_ROOM and CALL left are step
   changes). Tick opens INACTIVITY_WARNING after `inactivity_warning_s` of
   idleness — `card_removed_grace_s` while the card-removed question
   waits, at least `end_reading_s` on END (card reminder, documents) and
   at least `message_reading_s` on DEGRADED and EMERGENCY_EXIT (a message
   to read) when no dialog is open; any activity closes it; when the
   countdown `inactivity_countdown_s` runs out, the session is abandoned.
   Not watched: WELCOME, WIPE, TAKE_CARD, WAITING_ROOM and CALL (waiting
   for and talking to a doctor involves no touch) and MEASUREMENTS while a
   device measures — unless a dialog is open, because a dialog awaits an
   answer.
7. Card pulled out: if the identity came from the card and the step is one
   of CARD_PAUSE_STEPS, CARD_REMOVED_PAUSE opens (continue without the card,
   put it back, or stop). Elsewhere it is only noted: before identification
   the card was not used yet; in IDENTIFICATION the reader reports the read
   itself; in CALL the doctor already has the identity and the patient must
   not be interrupted; in END taking the card is what is asked; in the
   emergency, degraded and closing screens the session is ending anyway.
   A card read (`CardIdentified`) that is not the card the identity came
   from, at a pause step, opens CARD_CHANGED: take it out (then the
   card-removed pause) or stop and start again with it (the wipe does not
   ask for that card: it is the next patient's); the same card back closes
   the dialogs. Elsewhere in the session another card is an incident only.
   A card put in before identification is used there (`ReadCard`) unless
   it is stale.
8. Degraded path: a device failure while it measures → DEGRADED (retry,
   manual entry by a professional, skip); the platform unreachable when the
   call is needed → DEGRADED (retry, finish without the call); the cabin's
   camera, microphone or speaker failing the waiting room's checks →
   DEGRADED (retry, finish; the platform is not blamed); the call
   dropped → DEGRADED (retry, finish); no doctor within `max_wait_s` in the
   waiting room → DEGRADED (retry = keep waiting, finish) with a
   WAIT_TOO_LONG incident. Data taken so far stays in the store.
   Elsewhere these reports are traced as incidents without interrupting.
9. Emergency: a red flag at the emergency check, or the "urgent help"
   button on any screen, ends the session through EMERGENCY_EXIT with the
   numbers to call (the call, if any, is ended).
10. Every act is appended to the trace and written to the store (facts and
    trace entries before any Wipe effect).
11. Events are checked against the state on screen when a person made them,
    and against the step under any dialog when a device, the call, the
    platform or the clock did (see session_events). Late device and call
    reports in WELCOME and WIPE are accepted and ignored.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from app.domain.consent import ConsentChoice, ConsentItem, current_choice
from app.domain.emergency import RedFlag, numbers_for
from app.domain.errors import DomainError
from app.domain.identity import (
    IdentityStatus,
    InvalidIdentity,
    PatientIdentity,
    check_allowed_in_mode,
)
from app.domain.measurements import (
    ImplausibleMeasurement,
    ManualSource,
    MeasurementKind,
    check_plausible,
)
from app.domain.orientation import age_on, assess
from app.domain.session_context import (
    DIALOGS,
    PATIENT_FACING,
    SESSION_STEPS,
    STEPS,
    Degraded,
    FlowSettings,
    SessionContext,
    State,
)
from app.domain.session_effects import (
    DegradedReason,
    DocumentRecord,
    Effect,
    EndCall,
    EndReason,
    Fact,
    OpenCall,
    PaymentRecord,
    QueryInsi,
    ReadCard,
    ShowDegraded,
    StartDevice,
    StopDevices,
    Wipe,
    WriteToStore,
)
from app.domain.session_events import (
    Begin,
    BeneficiaryChosen,
    CallDropped,
    CallEnded,
    CallMediaCheckFailed,
    CallStarted,
    CardIdentified,
    CardInserted,
    CardRemoved,
    ChooseLanguage,
    ConsentDecided,
    ConsentDone,
    ContinueWithoutCard,
    DegradedChoice,
    DegradedOption,
    DeviceFailed,
    DocumentReceived,
    EmergencyAnswered,
    EmergencyDeclared,
    Event,
    Finish,
    HangUp,
    IdentificationFailed,
    IdentificationProblem,
    IdentityConfirmed,
    IdentityObtained,
    IdentityRejected,
    IdentitySource,
    IdentityUpdated,
    InformationAcknowledged,
    MeasurementRejected,
    MeasurementsDone,
    MeasurementTaken,
    OrientationAnswered,
    Origin,
    PaymentDone,
    PlatformReachable,
    PlatformUnreachable,
    SetAccessibility,
    SkipMeasurement,
    StartMeasurement,
    StillHere,
    StopCancelled,
    StopConfirmed,
    StopRequested,
    Tick,
    Touched,
    VisitReasonGiven,
    WipeDone,
)
from app.domain.trace import (
    PATIENT,
    SYSTEM,
    Actor,
    ActorKind,
    IncidentCode,
    TraceEntry,
    TraceKind,
    incident,
)
from app.domain.visit_reason import VisitReasonAnswer, clean_text

__all__ = [
    "CARD_PAUSE_STEPS",
    "IllegalTransition",
    "SessionFlow",
    "TABLE",
]

#: Steps where a pulled card pauses the session and asks (rule 7).
CARD_PAUSE_STEPS = frozenset(
    {
        State.BENEFICIARY_CHOICE,
        State.IDENTITY_CONFIRMATION,
        State.CONSENT,
        State.ORIENTATION,
        State.VISIT_REASON,
        State.MEASUREMENTS,
        State.WAITING_ROOM,
    }
)
#: Steps whose inactivity is not watched when no dialog is open (rule 6).
_UNWATCHED = frozenset({State.WELCOME, State.WIPE, State.TAKE_CARD, State.WAITING_ROOM, State.CALL})
#: Steps with a message the patient must read: the warning waits at least `message_reading_s`.
_MESSAGES = frozenset({State.DEGRADED, State.EMERGENCY_EXIT})
#: Reports that may arrive after the session has closed (rule 11).
_LATE_REPORTS: tuple[type[Event], ...] = (
    DeviceFailed,
    CallEnded,
    CallDropped,
    MeasurementTaken,
    MeasurementRejected,
)
_DEGRADED_OPTIONS: Mapping[DegradedReason, tuple[DegradedOption, ...]] = {
    DegradedReason.DEVICE_FAILED: (
        DegradedOption.RETRY,
        DegradedOption.MANUAL_ENTRY,
        DegradedOption.SKIP,
    ),
    DegradedReason.PLATFORM_UNREACHABLE: (DegradedOption.RETRY, DegradedOption.FINISH),
    DegradedReason.CALL_DROPPED: (DegradedOption.RETRY, DegradedOption.FINISH),
    DegradedReason.CABIN_MEDIA_FAILED: (DegradedOption.RETRY, DegradedOption.FINISH),
    DegradedReason.WAIT_TOO_LONG: (DegradedOption.RETRY, DegradedOption.FINISH),
}


class IllegalTransition(DomainError):
    """An event the flow cannot accept now; nothing was changed."""

    def __init__(self, state: State, event: Event, why: str = "") -> None:
        self.state = state
        self.event_name = type(event).__name__
        self.why = why
        sentence = f"{self.event_name} cannot happen in state {state.name}"
        super().__init__(f"{sentence}: {why}" if why else f"{sentence}.")


@dataclass
class _Txn:
    """A transaction on the context: handlers change `ctx` and add effects."""

    ctx: SessionContext
    event: Event
    settings: FlowSettings
    effects: list[Effect] = field(default_factory=list)

    def refuse(self, why: str) -> IllegalTransition:
        return IllegalTransition(self.ctx.state, self.event, why)

    def set(self, **changes: Any) -> None:
        self.ctx = replace(self.ctx, **changes)

    def goto(self, step: State) -> None:
        self.set(step=step)

    def push(self, dialog: State) -> None:
        if dialog not in self.ctx.dialogs:
            self.set(dialogs=(*self.ctx.dialogs, dialog))

    def pop(self, dialog: State) -> None:
        self.set(dialogs=tuple(d for d in self.ctx.dialogs if d is not dialog))

    def trace(
        self,
        kind: TraceKind,
        actor: Actor = PATIENT,
        subject: str | None = None,
    ) -> None:
        self.set(trace=(*self.ctx.trace, TraceEntry(self.event.at, kind, actor, subject)))

    def incident(self, code: IncidentCode, subject: str | None = None) -> None:
        self.set(trace=(*self.ctx.trace, incident(self.event.at, code, subject)))

    def store(self, fact: Fact) -> None:
        assert self.ctx.session_id is not None  # facts exist only inside a session
        self.effects.append(WriteToStore(self.ctx.session_id, fact))

    def do(self, effect: Effect) -> None:
        self.effects.append(effect)


_Handler = Callable[[_Txn, Any], None]
TABLE: dict[State, dict[type[Event], _Handler]] = {state: {} for state in State}


def _on(states: Iterable[State], *events: type[Event]) -> Callable[[_Handler], _Handler]:
    def register(handler: _Handler) -> _Handler:
        for state in states:
            for event in events:
                TABLE[state][event] = handler
        return handler

    return register


# --- helpers shared by handlers ----------------------------------------------------


def _stop_device(t: _Txn) -> None:
    if t.ctx.active_device is not None:
        t.do(StopDevices())
        t.set(active_device=None)


def _end_call(t: _Txn, actor: Actor) -> None:
    if t.ctx.call_in_progress:
        t.do(EndCall())
        t.set(call_ended_at=t.event.at)
        t.trace(TraceKind.CALL_ENDED, actor)


def _wipe(t: _Txn, reason: EndReason, *, keep_card: bool = False) -> None:
    """Close the session: stop what runs, trace why, then wait for the card or wipe (rule 4).

    `keep_card`: the card in the reader is not this session's (the patient
    chose to start again with it): it is not asked for.
    """
    _stop_device(t)
    _end_call(t, SYSTEM)
    kind = {
        EndReason.STOPPED: TraceKind.STOP,
        EndReason.ABANDONED: TraceKind.ABANDON,
    }.get(reason)
    if kind is not None:
        t.trace(kind, PATIENT if reason is EndReason.STOPPED else SYSTEM)
    t.set(dialogs=(), warning_started_at=None, end_reason=reason)
    if t.ctx.card_present and not keep_card:
        t.set(step=State.TAKE_CARD, take_card_since=t.event.at)
        return
    _wipe_now(t)


def _wipe_now(t: _Txn) -> None:
    reason = t.ctx.end_reason
    assert reason is not None and t.ctx.session_id is not None  # set by _wipe
    t.trace(TraceKind.WIPE, SYSTEM, reason.value)
    t.do(Wipe(t.ctx.session_id, reason))
    t.set(step=State.WIPE, dialogs=(), warning_started_at=None, take_card_since=None)


def _card_left(t: _Txn) -> None:
    """The closing session gives up waiting for the card: traced, and the card is stale."""
    t.incident(IncidentCode.CARD_LEFT_IN_READER)
    t.set(card_stale=True)
    _wipe_now(t)


def _emergency_exit(t: _Txn, flags: frozenset[RedFlag], declared: bool = False) -> None:
    _stop_device(t)
    _end_call(t, SYSTEM)
    numbers = numbers_for(flags, t.ctx.accessibility.hearing_impaired, declared)
    t.trace(TraceKind.EMERGENCY_EXIT)
    t.set(
        step=State.EMERGENCY_EXIT,
        dialogs=(),
        red_flags=flags,
        emergency_numbers=numbers,
        end_reason=EndReason.EMERGENCY,
    )


def _degrade(t: _Txn, reason: DegradedReason, kind: MeasurementKind | None = None) -> None:
    options = _DEGRADED_OPTIONS[reason]
    t.set(step=State.DEGRADED, degraded=Degraded(reason, options, kind))
    t.do(ShowDegraded(reason, options))


def _call_allowed(ctx: SessionContext) -> str:
    """Why the call may not happen ('' when it may): rule 2."""
    if ctx.identity is None or not ctx.identity_confirmed:
        return "the patient has not confirmed an identity"
    if not ctx.teleconsultation_granted:
        return "the patient has not agreed to the teleconsultation"
    return ""


def _to_waiting_room(t: _Txn) -> None:
    why = _call_allowed(t.ctx)
    if why:
        raise t.refuse(why)
    if not t.ctx.platform_reachable:
        t.incident(IncidentCode.PLATFORM_UNREACHABLE)
        _degrade(t, DegradedReason.PLATFORM_UNREACHABLE)
        return
    t.set(
        step=State.WAITING_ROOM,
        degraded=None,
        waiting_since=t.ctx.waiting_since or t.event.at,
        wait_started_at=t.event.at,
    )
    t.do(OpenCall())


def _fresh(ctx: SessionContext, settings: FlowSettings) -> SessionContext:
    """The welcome screen's context: nothing of the patient; the cabin's network and card stay."""
    return SessionContext(
        language=settings.default_language,
        platform_reachable=ctx.platform_reachable,
        card_present=ctx.card_present,
        card_stale=ctx.card_present and ctx.card_stale,
        reader_card=ctx.reader_card if ctx.card_present else None,
    )


def _allowed_identity(t: _Txn, identity: PatientIdentity) -> bool:
    try:
        check_allowed_in_mode(identity, t.settings.mode)
    except InvalidIdentity:
        return False
    return True


# --- settings a person may change on any screen ------------------------------------

_ALL_BUT_WIPE = frozenset(State) - {State.WIPE}


@_on(_ALL_BUT_WIPE, ChooseLanguage)
def _choose_language(t: _Txn, ev: ChooseLanguage) -> None:
    if ev.language not in t.settings.languages:
        raise t.refuse(f"the language '{ev.language}' is not offered in this cabin")
    t.set(language=ev.language)


@_on(_ALL_BUT_WIPE, SetAccessibility)
def _set_accessibility(t: _Txn, ev: SetAccessibility) -> None:
    t.set(accessibility=ev.options)


@_on(State, Touched)
def _touched(t: _Txn, ev: Touched) -> None:
    """A touch: only the inactivity clock moves (done for every activity in `SessionFlow.handle`)."""


# --- welcome, emergency check, information ----------------------------------------


@_on([State.WELCOME], Begin)
def _begin(t: _Txn, ev: Begin) -> None:
    if not ev.session_id:
        raise t.refuse("a session needs an id")
    t.set(step=State.EMERGENCY_CHECK, session_id=ev.session_id, started_at=ev.at)
    t.trace(TraceKind.SESSION_STARTED)


@_on([State.EMERGENCY_CHECK], EmergencyAnswered)
def _emergency_answered(t: _Txn, ev: EmergencyAnswered) -> None:
    if ev.flags:
        _emergency_exit(t, ev.flags)
        return
    t.trace(TraceKind.EMERGENCY_CHECK_DONE)
    t.goto(State.INFORMATION)


@_on((PATIENT_FACING - {State.EMERGENCY_EXIT}) | {State.TAKE_CARD}, EmergencyDeclared)
def _emergency_declared(t: _Txn, ev: EmergencyDeclared) -> None:
    _emergency_exit(t, ev.flags, declared=True)


@_on([State.INFORMATION], InformationAcknowledged)
def _information(t: _Txn, ev: InformationAcknowledged) -> None:
    t.set(information_acknowledged=True)
    t.trace(TraceKind.INFORMATION_GIVEN)
    t.goto(State.IDENTIFICATION)
    if t.ctx.card_present and not t.ctx.card_stale:
        t.do(ReadCard())  # the card was put in before: identification uses it (rule 7)


# --- identification ------------------------------------------------------------------


@_on([State.IDENTIFICATION], IdentityObtained)
def _identity_obtained(t: _Txn, ev: IdentityObtained) -> None:
    if ev.source is IdentitySource.MANUAL and not ev.entered_by:
        raise t.refuse("a manual entry needs the professional's account")
    if not ev.candidates:
        t.set(identification_problem=IdentificationProblem.NO_BENEFICIARY)
        return
    if not all(_allowed_identity(t, c) for c in ev.candidates):
        t.set(identification_problem=IdentificationProblem.TEST_IDENTITY_IN_PRODUCTION)
        t.incident(IncidentCode.IDENTITY_REFUSED_IN_PRODUCTION)
        return
    actor = Actor(ActorKind.ASSISTANT, ev.entered_by) if ev.entered_by else PATIENT
    t.trace(TraceKind.IDENTIFICATION, actor, ev.source.value)
    from_card = ev.source is IdentitySource.CARD
    t.set(
        candidates=ev.candidates,
        identity_source=ev.source,
        identification_problem=None,
        card_present=t.ctx.card_present or from_card,
        session_card=t.ctx.reader_card if from_card else None,
    )
    if len(ev.candidates) == 1:
        _choose(t, ev.candidates[0])
    else:
        t.goto(State.BENEFICIARY_CHOICE)


def _choose(t: _Txn, identity: PatientIdentity) -> None:
    t.set(identity=identity, step=State.IDENTITY_CONFIRMATION)
    if identity.status in (IdentityStatus.PROV, IdentityStatus.VALI):
        t.do(QueryInsi())


@_on([State.IDENTIFICATION], IdentificationFailed)
def _identification_failed(t: _Txn, ev: IdentificationFailed) -> None:
    t.set(identification_problem=ev.problem)
    if ev.problem in (IdentificationProblem.CARD_UNREADABLE, IdentificationProblem.CARD_EXPIRED):
        t.incident(IncidentCode.CARD_ERROR)


@_on([State.BENEFICIARY_CHOICE], BeneficiaryChosen)
def _beneficiary(t: _Txn, ev: BeneficiaryChosen) -> None:
    if not 0 <= ev.index < len(t.ctx.candidates):
        raise t.refuse(f"there is no beneficiary number {ev.index}")
    _choose(t, t.ctx.candidates[ev.index])


@_on([State.BENEFICIARY_CHOICE, State.IDENTITY_CONFIRMATION], IdentityRejected)
def _identity_rejected(t: _Txn, ev: IdentityRejected) -> None:
    t.trace(TraceKind.IDENTITY_REFUSED)
    t.set(
        step=State.IDENTIFICATION,
        candidates=(),
        identity=None,
        identity_source=None,
        session_card=None,
        identification_problem=IdentificationProblem.NOT_RECOGNISED,
    )


@_on([State.IDENTITY_CONFIRMATION], IdentityConfirmed)
def _identity_confirmed(t: _Txn, ev: IdentityConfirmed) -> None:
    assert t.ctx.identity is not None  # IDENTITY_CONFIRMATION is entered with one
    t.set(identity_confirmed=True, step=State.CONSENT)
    t.trace(TraceKind.IDENTITY_CONFIRMED)
    t.store(t.ctx.identity)


_WITH_IDENTITY = frozenset(
    {
        State.IDENTITY_CONFIRMATION,
        State.CONSENT,
        State.ORIENTATION,
        State.VISIT_REASON,
        State.MEASUREMENTS,
        State.WAITING_ROOM,
        State.CALL,
        State.END,
        State.DEGRADED,
    }
)


@_on(_WITH_IDENTITY, IdentityUpdated)
def _identity_updated(t: _Txn, ev: IdentityUpdated) -> None:
    if t.ctx.identity is None:
        raise t.refuse("no identity has been chosen")
    if not _allowed_identity(t, ev.identity):
        t.incident(IncidentCode.IDENTITY_REFUSED_IN_PRODUCTION)
        return
    t.set(identity=ev.identity)
    by = ev.identity.verified_by
    t.trace(
        TraceKind.IDENTIFICATION,
        Actor(ActorKind.ASSISTANT, by) if by else SYSTEM,
        ev.identity.status.value,
    )
    if t.ctx.identity_confirmed:
        t.store(ev.identity)


# --- consent ---------------------------------------------------------------------------

_CONSENT_TRACE = {
    ConsentChoice.GRANTED: TraceKind.CONSENT_GRANTED,
    ConsentChoice.REFUSED: TraceKind.CONSENT_REFUSED,
    ConsentChoice.WITHDRAWN: TraceKind.CONSENT_WITHDRAWN,
}
_AFTER_CONSENT = frozenset(
    {
        State.ORIENTATION,
        State.VISIT_REASON,
        State.MEASUREMENTS,
        State.WAITING_ROOM,
        State.CALL,
        State.END,
    }
)


@_on([State.CONSENT, *_AFTER_CONSENT], ConsentDecided)
def _consent_decided(t: _Txn, ev: ConsentDecided) -> None:
    d = ev.decision
    before = current_choice(t.ctx.consents, d.item)
    if d.choice is ConsentChoice.WITHDRAWN and before is not ConsentChoice.GRANTED:
        raise t.refuse("consent can only be withdrawn after it was given")
    t.set(consents=(*t.ctx.consents, d))
    t.trace(_CONSENT_TRACE[d.choice], PATIENT, d.item.value)
    t.store(d)
    tele_lost = d.item is ConsentItem.TELECONSULTATION and d.choice is not ConsentChoice.GRANTED
    if tele_lost and t.ctx.step is not State.CONSENT:
        _stop_device(t)
        _end_call(t, PATIENT)
        t.goto(State.END)


@_on([State.CONSENT], ConsentDone)
def _consent_done(t: _Txn, ev: ConsentDone) -> None:
    t.goto(State.ORIENTATION if t.ctx.teleconsultation_granted else State.END)


# --- orientation and measurements -----------------------------------------------------


@_on([State.ORIENTATION], OrientationAnswered)
def _orientation(t: _Txn, ev: OrientationAnswered) -> None:
    assert t.ctx.identity is not None
    age = age_on(t.ctx.identity.traits.birth_date, ev.at.date())
    result = assess(ev.answers, age)
    t.set(orientation=result, step=State.VISIT_REASON)
    t.trace(TraceKind.ORIENTATION_ANSWERED, PATIENT, result.parcours.value)
    t.store(result)


@_on([State.VISIT_REASON], VisitReasonGiven)
def _visit_reason(t: _Txn, ev: VisitReasonGiven) -> None:
    answer = VisitReasonAnswer(ev.at, ev.reasons, clean_text(ev.text))
    t.set(visit_reason=answer, step=State.MEASUREMENTS)
    subject = "left-to-the-doctor" if answer.left_to_the_doctor else "given"
    t.trace(TraceKind.VISIT_REASON_GIVEN, PATIENT, subject)
    t.store(answer)


_MEASURING = frozenset({State.MEASUREMENTS, State.CALL})


@_on(_MEASURING, StartMeasurement)
def _start_measurement(t: _Txn, ev: StartMeasurement) -> None:
    _stop_device(t)
    t.set(active_device=ev.kind, manual_entry_for=None, measuring_since=ev.at)
    t.do(StartDevice(ev.kind))


@_on(_MEASURING, MeasurementTaken)
def _measurement_taken(t: _Txn, ev: MeasurementTaken) -> None:
    m = ev.measurement
    if any(known.id == m.id for known in t.ctx.measurements):
        raise t.refuse("this measurement was already recorded")
    try:
        check_plausible(m)
    except ImplausibleMeasurement as exc:
        raise t.refuse(exc.sentence) from exc
    if isinstance(m.source, ManualSource):
        actor = Actor(ActorKind.ASSISTANT, m.source.professional_account_id)
    else:
        actor = PATIENT
    t.set(
        measurements=(*t.ctx.measurements, m),
        active_device=None if t.ctx.active_device is m.kind else t.ctx.active_device,
        manual_entry_for=None if t.ctx.manual_entry_for is m.kind else t.ctx.manual_entry_for,
        skipped=t.ctx.skipped - {m.kind},
    )
    t.store(m)
    t.trace(TraceKind.MEASUREMENT_TAKEN, actor, m.id)


@_on(_MEASURING, MeasurementRejected)
def _measurement_rejected(t: _Txn, ev: MeasurementRejected) -> None:
    if t.ctx.active_device is ev.kind:
        t.set(active_device=None)
    t.trace(TraceKind.MEASUREMENT_REFUSED, SYSTEM, f"{ev.kind.value}:{ev.reason.value}")


@_on([State.MEASUREMENTS], SkipMeasurement)
def _skip(t: _Txn, ev: SkipMeasurement) -> None:
    if t.ctx.active_device is ev.kind:
        _stop_device(t)
    t.set(skipped=t.ctx.skipped | {ev.kind})
    t.trace(TraceKind.MEASUREMENT_SKIPPED, PATIENT, ev.kind.value)


@_on([State.MEASUREMENTS], MeasurementsDone)
def _measurements_done(t: _Txn, ev: MeasurementsDone) -> None:
    _stop_device(t)
    t.set(manual_entry_for=None)
    _to_waiting_room(t)


# --- devices and platform reports (any step) -------------------------------------------


@_on(SESSION_STEPS, DeviceFailed)
def _device_failed(t: _Txn, ev: DeviceFailed) -> None:
    t.incident(IncidentCode.DEVICE_FAILED, ev.device_id)
    if t.ctx.active_device is not ev.kind:
        return
    t.set(active_device=None)
    t.do(StopDevices())
    if t.ctx.step is State.MEASUREMENTS:
        _degrade(t, DegradedReason.DEVICE_FAILED, ev.kind)


@_on(SESSION_STEPS, PlatformUnreachable)
def _platform_unreachable(t: _Txn, ev: PlatformUnreachable) -> None:
    if t.ctx.platform_reachable:
        t.incident(IncidentCode.PLATFORM_UNREACHABLE)
    t.set(platform_reachable=False)
    if t.ctx.step is State.WAITING_ROOM:
        t.do(EndCall())  # leave the waiting queue
        _degrade(t, DegradedReason.PLATFORM_UNREACHABLE)
    # In CALL the media may still flow peer to peer: the call module reports a drop.


@_on([State.WAITING_ROOM], CallMediaCheckFailed)
def _call_media_check_failed(t: _Txn, ev: CallMediaCheckFailed) -> None:
    t.incident(IncidentCode.CALL_MEDIA_CHECK_FAILED, ",".join(ev.problems) or None)
    t.do(EndCall())
    _degrade(t, DegradedReason.CABIN_MEDIA_FAILED)


@_on([State.WELCOME, State.WIPE], PlatformUnreachable)
def _platform_unreachable_idle(t: _Txn, ev: PlatformUnreachable) -> None:
    t.set(platform_reachable=False)


@_on(STEPS, PlatformReachable)
def _platform_reachable(t: _Txn, ev: PlatformReachable) -> None:
    t.set(platform_reachable=True)


@_on([State.DEGRADED], DegradedChoice)
def _degraded_choice(t: _Txn, ev: DegradedChoice) -> None:
    degraded = t.ctx.degraded
    assert degraded is not None  # DEGRADED is entered with one
    if ev.option not in degraded.options:
        raise t.refuse(f"'{ev.option.value}' is not offered for {degraded.reason.value}")
    if degraded.reason is DegradedReason.DEVICE_FAILED:
        kind = degraded.device_kind
        assert kind is not None  # a device failure names its kind
        t.set(step=State.MEASUREMENTS, degraded=None)
        if ev.option is DegradedOption.RETRY:
            t.set(active_device=kind, measuring_since=ev.at)
            t.do(StartDevice(kind))
        elif ev.option is DegradedOption.MANUAL_ENTRY:
            t.set(manual_entry_for=kind)
        else:
            t.set(skipped=t.ctx.skipped | {kind})
            t.trace(TraceKind.MEASUREMENT_SKIPPED, PATIENT, kind.value)
    elif ev.option is DegradedOption.RETRY:
        if degraded.reason is not DegradedReason.WAIT_TOO_LONG:
            t.set(platform_reachable=True)  # the patient asks to try: the next report will tell
        _to_waiting_room(t)  # after a long wait: keep waiting, a new maximum wait begins
    else:
        t.set(step=State.END, degraded=None)


# --- the call, documents, payment, end -----------------------------------------------


@_on([State.WAITING_ROOM], CallStarted)
def _call_started(t: _Txn, ev: CallStarted) -> None:
    why = _call_allowed(t.ctx)
    if why:
        raise t.refuse(why)
    if not ev.doctor_rpps:
        raise t.refuse("the doctor must be identified by an RPPS number")
    t.set(
        step=State.CALL,
        doctor_rpps=ev.doctor_rpps,
        call_started_at=ev.at,
        call_ended_at=None,
    )
    t.trace(TraceKind.CALL_STARTED, Actor(ActorKind.DOCTOR, ev.doctor_rpps))


def _doctor(ctx: SessionContext) -> Actor:
    return Actor(ActorKind.DOCTOR, ctx.doctor_rpps)


@_on([State.CALL], HangUp)
def _hang_up(t: _Txn, ev: HangUp) -> None:
    _stop_device(t)
    _end_call(t, PATIENT)
    t.goto(State.END)


@_on([State.CALL], CallEnded)
def _call_ended(t: _Txn, ev: CallEnded) -> None:
    _stop_device(t)
    t.set(call_ended_at=ev.at, step=State.END)
    t.trace(TraceKind.CALL_ENDED, _doctor(t.ctx))


@_on([State.CALL], CallDropped)
def _call_dropped(t: _Txn, ev: CallDropped) -> None:
    _stop_device(t)
    t.set(call_ended_at=ev.at)
    # R.6316-4 wants the start and the end of every call: a dropped call ends too,
    # here, before any retry starts the next one with its own CALL_STARTED.
    t.trace(TraceKind.CALL_ENDED, SYSTEM, "dropped")
    t.incident(IncidentCode.CALL_DROPPED)
    _degrade(t, DegradedReason.CALL_DROPPED)


@_on([State.CALL, State.END, State.DEGRADED], DocumentReceived)
def _document(t: _Txn, ev: DocumentReceived) -> None:
    if t.ctx.call_started_at is None:
        raise t.refuse("documents come from a doctor's call, and there was none")
    if not ev.document_id or ev.document_id in t.ctx.documents:
        raise t.refuse("the document needs a new id")
    t.set(documents=(*t.ctx.documents, ev.document_id))
    t.store(DocumentRecord(ev.document_id, ev.kind))
    t.trace(TraceKind.DOCUMENT_RECEIVED, _doctor(t.ctx), ev.document_id)


@_on([State.END], PaymentDone)
def _payment(t: _Txn, ev: PaymentDone) -> None:
    if t.ctx.call_started_at is None or t.ctx.call_ended_at is None:
        raise t.refuse("payment comes only after the consultation has ended")
    if t.ctx.payment_reference is not None:
        raise t.refuse("the consultation has already been paid")
    t.set(payment_reference=ev.reference)
    t.store(PaymentRecord(ev.reference))
    t.trace(TraceKind.PAYMENT, PATIENT, ev.reference)


@_on([State.END], Finish)
def _finish(t: _Txn, ev: Finish) -> None:
    _wipe(t, EndReason.COMPLETED)


@_on([State.EMERGENCY_EXIT], Finish)
def _finish_emergency(t: _Txn, ev: Finish) -> None:
    _wipe(t, EndReason.EMERGENCY)


@_on([State.WIPE], WipeDone)
def _wipe_done(t: _Txn, ev: WipeDone) -> None:
    t.ctx = _fresh(t.ctx, t.settings)
    t.set(idle_since=ev.at)  # a card left for the next session goes stale when nobody comes


# --- stop, inactivity, card --------------------------------------------------------------


@_on(PATIENT_FACING, StopRequested)
def _stop_requested(t: _Txn, ev: StopRequested) -> None:
    t.push(State.STOP_CONFIRM)


@_on([State.STOP_CONFIRM, State.CARD_REMOVED_PAUSE], StopConfirmed)
def _stop_confirmed(t: _Txn, ev: StopConfirmed) -> None:
    # A stop asked over the card-changed question starts again with the new card.
    _wipe(t, EndReason.STOPPED, keep_card=State.CARD_CHANGED in t.ctx.dialogs)


@_on([State.CARD_CHANGED], StopConfirmed)
def _start_again_with_new_card(t: _Txn, ev: StopConfirmed) -> None:
    """ "Stop and start again with this card": the card in the reader is the next patient's."""
    _wipe(t, EndReason.STOPPED, keep_card=True)


@_on([State.STOP_CONFIRM], StopCancelled)
def _stop_cancelled(t: _Txn, ev: StopCancelled) -> None:
    t.pop(State.STOP_CONFIRM)


@_on([State.INACTIVITY_WARNING], StillHere)
def _still_here(t: _Txn, ev: StillHere) -> None:
    """Activity closes the warning (done for every activity in `SessionFlow.handle`)."""


@_on([State.CARD_REMOVED_PAUSE], ContinueWithoutCard)
def _continue_without_card(t: _Txn, ev: ContinueWithoutCard) -> None:
    t.pop(State.CARD_REMOVED_PAUSE)


@_on(STEPS, CardInserted)
def _card_inserted(t: _Txn, ev: CardInserted) -> None:
    # A card put in is a new card: not stale, not known until it is read.
    t.set(card_present=True, card_stale=False, reader_card=None)
    t.pop(State.CARD_REMOVED_PAUSE)


@_on(STEPS, CardRemoved)
def _card_removed(t: _Txn, ev: CardRemoved) -> None:
    t.set(card_present=False, card_stale=False, reader_card=None)
    t.pop(State.CARD_CHANGED)
    ctx = t.ctx
    if ctx.step is State.TAKE_CARD:
        _wipe_now(t)
        return
    pause = (
        ctx.step in CARD_PAUSE_STEPS
        and ctx.identity_source is IdentitySource.CARD
        and State.STOP_CONFIRM not in ctx.dialogs
        and State.CARD_REMOVED_PAUSE not in ctx.dialogs
    )
    if pause:
        t.incident(IncidentCode.CARD_REMOVED)
        t.push(State.CARD_REMOVED_PAUSE)


@_on(STEPS, CardIdentified)
def _card_identified(t: _Txn, ev: CardIdentified) -> None:
    t.set(card_present=True, reader_card=ev.fingerprint)
    ctx = t.ctx
    if ctx.session_card is None or ctx.identity_source is not IdentitySource.CARD:
        return  # no card identity to compare with: identification reads it (rule 7)
    if ev.fingerprint == ctx.session_card:
        t.pop(State.CARD_CHANGED)
        t.pop(State.CARD_REMOVED_PAUSE)
        return
    t.incident(IncidentCode.CARD_CHANGED)
    if ctx.step in CARD_PAUSE_STEPS and State.STOP_CONFIRM not in ctx.dialogs:
        t.pop(State.CARD_REMOVED_PAUSE)
        t.push(State.CARD_CHANGED)


@_on([State.TAKE_CARD], Finish)
def _leave_card(t: _Txn, ev: Finish) -> None:
    """The person leaves without the card (or the reader is wrong): wipe, card marked stale."""
    _card_left(t)


@_on(STEPS, Tick)
def _tick(t: _Txn, ev: Tick) -> None:
    ctx, s = t.ctx, t.settings
    idle = _seconds(ev.at, ctx.idle_origin())
    if ctx.step is State.WELCOME:
        if idle < s.inactivity_warning_s:
            return
        changed = (
            ctx.language != s.default_language or ctx.accessibility != _fresh(ctx, s).accessibility
        )
        if changed:
            t.ctx = _fresh(ctx, s)  # the next person must not inherit a stranger's choices
        if t.ctx.card_present and not t.ctx.card_stale:
            t.set(card_stale=True)  # put in and left: the next person is asked to take it
        return
    if ctx.step is State.WIPE:
        return
    if ctx.step is State.TAKE_CARD:
        if _seconds(ev.at, ctx.take_card_since) >= s.take_card_s:
            _card_left(t)
        return
    device = ctx.active_device
    if (
        ctx.step is State.MEASUREMENTS
        and device is not None
        and _seconds(ev.at, ctx.measuring_since) >= s.measure_max_s
    ):
        # Neither a reading nor a failure: the device is taken as failed (never a dead end).
        t.incident(IncidentCode.DEVICE_FAILED, f"{device.value}:no-answer")
        t.set(active_device=None)
        t.do(StopDevices())
        _degrade(t, DegradedReason.DEVICE_FAILED, device)
        return
    if ctx.step is State.WAITING_ROOM and _seconds(ev.at, ctx.wait_started_at) >= s.max_wait_s:
        t.incident(IncidentCode.WAIT_TOO_LONG)
        t.do(EndCall())  # leave the waiting queue
        _degrade(t, DegradedReason.WAIT_TOO_LONG)
        return
    if State.INACTIVITY_WARNING in ctx.dialogs:
        if _seconds(ev.at, ctx.warning_started_at) >= s.inactivity_countdown_s:
            _wipe(t, EndReason.ABANDONED)
        return
    watched = bool(ctx.dialogs) or not (
        ctx.step in _UNWATCHED or (ctx.step is State.MEASUREMENTS and ctx.active_device)
    )
    if watched and idle >= _idle_limit(ctx, s):
        t.push(State.INACTIVITY_WARNING)
        t.set(warning_started_at=ev.at)


def _idle_limit(ctx: SessionContext, s: FlowSettings) -> float:
    """Seconds of idleness before the warning, on what is shown now (rule 6)."""
    if ctx.state is State.CARD_REMOVED_PAUSE:
        return s.card_removed_grace_s
    if ctx.dialogs:
        return s.inactivity_warning_s
    if ctx.step is State.END:
        return max(s.end_reading_s, s.inactivity_warning_s)
    if ctx.step in _MESSAGES:
        return max(s.message_reading_s, s.inactivity_warning_s)
    return s.inactivity_warning_s


def _seconds(now: datetime, since: datetime | None) -> float:
    return (now - since).total_seconds() if since is not None else 0.0


@_on([State.WELCOME, State.WIPE, State.TAKE_CARD], *_LATE_REPORTS)
def _late_report(t: _Txn, ev: Event) -> None:
    """A device or the call reporting after the session closed: nothing left to change."""


# --- the flow object ------------------------------------------------------------------


class SessionFlow:
    """Feed it events; it returns the effects to carry out and shows its state.

    Not thread-safe: the session controller calls it from the one event loop.
    """

    def __init__(self, settings: FlowSettings | None = None) -> None:
        self.settings = settings or FlowSettings()
        if self.settings.default_language not in self.settings.languages:
            raise DomainError("The default language must be one of the languages offered.")
        self._ctx = _fresh(SessionContext(), self.settings)

    @classmethod
    def after_fault(cls, settings: FlowSettings, previous: SessionContext) -> SessionFlow:
        """A fresh flow on the welcome screen keeping the cabin's facts of `previous`.

        The network state and the card in the reader are the cabin's; a card
        that was in during the closed session is stale (asked to be taken,
        never read for the next patient).
        """
        flow = cls(settings)
        fresh = _fresh(previous, flow.settings)
        in_session = previous.session_id is not None
        flow._ctx = replace(
            fresh, card_stale=previous.card_present and (in_session or fresh.card_stale)
        )
        return flow

    @property
    def state(self) -> State:
        """What is on screen."""
        return self._ctx.state

    @property
    def step(self) -> State:
        """The step of the way, under any dialog."""
        return self._ctx.step

    @property
    def context(self) -> SessionContext:
        return self._ctx

    def accepts(self) -> frozenset[type[Event]]:
        """Event types with an entry in the table now (guards may still refuse some)."""
        ctx = self._ctx
        person = {e for e in TABLE[ctx.state] if e.ORIGIN is Origin.PERSON}
        system = {e for e in TABLE[ctx.step] if e.ORIGIN is Origin.SYSTEM}
        return frozenset(person | system)

    def handle(self, event: Event) -> list[Effect]:
        """Apply `event`; raise `IllegalTransition` (changing nothing) if it cannot happen."""
        ctx = self._ctx
        key = ctx.state if event.ORIGIN is Origin.PERSON else ctx.step
        handler = TABLE[key].get(type(event))
        if handler is None:
            raise IllegalTransition(key, event)
        t = _Txn(ctx, event, self.settings)
        handler(t, event)
        new_screen = t.ctx.state is not ctx.state and t.ctx.state is not State.INACTIVITY_WARNING
        device_done = ctx.active_device is not None and t.ctx.active_device is None
        if (new_screen or device_done) and t.ctx.step is not State.WELCOME:
            t.set(idle_since=event.at)  # idle time restarts (rule 6)
        if event.ACTIVITY and ctx.step is not State.WIPE:
            t.set(last_activity_at=event.at)
            if State.INACTIVITY_WARNING in t.ctx.dialogs:
                t.pop(State.INACTIVITY_WARNING)
                t.set(warning_started_at=None)
        effects = _ordered(t, ctx)
        self._ctx = t.ctx
        return effects


def _ordered(t: _Txn, before: SessionContext) -> list[Effect]:
    """Handler effects, then the new trace entries written to the store, then Wipe."""
    new_entries = t.ctx.trace[len(before.trace) :] if t.ctx.session_id is not None else ()
    session_id = t.ctx.session_id or ""
    writes: list[Effect] = [WriteToStore(session_id, entry) for entry in new_entries]
    wipes = [e for e in t.effects if isinstance(e, Wipe)]
    others = [e for e in t.effects if not isinstance(e, Wipe)]
    return [*others, *writes, *wipes]


def _check_table() -> None:
    """Dialogs take only person events; stop and emergency exist on every patient-facing state."""
    for state in PATIENT_FACING:
        assert StopRequested in TABLE[state], state
    for dialog in DIALOGS:
        assert all(e.ORIGIN is Origin.PERSON for e in TABLE[dialog]), dialog
    assert STEPS | DIALOGS == frozenset(State)


_check_table()
