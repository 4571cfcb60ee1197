"""Values and event sequences shared by the domain tests (real domain objects, no fakes)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from app.domain.consent import ConsentChoice, ConsentItem, ConsentText, decide
from app.domain.emergency import RedFlag
from app.domain.flow import SessionFlow
from app.domain.identity import (
    CollectionMethod,
    IdentityStatus,
    InsTraits,
    PatientIdentity,
    Sex,
    nir_key,
    parse_nir,
)
from app.domain.measurements import (
    DeviceSource,
    Measurement,
    MeasurementKind,
    Quantity,
    make_measurement,
)
from app.domain.mode import RunMode
from app.domain.orientation import OrientationAnswers
from app.domain.session_context import FlowSettings, State
from app.domain.session_events import (
    Begin,
    CallEnded,
    CallStarted,
    CardIdentified,
    CardInserted,
    CardRemoved,
    ConsentDecided,
    ConsentDone,
    DeviceFailed,
    EmergencyAnswered,
    Event,
    Finish,
    IdentityConfirmed,
    IdentityObtained,
    IdentitySource,
    InformationAcknowledged,
    MeasurementsDone,
    OrientationAnswered,
    StartMeasurement,
    StopConfirmed,
    StopRequested,
    Tick,
    VisitReasonGiven,
)
from app.domain.visit_reason import VisitReason

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def valid_nir_text(first_13: str) -> str:
    return first_13 + nir_key(first_13)


MARIE_NIR = valid_nir_text("2800575111001")
LEO_NIR = valid_nir_text("1150575111002")

SETTINGS = FlowSettings(
    mode=RunMode.PRODUCTION,
    languages=("fr", "en"),
    default_language="fr",
    inactivity_warning_s=60,
    inactivity_countdown_s=30,
    card_removed_grace_s=90,
)


def identity(
    nir: str = MARIE_NIR,
    status: IdentityStatus = IdentityStatus.PROV,
    method: CollectionMethod = CollectionMethod.CV,
    birth: date = date(1980, 5, 2),
    name: str = "DUPONT",
) -> PatientIdentity:
    return PatientIdentity(
        traits=InsTraits(name, ("Marie", "Jeanne"), birth, Sex.FEMALE),
        status=status,
        method=method,
        identifier=parse_nir(nir),
    )


TELE_TEXT = ConsentText("consent-tc", ConsentItem.TELECONSULTATION, "3", "fr", "J'accepte.")
SHARING_TEXT = ConsentText("consent-share", ConsentItem.DATA_SHARING, "1", "fr", "Partage.")


def grant(when: datetime, text: ConsentText = TELE_TEXT) -> ConsentDecided:
    return ConsentDecided(when, decide(text, ConsentChoice.GRANTED, when))


def temperature(mid: str = "m-1", value: str = "37.2", when: datetime = T0) -> Measurement:
    return make_measurement(
        mid,
        MeasurementKind.BODY_TEMPERATURE,
        {Quantity.BODY_TEMPERATURE: Decimal(value)},
        DeviceSource("thermo-1"),
        when,
    )


def happy_path(source: IdentitySource = IdentitySource.CARD) -> list[tuple[Event, State]]:
    """The way through, each event with the state it leads to."""
    return [
        (Begin(at(1), "session-1"), State.EMERGENCY_CHECK),
        (EmergencyAnswered(at(2)), State.INFORMATION),
        (InformationAcknowledged(at(3)), State.IDENTIFICATION),
        (
            IdentityObtained(
                at(4),
                (identity(),),
                source,
                "assistant-7" if source is IdentitySource.MANUAL else None,
            ),
            State.IDENTITY_CONFIRMATION,
        ),
        (IdentityConfirmed(at(5)), State.CONSENT),
        (grant(at(6)), State.CONSENT),
        (ConsentDone(at(7)), State.ORIENTATION),
        (OrientationAnswered(at(8), OrientationAnswers()), State.VISIT_REASON),
        (VisitReasonGiven(at(8.5), (VisitReason.FEVER,)), State.MEASUREMENTS),
        (MeasurementsDone(at(9)), State.WAITING_ROOM),
        (CallStarted(at(10), "10003456789"), State.CALL),
        (CallEnded(at(11)), State.END),
    ]


def way_to(target: State, source: IdentitySource = IdentitySource.CARD) -> list[Event]:
    """The events that bring a fresh flow to `target` (a step or a dialog)."""
    path = happy_path(source)
    if target is State.WELCOME:
        return []
    if target is State.BENEFICIARY_CHOICE:
        by = "assistant-7" if source is IdentitySource.MANUAL else None
        two = IdentityObtained(at(4), (identity(), identity(LEO_NIR)), source, by)
        return [e for e, _ in path[:3]] + [two]
    if target is State.EMERGENCY_EXIT:
        return [path[0][0], EmergencyAnswered(at(2), frozenset({RedFlag.CHEST_PAIN}))]
    if target is State.STOP_CONFIRM:
        return way_to(State.MEASUREMENTS, source) + [StopRequested(at(20))]
    if target is State.WIPE:
        closing = way_to(State.STOP_CONFIRM, source) + [StopConfirmed(at(21))]
        if source is IdentitySource.CARD:  # the card is still in: taken out, then the wipe
            closing.append(CardRemoved(at(21.5)))
        return closing
    if target is State.TAKE_CARD:
        return way_to(State.END, source) + [CardInserted(at(11.5)), Finish(at(12))]
    if target is State.CARD_CHANGED:
        to_measurements = way_to(State.MEASUREMENTS, IdentitySource.CARD)
        return [
            *to_measurements[:3],
            CardIdentified(at(3.5), "card-A"),
            *to_measurements[3:],
            CardRemoved(at(20)),
            CardInserted(at(21)),
            CardIdentified(at(22), "card-B"),
        ]
    if target is State.INACTIVITY_WARNING:
        return way_to(State.CONSENT, source) + [Tick(at(5 + 60))]
    if target is State.CARD_REMOVED_PAUSE:
        return way_to(State.MEASUREMENTS, source) + [CardRemoved(at(20))]
    if target is State.DEGRADED:
        return way_to(State.MEASUREMENTS, source) + [
            StartMeasurement(at(20), MeasurementKind.BODY_TEMPERATURE),
            DeviceFailed(at(21), MeasurementKind.BODY_TEMPERATURE, "thermo-1"),
        ]
    events: list[Event] = []
    for event, state in path:
        events.append(event)
        if state is target:
            return events
    raise AssertionError(f"no way to {target}")


def flow_at(
    target: State, source: IdentitySource = IdentitySource.CARD, settings: FlowSettings = SETTINGS
) -> SessionFlow:
    flow = SessionFlow(settings)
    for event in way_to(target, source):
        flow.handle(event)
    assert flow.state is target, (flow.state, target)
    return flow
