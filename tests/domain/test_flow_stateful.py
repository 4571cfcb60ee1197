"""Hypothesis drives the session flow with any sequence of events and checks the invariants.

After every step: no CALL without a confirmed identity and a granted
teleconsultation consent; no payment before the call ended; from any state,
stop (or the wipe in progress) leads to WIPE and then WELCOME, through
TAKE_CARD when the card is still in; only WIPE leads back to WELCOME; a
refused event leaves the context untouched; a stale card is never read; a
touch adds nothing to the trace; the inactivity warning never comes before
its idle limit counted from the last touch or the last new screen.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from app.domain.consent import ConsentChoice, ConsentDecision, ConsentItem
from app.domain.emergency import RedFlag
from app.domain.flow import IllegalTransition, SessionFlow
from app.domain.identity import IdentifierKind, InsOid, parse_nir, with_insi_result
from app.domain.measurements import (
    DeviceSource,
    ImplausibleReason,
    ManualSource,
    MeasurementKind,
    Quantity,
    make_measurement,
)
from app.domain.orientation import OrientationAnswers
from app.domain.session_context import PATIENT_FACING, State
from app.domain.session_effects import ReadCard
from app.domain.session_events import (
    Accessibility,
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
from app.domain.trace import TraceKind
from app.domain.visit_reason import VisitReason
from tests.domain.builders import LEO_NIR, MARIE_NIR, SETTINGS, T0, identity

KINDS = list(MeasurementKind)


def _decision(at: datetime, item: ConsentItem, choice: ConsentChoice) -> ConsentDecided:
    return ConsentDecided(at, ConsentDecision(item, choice, "c", "1", "0" * 64, "fr", at))


def _identities(n: int, test_oid: bool) -> tuple:  # type: ignore[type-arg]
    people = [identity(), identity(LEO_NIR)][:n]
    if test_oid and people:
        base = people[0]
        people[0] = with_insi_result(
            base, parse_nir(MARIE_NIR), IdentifierKind.NIR, InsOid.TEST, base.traits, T0
        )
    return tuple(people)


#: Events that move a patient along; drawn most often so that runs reach the call and the end.
FORWARD = frozenset(
    {
        Begin,
        EmergencyAnswered,
        InformationAcknowledged,
        IdentityObtained,
        BeneficiaryChosen,
        IdentityConfirmed,
        ConsentDecided,
        ConsentDone,
        OrientationAnswered,
        VisitReasonGiven,
        StartMeasurement,
        MeasurementTaken,
        MeasurementsDone,
        CallStarted,
        CallEnded,
        DocumentReceived,
        PaymentDone,
        Finish,
        WipeDone,
        StillHere,
        StopCancelled,
        ContinueWithoutCard,
        DegradedChoice,
    }
)


class SessionMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.flow = SessionFlow(SETTINGS)
        self.now = T0
        self.serial = 0
        self.accepted = 0

    def _factories(self, data: st.DataObject) -> dict[type[Event], Callable[[datetime], Event]]:
        d = data.draw
        self.serial += 1
        n = self.serial
        kind = d(st.sampled_from(KINDS))

        def measurement(at: datetime) -> MeasurementTaken:
            if kind is MeasurementKind.BLOOD_PRESSURE:
                values = {Quantity.SYSTOLIC: Decimal(125), Quantity.DIASTOLIC: Decimal(82)}
            else:
                q = {
                    MeasurementKind.BODY_TEMPERATURE: (Quantity.BODY_TEMPERATURE, "37.8"),
                    MeasurementKind.HEART_RATE: (Quantity.HEART_RATE, "88"),
                    MeasurementKind.SPO2: (Quantity.SPO2, "95"),
                }[kind]
                values = {q[0]: Decimal(q[1])}
            sources: list[DeviceSource | ManualSource] = [
                DeviceSource("dev-1"),
                ManualSource("nurse-2"),
            ]
            source = d(st.sampled_from(sources))
            return MeasurementTaken(at, make_measurement(f"m-{n}", kind, values, source, at))

        def identity_update(at: datetime) -> IdentityUpdated:
            current = self.flow.context.identity or identity()
            try:
                return IdentityUpdated(
                    at,
                    with_insi_result(
                        current,
                        parse_nir(MARIE_NIR),
                        IdentifierKind.NIR,
                        d(st.sampled_from([InsOid.NIR, InsOid.TEST])),
                        current.traits,
                        at,
                    ),
                )
            except Exception:  # already from INSi: send it unchanged
                return IdentityUpdated(at, current)

        return {
            Begin: lambda at: Begin(at, f"s-{n}"),
            EmergencyAnswered: lambda at: EmergencyAnswered(
                at, frozenset({RedFlag.CHEST_PAIN}) if d(st.integers(0, 9)) == 0 else frozenset()
            ),
            EmergencyDeclared: lambda at: EmergencyDeclared(at),
            InformationAcknowledged: InformationAcknowledged,
            IdentityObtained: lambda at: IdentityObtained(
                at,
                _identities(d(st.sampled_from([1, 1, 1, 2, 0])), d(st.integers(0, 9)) == 0),
                d(st.sampled_from(list(IdentitySource))),
                d(st.sampled_from([None, "assistant-7"])),
            ),
            IdentificationFailed: lambda at: IdentificationFailed(
                at, d(st.sampled_from(list(IdentificationProblem)))
            ),
            BeneficiaryChosen: lambda at: BeneficiaryChosen(at, d(st.integers(0, 2))),
            IdentityConfirmed: IdentityConfirmed,
            IdentityRejected: IdentityRejected,
            IdentityUpdated: identity_update,
            ConsentDecided: lambda at: _decision(
                at,
                d(st.sampled_from([ConsentItem.TELECONSULTATION] * 3 + list(ConsentItem))),
                d(st.sampled_from([ConsentChoice.GRANTED] * 4 + list(ConsentChoice))),
            ),
            ConsentDone: ConsentDone,
            OrientationAnswered: lambda at: OrientationAnswered(
                at, OrientationAnswers(has_medecin_traitant=d(st.sampled_from([True, False, None])))
            ),
            StartMeasurement: lambda at: StartMeasurement(at, kind),
            MeasurementTaken: measurement,
            MeasurementRejected: lambda at: MeasurementRejected(
                at, kind, ImplausibleReason.TOO_HIGH
            ),
            SkipMeasurement: lambda at: SkipMeasurement(at, kind),
            MeasurementsDone: MeasurementsDone,
            DeviceFailed: lambda at: DeviceFailed(at, kind, "dev-1"),
            PlatformUnreachable: PlatformUnreachable,
            PlatformReachable: PlatformReachable,
            DegradedChoice: lambda at: DegradedChoice(at, d(st.sampled_from(list(DegradedOption)))),
            CallStarted: lambda at: CallStarted(at, d(st.sampled_from(["10003456789", ""]))),
            CallEnded: CallEnded,
            CallDropped: CallDropped,
            CallMediaCheckFailed: lambda at: CallMediaCheckFailed(
                at, d(st.sampled_from([(), ("camera-unavailable",), ("no-audio", "speaker")]))
            ),
            HangUp: HangUp,
            DocumentReceived: lambda at: DocumentReceived(at, f"doc-{n % 3}", "report"),
            PaymentDone: lambda at: PaymentDone(at, f"pay-{n}"),
            Finish: Finish,
            StillHere: StillHere,
            StopRequested: StopRequested,
            StopConfirmed: StopConfirmed,
            StopCancelled: StopCancelled,
            ContinueWithoutCard: ContinueWithoutCard,
            CardInserted: CardInserted,
            CardRemoved: CardRemoved,
            CardIdentified: lambda at: CardIdentified(
                at, d(st.sampled_from(["card-A", "card-A", "card-B"]))
            ),
            Touched: Touched,
            VisitReasonGiven: lambda at: VisitReasonGiven(
                at,
                tuple(d(st.sets(st.sampled_from(list(VisitReason)), max_size=3))),
                d(st.sampled_from([None, "", "  mal au dos  ", "x" * 200])),
            ),
            Tick: Tick,
            WipeDone: WipeDone,
            ChooseLanguage: lambda at: ChooseLanguage(at, d(st.sampled_from(["fr", "en", "de"]))),
            SetAccessibility: lambda at: SetAccessibility(
                at, Accessibility(hearing_impaired=d(st.booleans()))
            ),
        }

    @rule(data=st.data())
    def feed(self, data: st.DataObject) -> None:
        self.now += timedelta(seconds=data.draw(st.sampled_from([0, 1, 1, 5, 5, 30, 61, 95])))
        factories = self._factories(data)
        accepted = [t for t in factories if t in self.flow.accepts()]
        forward = [t for t in accepted if t in FORWARD]
        tier = data.draw(st.integers(0, 9))
        if forward and tier < 7:
            pool = forward
        elif accepted and tier < 9:
            pool = accepted
        else:
            pool = list(factories)
        event = factories[data.draw(st.sampled_from(pool))](self.now)
        before = self.flow.context
        try:
            effects = self.flow.handle(event)
        except IllegalTransition as exc:
            assert self.flow.context is before, "a refused event changed the context"
            assert exc.state in (before.state, before.step)
            return
        after = self.flow.context
        self.accepted += 1
        if any(isinstance(e, ReadCard) for e in effects):
            assert after.card_present and not after.card_stale, "a stale card was read"
        if isinstance(event, Touched):
            assert after.trace == before.trace and after.step is before.step
            assert after.dialogs == tuple(
                d for d in before.dialogs if d is not State.INACTIVITY_WARNING
            )
        if isinstance(event, Tick) and after.state is State.INACTIVITY_WARNING:
            if before.state is not State.INACTIVITY_WARNING:
                origin = before.idle_origin()
                idle = (event.at - origin).total_seconds() if origin else 0.0
                limit = min(SETTINGS.inactivity_warning_s, SETTINGS.card_removed_grace_s)
                if before.step is State.END and not before.dialogs:
                    limit = SETTINGS.end_reading_s
                if before.step in (State.DEGRADED, State.EMERGENCY_EXIT) and not before.dialogs:
                    limit = SETTINGS.message_reading_s
                assert idle >= limit, "the warning came before the idle limit"
        if after.step is State.MEASUREMENTS and before.step is State.VISIT_REASON:
            assert after.visit_reason is not None
            assert after.visit_reason.text is None or after.visit_reason.text.strip()
        if after.step is State.WELCOME and before.step is not State.WELCOME:
            assert before.step is State.WIPE and isinstance(event, WipeDone)
        if isinstance(event, PaymentDone):
            assert before.call_ended_at is not None

    @invariant()
    def call_needs_identity_and_consent(self) -> None:
        ctx = self.flow.context
        if ctx.step is State.CALL or ctx.call_in_progress:
            assert ctx.identity is not None and ctx.identity_confirmed
            assert ctx.teleconsultation_granted

    @invariant()
    def no_payment_before_the_call_ended(self) -> None:
        ctx = self.flow.context
        if ctx.payment_reference is not None:
            assert ctx.call_started_at is not None and ctx.call_ended_at is not None
        kinds = [e.kind for e in ctx.trace]
        if TraceKind.PAYMENT in kinds:
            assert TraceKind.CALL_ENDED in kinds[: kinds.index(TraceKind.PAYMENT)]

    @invariant()
    def every_call_started_is_ended_before_the_wipe(self) -> None:
        """R.6316-4: the trace holds the start and the end of every call, in pairs."""
        open_call = False
        for entry in self.flow.context.trace:
            if entry.kind is TraceKind.CALL_STARTED:
                assert not open_call, "a call started while another was still open"
                open_call = True
            elif entry.kind is TraceKind.CALL_ENDED:
                assert open_call, "a call ended that never started"
                open_call = False
            elif entry.kind is TraceKind.WIPE:
                assert not open_call, "the session was wiped with a call still open"
        assert open_call == self.flow.context.call_in_progress

    @invariant()
    def every_path_ends_in_wipe_then_welcome(self) -> None:
        clone = SessionFlow(SETTINGS)
        clone._ctx = self.flow.context  # the context is immutable: sharing it is safe
        later = self.now + timedelta(seconds=1)
        if clone.state in PATIENT_FACING:
            clone.handle(StopRequested(later))
            assert clone.state is State.STOP_CONFIRM
            clone.handle(StopConfirmed(later))
        if clone.state is State.TAKE_CARD:
            assert clone.context.card_present
            clone.handle(CardRemoved(later))
        if clone.state is State.WIPE:
            clone.handle(WipeDone(later))
        assert clone.state is State.WELCOME
        assert clone.context.session_id is None and clone.context.trace == ()
        assert clone.context.identity is None and clone.context.visit_reason is None

    @invariant()
    def a_closing_session_with_the_card_in_asks_for_it(self) -> None:
        ctx = self.flow.context
        if ctx.step is State.TAKE_CARD:
            assert ctx.card_present and ctx.card_to_take and ctx.session_id is not None
        if ctx.step is State.WELCOME and ctx.card_stale:
            assert ctx.card_present and ctx.card_to_take

    @invariant()
    def a_card_changed_question_only_for_another_card(self) -> None:
        ctx = self.flow.context
        if State.CARD_CHANGED in ctx.dialogs:
            assert ctx.session_card is not None and ctx.reader_card != ctx.session_card

    @invariant()
    def abandon_always_possible_when_watched(self) -> None:
        ctx = self.flow.context
        if ctx.step in (State.WELCOME, State.WIPE) or ctx.state in (State.CALL, State.WAITING_ROOM):
            return
        clone = SessionFlow(SETTINGS)
        clone._ctx = ctx
        for seconds in (1_000, 2_000, 3_000, 4_000):
            clone.handle(Tick(self.now + timedelta(seconds=seconds)))
        if not (ctx.step is State.MEASUREMENTS and ctx.active_device and not ctx.dialogs):
            assert clone.state is State.WIPE

    @precondition(lambda self: self.flow.state is State.WIPE)
    @rule()
    def wipe_done(self) -> None:
        self.flow.handle(WipeDone(self.now))
        assert self.flow.state is State.WELCOME


TestSessionFlow = SessionMachine.TestCase
TestSessionFlow.settings = settings(
    max_examples=100,
    stateful_step_count=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
