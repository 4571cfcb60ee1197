"""The session flow: one patient from the welcome screen back to a clean welcome screen.

The flow is a transition table (h11-style), written once below as literal
rows `(state(s), event) → (handler, next states)`: an event with no row for
the current state raises `IllegalTransition` and changes nothing. Handlers
(`flow_way`, `flow_watch`) build a new immutable `SessionContext`; it is
swapped in only when the handler returns, so a refusal anywhere leaves state,
context and trace exactly as they were. Where a transition lands is checked
against its row (`flow_table.UndeclaredTransition` otherwise, again changing
nothing), and `scripts/domain_doc.py` draws docs/domain.md's diagram and grid
from these rows, so the table, the code and the picture cannot disagree.

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

Reading the table
-----------------
The first column is one state or a named set of them, and SAME stands for
each of them (the event changes what the flow knows, not where the patient
is); BACK is a dialog closing onto what was under it. Person events are
looked up under the state on screen, system events under the step (rule 11):
a system row names the step it leaves the session on, or the dialog it
opens. A row names where the whole transition lands, rule 6 included: any
activity closes the inactivity warning, hence BACK on INACTIVITY_WARNING.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from app.domain.errors import DomainError
from app.domain.flow_table import BACK, SAME, Row, Transition, build, check_landing
from app.domain.flow_txn import Handler, IllegalTransition, Txn, fresh
from app.domain.flow_watch import (
    CARD_PAUSE_STEPS,
    call_media_check_failed,
    card_identified,
    card_inserted,
    card_removed,
    continue_without_card,
    degraded_choice,
    device_failed,
    late_report,
    leave_card,
    platform_reachable,
    platform_unreachable,
    platform_unreachable_idle,
    start_again_with_new_card,
    still_here,
    stop_cancelled,
    stop_confirmed,
    stop_requested,
    tick,
)
from app.domain.flow_way import (
    begin,
    beneficiary,
    call_dropped,
    call_ended,
    call_started,
    choose_language,
    consent_decided,
    consent_done,
    document,
    emergency_answered,
    emergency_declared,
    finish,
    finish_emergency,
    hang_up,
    identification_failed,
    identity_confirmed,
    identity_obtained,
    identity_rejected,
    identity_updated,
    information,
    measurement_rejected,
    measurement_taken,
    measurements_done,
    orientation,
    payment,
    set_accessibility,
    skip,
    start_measurement,
    touched,
    visit_reason,
    wipe_done,
)
from app.domain.session_context import (
    DIALOGS,
    PATIENT_FACING,
    SESSION_STEPS,
    STEPS,
    FlowSettings,
    SessionContext,
    State,
)
from app.domain.session_effects import Effect, Wipe, WriteToStore
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
    DeviceFailed,
    DocumentReceived,
    EmergencyAnswered,
    EmergencyDeclared,
    Event,
    Finish,
    HangUp,
    IdentificationFailed,
    IdentityConfirmed,
    IdentityObtained,
    IdentityRejected,
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

__all__ = [
    "CARD_PAUSE_STEPS",
    "IllegalTransition",
    "ROWS",
    "SessionFlow",
    "TABLE",
    "TRANSITIONS",
]

S = State
WARNING = S.INACTIVITY_WARNING
#: Every screen a person can act on: the wipe takes no choice.
SCREENS = frozenset(State) - {S.WIPE}
#: Steps after the patient chose who they are.
WITH_IDENTITY = frozenset(
    {
        S.IDENTITY_CONFIRMATION, S.CONSENT, S.ORIENTATION, S.VISIT_REASON, S.MEASUREMENTS,
        S.WAITING_ROOM, S.CALL, S.END, S.DEGRADED,
    }
)  # fmt: skip
#: Steps after the consent step, where the teleconsultation consent can be withdrawn.
AFTER_CONSENT = frozenset(
    {S.ORIENTATION, S.VISIT_REASON, S.MEASUREMENTS, S.WAITING_ROOM, S.CALL, S.END}
)
#: Steps where a device may measure: the measurements step, and the call (the doctor asks).
MEASURING = frozenset({S.MEASUREMENTS, S.CALL})
#: The session is closed or closing: reports still arriving are accepted and ignored (rule 11).
CLOSED = frozenset({S.WELCOME, S.WIPE, S.TAKE_CARD})
#: Session steps where the clock only watches idleness: no device, wait or card to time out.
WATCHED = SESSION_STEPS - {S.TAKE_CARD, S.MEASUREMENTS, S.WAITING_ROOM}

# The table: every (state, event) the flow accepts, its handler and where it may land.
# Laid out by hand as columns (the formatter would fold it): one row, one line.
# fmt: off
ROWS: tuple[Row, ...] = (
    # state(s)                               event                    handler                    next states
    # -- settings and touches, on any screen (rule 6: on the warning, activity closes it)
    (SCREENS - {WARNING},                    ChooseLanguage,          choose_language,           {SAME}),
    (SCREENS - {WARNING},                    SetAccessibility,        set_accessibility,         {SAME}),
    (frozenset(State) - {WARNING},           Touched,                 touched,                   {SAME}),
    (WARNING,                                ChooseLanguage,          choose_language,           {BACK}),
    (WARNING,                                SetAccessibility,        set_accessibility,         {BACK}),
    (WARNING,                                Touched,                 touched,                   {BACK}),
    # -- the way through (rule 1)
    (S.WELCOME,                              Begin,                   begin,                     {S.EMERGENCY_CHECK}),
    (S.EMERGENCY_CHECK,                      EmergencyAnswered,       emergency_answered,        {S.INFORMATION, S.EMERGENCY_EXIT}),
    (S.INFORMATION,                          InformationAcknowledged, information,               {S.IDENTIFICATION}),
    (S.IDENTIFICATION,                       IdentityObtained,        identity_obtained,         {SAME, S.BENEFICIARY_CHOICE, S.IDENTITY_CONFIRMATION}),
    (S.IDENTIFICATION,                       IdentificationFailed,    identification_failed,     {SAME}),
    (S.BENEFICIARY_CHOICE,                   BeneficiaryChosen,       beneficiary,               {S.IDENTITY_CONFIRMATION}),
    (S.BENEFICIARY_CHOICE,                   IdentityRejected,        identity_rejected,         {S.IDENTIFICATION}),
    (S.IDENTITY_CONFIRMATION,                IdentityRejected,        identity_rejected,         {S.IDENTIFICATION}),
    (S.IDENTITY_CONFIRMATION,                IdentityConfirmed,       identity_confirmed,        {S.CONSENT}),
    (WITH_IDENTITY,                          IdentityUpdated,         identity_updated,          {SAME}),
    (S.CONSENT,                              ConsentDecided,          consent_decided,           {SAME}),
    (AFTER_CONSENT,                          ConsentDecided,          consent_decided,           {SAME, S.END}),
    (S.CONSENT,                              ConsentDone,             consent_done,              {S.ORIENTATION, S.END}),
    (S.ORIENTATION,                          OrientationAnswered,     orientation,               {S.VISIT_REASON}),
    (S.VISIT_REASON,                         VisitReasonGiven,        visit_reason,              {S.MEASUREMENTS}),
    (MEASURING,                              StartMeasurement,        start_measurement,         {SAME}),
    (MEASURING,                              MeasurementTaken,        measurement_taken,         {SAME}),
    (MEASURING,                              MeasurementRejected,     measurement_rejected,      {SAME}),
    (S.MEASUREMENTS,                         SkipMeasurement,         skip,                      {SAME}),
    (S.MEASUREMENTS,                         MeasurementsDone,        measurements_done,         {S.WAITING_ROOM, S.DEGRADED}),
    (S.WAITING_ROOM,                         CallStarted,             call_started,              {S.CALL}),
    (S.CALL,                                 HangUp,                  hang_up,                   {S.END}),
    (S.CALL,                                 CallEnded,               call_ended,                {S.END}),
    (frozenset({S.CALL, S.END, S.DEGRADED}), DocumentReceived,        document,                  {SAME}),
    (S.END,                                  PaymentDone,             payment,                   {SAME}),
    (S.END,                                  Finish,                  finish,                    {S.TAKE_CARD, S.WIPE}),
    (S.TAKE_CARD,                            Finish,                  leave_card,                {S.WIPE}),
    (S.WIPE,                                 WipeDone,                wipe_done,                 {S.WELCOME}),
    # -- devices, platform and call (rule 8: the degraded path)
    (SESSION_STEPS - CLOSED - {S.MEASUREMENTS}, DeviceFailed,         device_failed,             {SAME}),
    (S.MEASUREMENTS,                         DeviceFailed,            device_failed,             {SAME, S.DEGRADED}),
    (SESSION_STEPS - {S.WAITING_ROOM},       PlatformUnreachable,     platform_unreachable,      {SAME}),
    (S.WAITING_ROOM,                         PlatformUnreachable,     platform_unreachable,      {S.DEGRADED}),
    (frozenset({S.WELCOME, S.WIPE}),         PlatformUnreachable,     platform_unreachable_idle, {SAME}),
    (STEPS,                                  PlatformReachable,       platform_reachable,        {SAME}),
    (S.WAITING_ROOM,                         CallMediaCheckFailed,    call_media_check_failed,   {S.DEGRADED}),
    (S.CALL,                                 CallDropped,             call_dropped,              {S.DEGRADED}),
    (S.DEGRADED,                             DegradedChoice,          degraded_choice,           {SAME, S.MEASUREMENTS, S.WAITING_ROOM, S.END}),
    (CLOSED,                                 DeviceFailed,            late_report,               {SAME}),
    (CLOSED,                                 CallEnded,               late_report,               {SAME}),
    (CLOSED,                                 CallDropped,             late_report,               {SAME}),
    (CLOSED,                                 MeasurementTaken,        late_report,               {SAME}),
    (CLOSED,                                 MeasurementRejected,     late_report,               {SAME}),
    # -- emergency (rule 9)
    ((PATIENT_FACING - {S.EMERGENCY_EXIT}) | {S.TAKE_CARD}, EmergencyDeclared, emergency_declared, {S.EMERGENCY_EXIT}),
    (S.EMERGENCY_EXIT,                       Finish,                  finish_emergency,          {S.TAKE_CARD, S.WIPE}),
    # -- stop (rule 5) and inactivity (rule 6)
    (PATIENT_FACING,                         StopRequested,           stop_requested,            {S.STOP_CONFIRM}),
    (S.STOP_CONFIRM,                         StopConfirmed,           stop_confirmed,            {S.TAKE_CARD, S.WIPE}),
    (S.STOP_CONFIRM,                         StopCancelled,           stop_cancelled,            {BACK}),
    (WARNING,                                StillHere,               still_here,                {BACK}),
    (frozenset({S.WELCOME, S.WIPE}),         Tick,                    tick,                      {SAME}),
    (S.TAKE_CARD,                            Tick,                    tick,                      {SAME, S.WIPE}),
    (WATCHED,                                Tick,                    tick,                      {SAME, WARNING, S.TAKE_CARD, S.WIPE}),
    (frozenset({S.MEASUREMENTS, S.WAITING_ROOM}), Tick,               tick,                      {SAME, S.DEGRADED, WARNING, S.TAKE_CARD, S.WIPE}),
    # -- the card (rules 4 and 7)
    (STEPS,                                  CardInserted,            card_inserted,             {SAME}),
    (STEPS - CARD_PAUSE_STEPS - {S.TAKE_CARD}, CardRemoved,           card_removed,              {SAME}),
    (CARD_PAUSE_STEPS,                       CardRemoved,             card_removed,              {SAME, S.CARD_REMOVED_PAUSE}),
    (S.TAKE_CARD,                            CardRemoved,             card_removed,              {S.WIPE}),
    (STEPS - CARD_PAUSE_STEPS,               CardIdentified,          card_identified,           {SAME}),
    (CARD_PAUSE_STEPS,                       CardIdentified,          card_identified,           {SAME, S.CARD_CHANGED}),
    (S.CARD_REMOVED_PAUSE,                   ContinueWithoutCard,     continue_without_card,     {BACK}),
    (S.CARD_REMOVED_PAUSE,                   StopConfirmed,           stop_confirmed,            {S.TAKE_CARD, S.WIPE}),
    (S.CARD_CHANGED,                         StopConfirmed,           start_again_with_new_card, {S.WIPE}),
)
# fmt: on

#: `(state, event type) → Transition(handler, next states)`, built from ROWS (duplicates refused).
TRANSITIONS: Mapping[tuple[State, type[Event]], Transition] = build(ROWS)
#: The same entries by state: `TABLE[state][event type]` is the handler.
TABLE: Mapping[State, Mapping[type[Event], Handler]] = {
    state: {e: tr.handler for (s, e), tr in TRANSITIONS.items() if s is state} for state in State
}


class SessionFlow:
    """Feed it events; it returns the effects to carry out and shows its state.

    Not thread-safe: the session controller calls it from the one event loop.
    """

    def __init__(self, settings: FlowSettings | None = None) -> None:
        self.settings = settings or FlowSettings()
        if self.settings.default_language not in self.settings.languages:
            raise DomainError("The default language must be one of the languages offered.")
        self._ctx = fresh(SessionContext(), self.settings)

    @classmethod
    def after_fault(cls, settings: FlowSettings, previous: SessionContext) -> SessionFlow:
        """A fresh flow on the welcome screen keeping the cabin's facts of `previous`.

        The network state and the card in the reader are the cabin's; a card
        that was in during the closed session is stale (asked to be taken,
        never read for the next patient).
        """
        flow = cls(settings)
        new = fresh(previous, flow.settings)
        in_session = previous.session_id is not None
        flow._ctx = replace(
            new, card_stale=previous.card_present and (in_session or new.card_stale)
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
        """Apply `event`; raise `IllegalTransition` (changing nothing) if it cannot happen.

        `UndeclaredTransition` (also changing nothing) means the handler went
        somewhere its row does not name: a fault of the flow itself.
        """
        ctx = self._ctx
        key = ctx.state if event.ORIGIN is Origin.PERSON else ctx.step
        transition = TRANSITIONS.get((key, type(event)))
        if transition is None:
            raise IllegalTransition(key, event)
        t = Txn(ctx, event, self.settings)
        transition.handler(t, event)
        new_screen = t.ctx.state is not ctx.state and t.ctx.state is not State.INACTIVITY_WARNING
        device_done = ctx.active_device is not None and t.ctx.active_device is None
        if (new_screen or device_done) and t.ctx.step is not State.WELCOME:
            t.set(idle_since=event.at)  # idle time restarts (rule 6)
        if event.ACTIVITY and ctx.step is not State.WIPE:
            t.set(last_activity_at=event.at)
            if State.INACTIVITY_WARNING in t.ctx.dialogs:
                t.pop(State.INACTIVITY_WARNING)
                t.set(warning_started_at=None)
        check_landing(transition, key, type(event), ctx, t.ctx)
        effects = _ordered(t, ctx)
        self._ctx = t.ctx
        return effects


def _ordered(t: Txn, before: SessionContext) -> list[Effect]:
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
