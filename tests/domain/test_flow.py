"""The session flow: the way through, guards, detours, and illegal events changing nothing."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from decimal import Decimal

import pytest

from app.domain.consent import ConsentChoice, decide
from app.domain.emergency import RedFlag
from app.domain.flow import CARD_PAUSE_STEPS, TABLE, IllegalTransition, SessionFlow
from app.domain.identity import IdentifierKind, IdentityStatus, InsOid, parse_nir, with_insi_result
from app.domain.measurements import (
    Component,
    DeviceSource,
    ImplausibleReason,
    ManualSource,
    Measurement,
    MeasurementKind,
    Quantity,
    make_measurement,
)
from app.domain.mode import RunMode
from app.domain.orientation import OrientationAnswers, Parcours
from app.domain.session_context import DIALOGS, PATIENT_FACING, FlowSettings, State
from app.domain.session_effects import (
    DegradedReason,
    EndCall,
    EndReason,
    OpenCall,
    QueryInsi,
    ShowDegraded,
    StartDevice,
    StopDevices,
    Wipe,
    WriteToStore,
)
from app.domain.session_events import (
    Accessibility,
    Begin,
    BeneficiaryChosen,
    CallDropped,
    CallEnded,
    CallStarted,
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
    EmergencyDeclared,
    Finish,
    HangUp,
    IdentificationFailed,
    IdentificationProblem,
    IdentityConfirmed,
    IdentityObtained,
    IdentityRejected,
    IdentitySource,
    IdentityUpdated,
    InvalidEvent,
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
    WipeDone,
)
from app.domain.trace import ActorKind, IncidentCode, TraceKind
from tests.domain.builders import (
    LEO_NIR,
    SETTINGS,
    TELE_TEXT,
    at,
    flow_at,
    grant,
    happy_path,
    identity,
    temperature,
    way_to,
)


def shown(flow: SessionFlow) -> State:
    """What is on screen now: a call, because mypy keeps `flow.state` narrowed across handle()."""
    return flow.state


def problem(flow: SessionFlow) -> IdentificationProblem | None:
    """The identification problem now (a call, for the same reason as `shown`)."""
    return flow.context.identification_problem


def kinds(flow: SessionFlow) -> list[TraceKind]:
    return [e.kind for e in flow.context.trace]


# --- the way through -----------------------------------------------------------------


def test_happy_path_states_and_trace() -> None:
    flow = SessionFlow(SETTINGS)
    for event, state in happy_path():
        flow.handle(event)
        assert flow.state is state
    assert kinds(flow) == [
        TraceKind.SESSION_STARTED,
        TraceKind.EMERGENCY_CHECK_DONE,
        TraceKind.INFORMATION_GIVEN,
        TraceKind.IDENTIFICATION,
        TraceKind.IDENTITY_CONFIRMED,
        TraceKind.CONSENT_GRANTED,
        TraceKind.ORIENTATION_ANSWERED,
        TraceKind.VISIT_REASON_GIVEN,
        TraceKind.CALL_STARTED,
        TraceKind.CALL_ENDED,
    ]
    call = flow.context.trace[8]
    assert (call.actor.kind, call.actor.id) == (ActorKind.DOCTOR, "10003456789")
    assert flow.context.orientation is not None
    assert flow.context.orientation.parcours is Parcours.OUTSIDE


def test_effects_of_each_step() -> None:
    flow = SessionFlow(SETTINGS)
    effects = [flow.handle(e) for e, _ in happy_path()]
    names = [[type(x).__name__ for x in eff] for eff in effects]
    assert names == [
        ["WriteToStore"],
        ["WriteToStore"],
        ["WriteToStore"],
        ["QueryInsi", "WriteToStore"],
        ["WriteToStore", "WriteToStore"],  # the identity, then the trace entry
        ["WriteToStore", "WriteToStore"],  # the consent decision, then the trace entry
        [],
        ["WriteToStore", "WriteToStore"],  # orientation result, trace
        ["WriteToStore", "WriteToStore"],  # the reason for the visit, trace
        ["OpenCall"],
        ["WriteToStore"],
        ["WriteToStore"],
    ]
    assert effects[3][0] == QueryInsi()
    assert effects[4][0] == WriteToStore("session-1", flow.context.identity)  # type: ignore[arg-type]
    assert effects[8][0] == WriteToStore("session-1", flow.context.visit_reason)  # type: ignore[arg-type]
    assert effects[9] == [OpenCall()]


def test_payment_after_the_call_then_finish_wipes_and_welcome_is_clean() -> None:
    flow = flow_at(State.END)
    effects = flow.handle(PaymentDone(at(12), "pay-1"))
    assert [type(e).__name__ for e in effects] == ["WriteToStore", "WriteToStore"]
    assert flow.context.payment_reference == "pay-1"
    assert flow.handle(Finish(at(13))) == []  # the card is still in: asked for first
    assert flow.state is State.TAKE_CARD
    effects = flow.handle(CardRemoved(at(13.5)))
    assert effects[-1] == Wipe("session-1", EndReason.COMPLETED)
    assert isinstance(effects[-2], WriteToStore)
    assert effects[-2].fact.kind is TraceKind.WIPE  # type: ignore[union-attr]
    assert shown(flow) is State.WIPE
    assert flow.handle(WipeDone(at(14))) == []
    assert shown(flow) is State.WELCOME
    assert flow.context.session_id is None
    assert flow.context.identity is None
    assert flow.context.trace == ()
    assert flow.context.measurements == ()


def test_second_payment_refused() -> None:
    flow = flow_at(State.END)
    flow.handle(PaymentDone(at(12), "pay-1"))
    with pytest.raises(IllegalTransition, match="already been paid"):
        flow.handle(PaymentDone(at(13), "pay-2"))


def test_beneficiary_choice() -> None:
    flow = flow_at(State.BENEFICIARY_CHOICE)
    with pytest.raises(IllegalTransition) as caught:
        flow.handle(BeneficiaryChosen(at(5), 2))
    assert str(caught.value) == (
        "BeneficiaryChosen cannot happen in state BENEFICIARY_CHOICE: there is no beneficiary number 2"
    )
    assert flow.handle(BeneficiaryChosen(at(5), 1)) == [QueryInsi()]
    assert flow.state is State.IDENTITY_CONFIRMATION
    assert flow.context.identity is not None
    assert flow.context.identity.identifier == parse_nir(LEO_NIR)


def test_identity_rejected_goes_back_to_identification() -> None:
    flow = flow_at(State.IDENTITY_CONFIRMATION)
    flow.handle(IdentityRejected(at(5)))
    assert flow.state is State.IDENTIFICATION
    assert flow.context.identity is None
    assert flow.context.identification_problem is IdentificationProblem.NOT_RECOGNISED
    assert kinds(flow)[-1] is TraceKind.IDENTITY_REFUSED


def test_identification_problems_keep_the_patient_on_the_screen() -> None:
    flow = flow_at(State.IDENTIFICATION)
    flow.handle(IdentificationFailed(at(4), IdentificationProblem.CARD_UNREADABLE))
    assert flow.state is State.IDENTIFICATION
    assert flow.context.trace[-1].incident is IncidentCode.CARD_ERROR
    flow.handle(IdentificationFailed(at(5), IdentificationProblem.QR_INVALID))
    assert flow.context.identification_problem is IdentificationProblem.QR_INVALID
    assert flow.context.trace[-1].incident is IncidentCode.CARD_ERROR  # no new incident
    flow.handle(IdentityObtained(at(6), (), IdentitySource.CARD))
    assert problem(flow) is IdentificationProblem.NO_BENEFICIARY
    with pytest.raises(IllegalTransition, match="manual entry needs the professional"):
        flow.handle(IdentityObtained(at(7), (identity(),), IdentitySource.MANUAL))


def test_manual_identification_traces_the_assistant() -> None:
    flow = flow_at(State.IDENTITY_CONFIRMATION, IdentitySource.MANUAL)
    entry = flow.context.trace[-1]
    assert (entry.kind, entry.actor.kind, entry.actor.id, entry.subject) == (
        TraceKind.IDENTIFICATION,
        ActorKind.ASSISTANT,
        "assistant-7",
        "manual",
    )
    assert not flow.context.card_present


def test_test_identity_refused_in_production_and_accepted_in_test_mode() -> None:
    base = identity()
    demo = with_insi_result(
        base, parse_nir(LEO_NIR), IdentifierKind.NIR, InsOid.DEMO, base.traits, at(0)
    )
    flow = flow_at(State.IDENTIFICATION)
    flow.handle(IdentityObtained(at(4), (demo,), IdentitySource.QR))
    assert flow.state is State.IDENTIFICATION
    assert flow.context.identification_problem is IdentificationProblem.TEST_IDENTITY_IN_PRODUCTION
    assert flow.context.trace[-1].incident is IncidentCode.IDENTITY_REFUSED_IN_PRODUCTION
    test_flow = flow_at(State.IDENTIFICATION, settings=replace(SETTINGS, mode=RunMode.TEST))
    assert test_flow.handle(IdentityObtained(at(4), (demo,), IdentitySource.QR)) == [
        test_flow.context.trace and WriteToStore("session-1", test_flow.context.trace[-1])
    ]
    assert test_flow.state is State.IDENTITY_CONFIRMATION  # RECUP: no INSi query


def test_identity_updated_by_insi_is_stored_once_confirmed() -> None:
    flow = flow_at(State.CONSENT)
    base = flow.context.identity
    assert base is not None and base.identifier is not None
    recup = with_insi_result(
        base, parse_nir(base.identifier.value), IdentifierKind.NIR, InsOid.NIR, base.traits, at(6)
    )
    effects = flow.handle(IdentityUpdated(at(6), recup))
    assert effects[0] == WriteToStore("session-1", recup)
    assert flow.context.identity is recup
    assert flow.context.trace[-1].subject == IdentityStatus.RECUP.value
    demo = replace(recup, ins_oid=InsOid.TEST)
    flow.handle(IdentityUpdated(at(7), demo))
    assert flow.context.identity is recup
    assert flow.context.trace[-1].incident is IncidentCode.IDENTITY_REFUSED_IN_PRODUCTION


def test_identity_update_before_confirmation_is_not_stored() -> None:
    flow = flow_at(State.IDENTITY_CONFIRMATION)
    base = flow.context.identity
    assert base is not None and base.identifier is not None
    recup = with_insi_result(
        base, base.identifier, IdentifierKind.NIR, InsOid.NIR, base.traits, at(5)
    )
    assert [type(e) for e in flow.handle(IdentityUpdated(at(5), recup))] == [
        WriteToStore
    ]  # trace only


# --- consent and the call guards ------------------------------------------------------


def test_consent_refusal_is_recorded_and_blocks_the_call() -> None:
    flow = flow_at(State.CONSENT)
    refusal = ConsentDecided(at(6), decide(TELE_TEXT, ConsentChoice.REFUSED, at(6)))
    effects = flow.handle(refusal)
    assert effects[0] == WriteToStore("session-1", refusal.decision)
    assert kinds(flow)[-1] is TraceKind.CONSENT_REFUSED
    assert flow.context.trace[-1].subject == "teleconsultation"
    flow.handle(ConsentDone(at(7)))
    assert flow.state is State.END
    assert flow.context.call_started_at is None
    before = flow.context
    with pytest.raises(IllegalTransition) as caught:
        flow.handle(PaymentDone(at(8), "pay"))
    assert str(caught.value) == (
        "PaymentDone cannot happen in state END: payment comes only after the consultation has ended"
    )
    assert flow.context is before
    with pytest.raises(IllegalTransition, match="documents come from a doctor's call"):
        flow.handle(DocumentReceived(at(8), "doc-1", "report"))


def test_withdrawal_needs_a_grant() -> None:
    flow = flow_at(State.CONSENT)
    with pytest.raises(IllegalTransition, match="only be withdrawn after it was given"):
        flow.handle(
            ConsentDecided(
                at(6),
                replace(
                    decide(TELE_TEXT, ConsentChoice.GRANTED, at(6)), choice=ConsentChoice.WITHDRAWN
                ),
            )
        )


def test_withdrawal_during_the_call_ends_it() -> None:
    flow = flow_at(State.CALL)
    granted = flow.context.consents
    withdrawal = decide(TELE_TEXT, ConsentChoice.WITHDRAWN, at(20), granted)
    effects = flow.handle(ConsentDecided(at(20), withdrawal))
    assert EndCall() in effects
    assert flow.state is State.END
    assert flow.context.call_ended_at == at(20)
    assert kinds(flow)[-2:] == [TraceKind.CONSENT_WITHDRAWN, TraceKind.CALL_ENDED]


def test_withdrawal_before_the_call_goes_to_the_end_without_call() -> None:
    flow = flow_at(State.MEASUREMENTS)
    flow.handle(StartMeasurement(at(9), MeasurementKind.SPO2))
    withdrawal = decide(TELE_TEXT, ConsentChoice.WITHDRAWN, at(10), flow.context.consents)
    effects = flow.handle(ConsentDecided(at(10), withdrawal))
    assert StopDevices() in effects and EndCall() not in effects
    assert flow.state is State.END


def test_optional_consent_later_changes_nothing_else() -> None:
    flow = flow_at(State.ORIENTATION)
    from tests.domain.builders import SHARING_TEXT

    flow.handle(grant(at(8), SHARING_TEXT))
    assert flow.state is State.ORIENTATION


def test_call_cannot_start_before_the_waiting_room() -> None:
    for state in (State.CONSENT, State.ORIENTATION, State.MEASUREMENTS):
        flow = flow_at(state)
        before = flow.context
        with pytest.raises(IllegalTransition):
            flow.handle(CallStarted(at(30), "10003456789"))
        assert flow.context is before


def test_call_needs_an_rpps() -> None:
    flow = flow_at(State.WAITING_ROOM)
    with pytest.raises(IllegalTransition, match="RPPS"):
        flow.handle(CallStarted(at(30), ""))


def test_hang_up_and_documents() -> None:
    flow = flow_at(State.CALL)
    flow.handle(DocumentReceived(at(12), "doc-1", "prescription"))
    with pytest.raises(IllegalTransition, match="new id"):
        flow.handle(DocumentReceived(at(12), "doc-1", "prescription"))
    assert flow.handle(HangUp(at(13)))[0] == EndCall()
    assert flow.state is State.END
    flow.handle(DocumentReceived(at(14), "doc-2", "report"))
    assert flow.context.documents == ("doc-1", "doc-2")
    assert kinds(flow)[-3:] == [
        TraceKind.DOCUMENT_RECEIVED,
        TraceKind.CALL_ENDED,
        TraceKind.DOCUMENT_RECEIVED,
    ]


# --- measurements ----------------------------------------------------------------------


def test_measurements_device_manual_skip_rejected() -> None:
    flow = flow_at(State.MEASUREMENTS)
    assert flow.handle(StartMeasurement(at(9), MeasurementKind.BODY_TEMPERATURE)) == [
        StartDevice(MeasurementKind.BODY_TEMPERATURE)
    ]
    assert flow.handle(StartMeasurement(at(9), MeasurementKind.SPO2)) == [
        StopDevices(),
        StartDevice(MeasurementKind.SPO2),
    ]
    flow.handle(MeasurementRejected(at(10), MeasurementKind.SPO2, ImplausibleReason.TOO_LOW))
    assert flow.context.active_device is None
    assert flow.context.trace[-1].subject == "spo2:too-low"
    m = temperature("m-1", "38.5", at(11))
    flow.handle(MeasurementTaken(at(11), m))
    with pytest.raises(IllegalTransition, match="already recorded"):
        flow.handle(MeasurementTaken(at(12), m))
    manual = make_measurement(
        "m-2",
        MeasurementKind.HEART_RATE,
        {Quantity.HEART_RATE: Decimal(80)},
        ManualSource("nurse-2"),
        at(12),
    )
    flow.handle(MeasurementTaken(at(12), manual))
    assert (flow.context.trace[-1].actor.kind, flow.context.trace[-1].actor.id) == (
        ActorKind.ASSISTANT,
        "nurse-2",
    )
    flow.handle(SkipMeasurement(at(13), MeasurementKind.BLOOD_PRESSURE))
    assert flow.context.skipped == {MeasurementKind.BLOOD_PRESSURE}
    assert [x.id for x in flow.context.measurements] == ["m-1", "m-2"]
    entries = [e for e in flow.context.trace if e.kind is TraceKind.MEASUREMENT_TAKEN]
    assert [e.subject for e in entries] == ["m-1", "m-2"]
    assert all("38.5" not in repr(e) for e in flow.context.trace)


def test_skip_stops_the_active_device() -> None:
    flow = flow_at(State.MEASUREMENTS)
    flow.handle(StartMeasurement(at(9), MeasurementKind.SPO2))
    assert flow.handle(SkipMeasurement(at(10), MeasurementKind.SPO2))[0] == StopDevices()


def test_implausible_measurement_event_refused_and_nothing_changes() -> None:
    flow = flow_at(State.MEASUREMENTS)
    bad = Measurement(
        "m-9",
        MeasurementKind.BODY_TEMPERATURE,
        (Component(Quantity.BODY_TEMPERATURE, Decimal("12"), "Cel"),),
        DeviceSource("thermo-1"),
        at(9),
    )
    before = flow.context
    with pytest.raises(IllegalTransition, match="below what can be measured"):
        flow.handle(MeasurementTaken(at(9), bad))
    assert flow.context is before


def test_measurement_during_the_call() -> None:
    flow = flow_at(State.CALL)
    assert flow.handle(StartMeasurement(at(12), MeasurementKind.SPO2)) == [
        StartDevice(MeasurementKind.SPO2)
    ]
    effects = flow.handle(DeviceFailed(at(13), MeasurementKind.SPO2, "oxi-1"))
    assert effects[0] == StopDevices()
    assert flow.state is State.CALL  # the call is not interrupted
    assert flow.context.trace[-1].incident is IncidentCode.DEVICE_FAILED


# --- degraded path -----------------------------------------------------------------------


def test_device_failure_offers_retry_manual_skip() -> None:
    flow = flow_at(State.DEGRADED)
    assert flow.context.degraded is not None
    assert flow.context.degraded.reason is DegradedReason.DEVICE_FAILED
    with pytest.raises(IllegalTransition, match="'finish' is not offered for device-failed"):
        flow.handle(DegradedChoice(at(22), DegradedOption.FINISH))
    flow.handle(DegradedChoice(at(22), DegradedOption.MANUAL_ENTRY))
    assert flow.state is State.MEASUREMENTS
    assert flow.context.manual_entry_for is MeasurementKind.BODY_TEMPERATURE

    flow = flow_at(State.DEGRADED)
    assert flow.handle(DegradedChoice(at(22), DegradedOption.RETRY)) == [
        StartDevice(MeasurementKind.BODY_TEMPERATURE)
    ]
    flow = flow_at(State.DEGRADED)
    flow.handle(DegradedChoice(at(22), DegradedOption.SKIP))
    assert flow.context.skipped == {MeasurementKind.BODY_TEMPERATURE}


def test_device_failure_effects() -> None:
    flow = flow_at(State.MEASUREMENTS)
    flow.handle(StartMeasurement(at(20), MeasurementKind.BODY_TEMPERATURE))
    effects = flow.handle(DeviceFailed(at(21), MeasurementKind.BODY_TEMPERATURE, "thermo-1"))
    assert effects[:2] == [
        StopDevices(),
        ShowDegraded(
            DegradedReason.DEVICE_FAILED,
            (DegradedOption.RETRY, DegradedOption.MANUAL_ENTRY, DegradedOption.SKIP),
        ),
    ]


def test_idle_device_failure_is_only_traced() -> None:
    flow = flow_at(State.INFORMATION)
    flow.handle(DeviceFailed(at(3), MeasurementKind.SPO2, "oxi-1"))
    assert flow.state is State.INFORMATION
    assert flow.context.trace[-1].subject == "oxi-1"


def test_platform_unreachable_before_the_call_then_finish_without_call() -> None:
    flow = flow_at(State.ORIENTATION)
    flow.handle(PlatformUnreachable(at(8)))
    flow.handle(PlatformUnreachable(at(8)))
    assert flow.state is State.ORIENTATION
    assert [e.incident for e in flow.context.trace if e.incident] == [
        IncidentCode.PLATFORM_UNREACHABLE
    ]
    flow.handle(happy_path()[7][0])
    flow.handle(happy_path()[8][0])
    flow.handle(MeasurementsDone(at(9)))
    assert shown(flow) is State.DEGRADED
    degraded = flow.context.degraded
    assert degraded is not None and degraded.reason is DegradedReason.PLATFORM_UNREACHABLE
    flow.handle(DegradedChoice(at(10), DegradedOption.FINISH))
    assert shown(flow) is State.END
    with pytest.raises(IllegalTransition):
        flow.handle(PaymentDone(at(11), "p"))


def test_platform_unreachable_in_waiting_room_then_retry() -> None:
    flow = flow_at(State.WAITING_ROOM)
    effects = flow.handle(PlatformUnreachable(at(10)))
    assert effects[0] == EndCall()
    assert flow.state is State.DEGRADED
    assert flow.handle(DegradedChoice(at(11), DegradedOption.RETRY)) == [OpenCall()]
    assert shown(flow) is State.WAITING_ROOM
    flow.handle(PlatformReachable(at(12)))
    assert flow.context.platform_reachable


def test_platform_unreachable_during_call_does_not_interrupt() -> None:
    flow = flow_at(State.CALL)
    flow.handle(PlatformUnreachable(at(12)))
    assert flow.state is State.CALL


def test_call_dropped_then_retry_then_new_call() -> None:
    flow = flow_at(State.CALL)
    flow.handle(CallDropped(at(12)))
    assert flow.state is State.DEGRADED
    assert flow.context.call_ended_at == at(12)
    flow.handle(DegradedChoice(at(13), DegradedOption.RETRY))
    assert shown(flow) is State.WAITING_ROOM
    flow.handle(CallStarted(at(14), "10003456789"))
    assert flow.context.call_ended_at is None
    flow.handle(CallEnded(at(15)))
    flow.handle(PaymentDone(at(16), "p"))
    assert flow.context.payment_reference == "p"
    calls = [
        (e.kind, e.at, e.subject)
        for e in flow.context.trace
        if e.kind in (TraceKind.CALL_STARTED, TraceKind.CALL_ENDED)
    ]
    first_start = calls[0][1]
    assert calls == [
        (TraceKind.CALL_STARTED, first_start, None),
        (TraceKind.CALL_ENDED, at(12), "dropped"),
        (TraceKind.CALL_STARTED, at(14), None),
        (TraceKind.CALL_ENDED, at(15), None),
    ]
    assert first_start < at(12)


def test_a_dropped_call_is_ended_in_the_trace_before_its_incident() -> None:
    flow = flow_at(State.CALL)
    flow.handle(CallDropped(at(12)))
    tail = [(e.kind, e.subject, e.incident) for e in flow.context.trace][-2:]
    assert tail == [
        (TraceKind.CALL_ENDED, "dropped", None),
        (TraceKind.INCIDENT, None, IncidentCode.CALL_DROPPED),
    ]


def test_call_dropped_then_finish() -> None:
    flow = flow_at(State.CALL)
    flow.handle(CallDropped(at(12)))
    flow.handle(DocumentReceived(at(12), "doc-1", "report"))
    flow.handle(DegradedChoice(at(13), DegradedOption.FINISH))
    assert flow.state is State.END


# --- emergency -----------------------------------------------------------------------------


def test_red_flag_ends_with_numbers() -> None:
    flow = flow_at(State.EMERGENCY_EXIT)
    assert [n.number for n in flow.context.emergency_numbers] == ["15", "112"]
    assert flow.context.end_reason is EndReason.EMERGENCY
    effects = flow.handle(Finish(at(3)))
    assert effects[-1] == Wipe("session-1", EndReason.EMERGENCY)


def test_urgent_help_during_the_call_ends_it_and_uses_accessibility() -> None:
    flow = flow_at(State.CALL)
    flow.handle(SetAccessibility(at(12), Accessibility(hearing_impaired=True)))
    flow.handle(StartMeasurement(at(12), MeasurementKind.SPO2))
    effects = flow.handle(EmergencyDeclared(at(13), frozenset({RedFlag.SUICIDAL_THOUGHTS})))
    assert effects[:2] == [StopDevices(), EndCall()]
    assert [n.number for n in flow.context.emergency_numbers] == ["114", "3114", "15", "112"]
    assert flow.state is State.EMERGENCY_EXIT


@pytest.mark.parametrize("state", sorted(PATIENT_FACING - {State.EMERGENCY_EXIT}))
def test_urgent_help_from_every_screen(state: State) -> None:
    flow = flow_at(state)
    flow.handle(EmergencyDeclared(at(40)))
    assert flow.state is State.EMERGENCY_EXIT
    assert flow.context.dialogs == ()


# --- stop ---------------------------------------------------------------------------------


@pytest.mark.parametrize("state", sorted(PATIENT_FACING))
def test_stop_from_every_patient_facing_state(state: State) -> None:
    flow = flow_at(state)
    flow.handle(StopRequested(at(40)))
    assert flow.state is State.STOP_CONFIRM
    before = flow.context
    effects = flow.handle(StopConfirmed(at(41)))
    assert (EndCall() in effects) == (flow_at(state).context.call_in_progress)
    if shown(flow) is State.TAKE_CARD:  # the card is asked for before the wipe
        assert before.card_present and State.CARD_CHANGED not in before.dialogs
        assert not any(isinstance(e, Wipe) for e in effects)
        effects = flow.handle(CardRemoved(at(41.5)))
    assert shown(flow) is State.WIPE
    assert effects[-1] == Wipe("session-1", EndReason.STOPPED)
    flow.handle(WipeDone(at(42)))
    assert shown(flow) is State.WELCOME


@pytest.mark.parametrize("state", sorted(PATIENT_FACING - DIALOGS))
def test_stop_cancelled_returns_to_the_same_screen(state: State) -> None:
    flow = flow_at(state)
    flow.handle(StopRequested(at(40)))
    flow.handle(StopRequested(at(40)))  # a double tap changes nothing
    assert flow.context.dialogs == (State.STOP_CONFIRM,)
    flow.handle(StopCancelled(at(41)))
    assert flow.state is state


def test_stop_traced_before_wipe() -> None:
    flow = flow_at(State.CALL)
    flow.handle(StopRequested(at(40)))
    flow.handle(StopConfirmed(at(41)))
    assert kinds(flow)[-2:] == [TraceKind.CALL_ENDED, TraceKind.STOP]
    flow.handle(CardRemoved(at(42)))
    assert kinds(flow)[-3:] == [TraceKind.CALL_ENDED, TraceKind.STOP, TraceKind.WIPE]
    assert flow.context.trace[-1].subject == "stopped"


# --- inactivity ------------------------------------------------------------------------------


def test_warning_then_still_here() -> None:
    flow = flow_at(State.CONSENT)  # last activity at(5)
    flow.handle(Tick(at(64)))
    assert flow.state is State.CONSENT
    flow.handle(Tick(at(65)))
    assert shown(flow) is State.INACTIVITY_WARNING
    assert flow.context.warning_deadline(SETTINGS) == at(95)
    flow.handle(StillHere(at(70)))
    assert flow.state is State.CONSENT
    assert flow.context.warning_deadline(SETTINGS) is None
    flow.handle(Tick(at(129)))
    assert flow.state is State.CONSENT


def test_countdown_runs_out_abandon_and_wipe() -> None:
    flow = flow_at(State.INACTIVITY_WARNING)
    flow.handle(Tick(at(94)))
    assert flow.state is State.INACTIVITY_WARNING
    effects = flow.handle(Tick(at(95)))
    assert shown(flow) is State.TAKE_CARD  # the card is still in: asked for, for a while
    assert kinds(flow)[-1] is TraceKind.ABANDON
    assert flow.context.take_card_deadline(SETTINGS) == at(95 + SETTINGS.take_card_s)
    assert flow.handle(Tick(at(95 + SETTINGS.take_card_s - 1))) == []
    effects = flow.handle(Tick(at(95 + SETTINGS.take_card_s)))
    assert shown(flow) is State.WIPE
    assert effects[-1] == Wipe("session-1", EndReason.ABANDONED)
    assert kinds(flow)[-3:] == [TraceKind.ABANDON, TraceKind.INCIDENT, TraceKind.WIPE]
    assert flow.context.trace[-2].incident is IncidentCode.CARD_LEFT_IN_READER
    flow.handle(WipeDone(at(200)))
    assert flow.context.card_stale and flow.context.card_to_take


def test_warning_refuses_screen_events_but_accepts_readings() -> None:
    flow = flow_at(State.INACTIVITY_WARNING)
    with pytest.raises(IllegalTransition) as caught:
        flow.handle(ConsentDone(at(70)))
    assert str(caught.value) == "ConsentDone cannot happen in state INACTIVITY_WARNING."
    flow.handle(StopRequested(at(71)))
    assert flow.context.dialogs == (State.STOP_CONFIRM,)


def test_no_warning_during_call_or_waiting_room_or_measuring() -> None:
    for state, later in ((State.WAITING_ROOM, 1_000), (State.CALL, 10_000)):
        flow = flow_at(state)
        flow.handle(Tick(at(later)))
        assert flow.state is state
    flow = flow_at(State.MEASUREMENTS)
    flow.handle(StartMeasurement(at(9), MeasurementKind.BLOOD_PRESSURE))
    flow.handle(Tick(at(9 + SETTINGS.measure_max_s - 1)))  # long past the idle limit
    assert flow.state is State.MEASUREMENTS
    m = make_measurement(
        "bp-1",
        MeasurementKind.BLOOD_PRESSURE,
        {Quantity.SYSTOLIC: Decimal(120), Quantity.DIASTOLIC: Decimal(80)},
        DeviceSource("tensio-1"),
        at(700),
    )
    flow.handle(MeasurementTaken(at(700), m))
    flow.handle(Tick(at(760)))
    assert shown(flow) is State.INACTIVITY_WARNING


def test_reading_during_warning_is_kept_and_closes_it() -> None:
    flow = flow_at(State.MEASUREMENTS)  # shown at(8.5)
    flow.handle(Tick(at(8.5 + 60)))
    assert flow.state is State.INACTIVITY_WARNING
    flow.handle(MeasurementTaken(at(70), temperature("m-1", "37", at(70))))
    assert shown(flow) is State.MEASUREMENTS
    assert len(flow.context.measurements) == 1


def test_welcome_choices_reset_for_the_next_person() -> None:
    flow = SessionFlow(SETTINGS)
    flow.handle(ChooseLanguage(at(0), "en"))
    flow.handle(SetAccessibility(at(1), Accessibility(large_text=True)))
    flow.handle(Tick(at(60)))
    assert flow.context.language == "en"
    flow.handle(Tick(at(61)))
    assert flow.context.language == "fr"
    assert flow.context.accessibility == Accessibility()
    flow.handle(Tick(at(200)))
    assert flow.state is State.WELCOME


def test_language_not_offered_is_refused() -> None:
    flow = flow_at(State.INFORMATION)
    with pytest.raises(IllegalTransition, match="'de' is not offered"):
        flow.handle(ChooseLanguage(at(3), "de"))
    flow.handle(ChooseLanguage(at(3), "en"))
    assert flow.context.language == "en"


# --- card pulled out ---------------------------------------------------------------------------


@pytest.mark.parametrize("state", sorted(State))
@pytest.mark.parametrize("source", [IdentitySource.CARD, IdentitySource.MANUAL])
def test_card_pulled_out_in_every_state(state: State, source: IdentitySource) -> None:
    if state in (State.CARD_REMOVED_PAUSE, State.CARD_CHANGED):
        source = IdentitySource.CARD  # these exist only for an identity read from the card
    flow = flow_at(state, source)
    before = flow.context
    flow.handle(CardRemoved(at(50)))
    after = flow.context
    assert not after.card_present
    pauses = (
        before.step in CARD_PAUSE_STEPS
        and source is IdentitySource.CARD
        and State.STOP_CONFIRM not in before.dialogs
        and State.CARD_REMOVED_PAUSE not in before.dialogs
    )
    if state is State.TAKE_CARD:  # the card asked for is taken: the session is wiped
        assert flow.state is State.WIPE
        assert after.trace[-1].kind is TraceKind.WIPE
        return
    if pauses:
        assert flow.state is State.CARD_REMOVED_PAUSE
        assert after.dialogs[-1] is State.CARD_REMOVED_PAUSE
        assert after.trace[-1].incident is IncidentCode.CARD_REMOVED
    else:
        # a card pulled out proves someone is there: an inactivity warning closes
        expected = state if state is not State.INACTIVITY_WARNING else before.step
        assert flow.state is expected
        assert after.trace == before.trace
    # nothing else about the patient changed
    for name in ("step", "identity", "consents", "measurements", "session_id", "call_started_at"):
        assert getattr(after, name) == getattr(before, name), name
    # and the flow goes on: the card comes back
    flow.handle(CardInserted(at(51)))
    assert flow.context.card_present
    assert State.CARD_REMOVED_PAUSE not in flow.context.dialogs


def test_card_pause_answers() -> None:
    flow = flow_at(State.CARD_REMOVED_PAUSE)
    flow.handle(ContinueWithoutCard(at(21)))
    assert flow.state is State.MEASUREMENTS
    flow = flow_at(State.CARD_REMOVED_PAUSE)
    flow.handle(StopConfirmed(at(21)))
    assert flow.state is State.WIPE
    flow = flow_at(State.CARD_REMOVED_PAUSE)
    flow.handle(StopRequested(at(21)))
    flow.handle(StopCancelled(at(22)))
    assert flow.state is State.CARD_REMOVED_PAUSE


def test_card_pause_waits_the_grace_then_asks_are_you_there() -> None:
    flow = flow_at(State.CARD_REMOVED_PAUSE)  # card removed at(20)
    flow.handle(Tick(at(20 + 89)))
    assert flow.state is State.CARD_REMOVED_PAUSE
    flow.handle(Tick(at(20 + 90)))
    assert shown(flow) is State.INACTIVITY_WARNING
    flow.handle(Tick(at(20 + 120)))
    assert shown(flow) is State.WIPE


# --- illegal events change nothing ----------------------------------------------------------------


def _an_illegal_event(state: State) -> object:
    return Begin(at(60), "other") if state is not State.WELCOME else HangUp(at(60))


@pytest.mark.parametrize("state", sorted(State))
def test_illegal_event_raises_and_changes_nothing(state: State) -> None:
    flow = flow_at(state)
    before_ctx, before_state, before_step = flow.context, flow.state, flow.step
    event = _an_illegal_event(state)
    with pytest.raises(IllegalTransition) as caught:
        flow.handle(event)  # type: ignore[arg-type]
    assert caught.value.state is state
    assert caught.value.event_name == type(event).__name__
    assert str(caught.value) == f"{type(event).__name__} cannot happen in state {state.name}."
    assert flow.context is before_ctx
    assert (flow.state, flow.step) == (before_state, before_step)


def test_late_reports_after_wipe_are_ignored() -> None:
    flow = flow_at(State.WIPE)
    before = flow.context
    for event in (
        CallEnded(at(60)),
        CallDropped(at(60)),
        DeviceFailed(at(60), MeasurementKind.SPO2, "oxi-1"),
        MeasurementTaken(at(60), temperature()),
        MeasurementRejected(at(60), MeasurementKind.SPO2, ImplausibleReason.TOO_LOW),
        Tick(at(60)),
    ):
        assert flow.handle(event) == []
    assert flow.context == before
    flow.handle(PlatformUnreachable(at(61)))
    assert not flow.context.platform_reachable
    flow.handle(WipeDone(at(62)))
    assert not flow.context.platform_reachable  # the cabin's network state outlives the session


def test_naive_time_is_refused_at_construction() -> None:
    with pytest.raises(InvalidEvent) as caught:
        Tick(datetime(2025, 3, 1, 9, 0))
    assert str(caught.value) == "Tick needs a time with a time zone."


def test_begin_needs_an_id_and_default_language_must_be_offered() -> None:
    with pytest.raises(IllegalTransition, match="needs an id"):
        SessionFlow(SETTINGS).handle(Begin(at(0), ""))
    from app.domain.errors import DomainError

    with pytest.raises(DomainError, match="default language"):
        SessionFlow(FlowSettings(languages=("en",), default_language="fr"))


def test_accepts_lists_screen_and_system_events() -> None:
    flow = flow_at(State.STOP_CONFIRM)
    accepted = flow.accepts()
    assert {StopConfirmed, StopCancelled, Tick, MeasurementTaken, CardRemoved} <= accepted
    assert MeasurementsDone not in accepted


def test_table_dialogs_take_only_person_events() -> None:
    for dialog in DIALOGS:
        assert all(e.ORIGIN is Origin.PERSON for e in TABLE[dialog])


def test_context_repr_shows_no_health_data() -> None:
    flow = flow_at(State.END)
    text = repr(flow.context)
    for secret in ("DUPONT", "Marie", "1980", identity().identifier.value):  # type: ignore[union-attr]
        assert secret not in text


def test_confirm_then_identity_needed_for_orientation_age() -> None:
    flow = flow_at(State.ORIENTATION)
    flow.handle(OrientationAnswered(at(8), OrientationAnswers(has_medecin_traitant=True)))
    assert flow.context.orientation is not None


def test_consent_in_consent_step_grant_then_refuse_uses_latest() -> None:
    flow = flow_at(State.CONSENT)
    flow.handle(grant(at(6)))
    flow.handle(ConsentDecided(at(7), decide(TELE_TEXT, ConsentChoice.REFUSED, at(7))))
    flow.handle(ConsentDone(at(8)))
    assert flow.state is State.END


def test_identity_confirmed_requires_the_screen() -> None:
    flow = flow_at(State.IDENTIFICATION)
    with pytest.raises(IllegalTransition):
        flow.handle(IdentityConfirmed(at(4)))


def test_way_to_consent_is_the_consent_step() -> None:
    assert way_to(State.CONSENT)[-1] == IdentityConfirmed(at(5))


# --- the guards hold even on a context the table could not have produced -------------------


def _forced(flow: SessionFlow, **changes: object) -> SessionFlow:
    flow._ctx = replace(flow.context, **changes)  # type: ignore[arg-type]
    return flow


@pytest.mark.parametrize(
    ("changes", "why"),
    [
        ({"identity_confirmed": False}, "the patient has not confirmed an identity"),
        ({"identity": None}, "the patient has not confirmed an identity"),
        ({"consents": ()}, "the patient has not agreed to the teleconsultation"),
    ],
)
def test_call_guards_are_checked_again_at_the_door(changes: dict[str, object], why: str) -> None:
    flow = _forced(flow_at(State.WAITING_ROOM), **changes)
    before = flow.context
    with pytest.raises(IllegalTransition) as caught:
        flow.handle(CallStarted(at(30), "10003456789"))
    assert str(caught.value) == f"CallStarted cannot happen in state WAITING_ROOM: {why}"
    assert flow.context is before
    flow = _forced(flow_at(State.MEASUREMENTS), **changes)
    with pytest.raises(IllegalTransition, match=why):
        flow.handle(MeasurementsDone(at(30)))


def test_identity_update_needs_a_chosen_identity() -> None:
    flow = _forced(flow_at(State.CONSENT), identity=None)
    with pytest.raises(IllegalTransition, match="no identity has been chosen"):
        flow.handle(IdentityUpdated(at(6), identity()))
