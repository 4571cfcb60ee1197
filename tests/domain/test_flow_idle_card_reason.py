"""Issue 11 rules: idleness only, every touch, the card asked back, the visit reason, the wait.

Each test fails on the flow before these rules (warning 2 s after the call,
countdown over the degraded message, card forgotten at the end, another card
accepted silently, no reason asked, endless waiting room).
"""

from __future__ import annotations

import pytest

from app.domain.flow import IllegalTransition, SessionFlow
from app.domain.measurements import MeasurementKind
from app.domain.session_context import State
from app.domain.session_effects import (
    DegradedReason,
    EndCall,
    OpenCall,
    ReadCard,
    StopDevices,
    Wipe,
    WriteToStore,
)
from app.domain.session_events import (
    Begin,
    CallEnded,
    CardIdentified,
    CardInserted,
    CardRemoved,
    ContinueWithoutCard,
    DegradedChoice,
    DegradedOption,
    DeviceFailed,
    EmergencyAnswered,
    Finish,
    InformationAcknowledged,
    StartMeasurement,
    StopConfirmed,
    StopRequested,
    Tick,
    Touched,
    VisitReasonGiven,
    WipeDone,
)
from app.domain.trace import IncidentCode, TraceKind
from app.domain.visit_reason import (
    MAX_TEXT_LENGTH,
    InvalidVisitReason,
    VisitReason,
    VisitReasonAnswer,
    VisitReasonProblem,
    clean_text,
)
from tests.domain.builders import SETTINGS, at, flow_at, temperature


def shown(flow: SessionFlow) -> State:
    """What is on screen now: a call, because mypy keeps `flow.state` narrowed across handle()."""
    return flow.state


# --- inactivity counts only idleness ----------------------------------------------------


def test_end_screen_is_not_covered_after_the_doctor_hangs_up() -> None:
    flow = flow_at(State.CALL)
    flow.handle(Tick(at(5_000)))  # a long call: no touch expected
    flow.handle(CallEnded(at(5_000)))
    flow.handle(Tick(at(5_002)))
    assert flow.state is State.END
    flow.handle(Tick(at(5_000 + SETTINGS.end_reading_s - 1)))
    assert flow.state is State.END  # the card reminder and the QR codes can be read
    flow.handle(Tick(at(5_000 + SETTINGS.end_reading_s)))
    assert shown(flow) is State.INACTIVITY_WARNING


def test_degraded_message_is_read_before_any_countdown() -> None:
    flow = flow_at(State.WAITING_ROOM)
    from app.domain.session_events import PlatformUnreachable

    flow.handle(PlatformUnreachable(at(900)))
    assert flow.state is State.DEGRADED
    flow.handle(Tick(at(900 + 61)))
    assert flow.state is State.DEGRADED
    flow.handle(Tick(at(900 + SETTINGS.message_reading_s)))
    assert shown(flow) is State.INACTIVITY_WARNING


def test_idle_restarts_when_a_measurement_ends() -> None:
    flow = flow_at(State.MEASUREMENTS)
    flow.handle(StartMeasurement(at(10), MeasurementKind.BODY_TEMPERATURE))
    flow.handle(DeviceFailed(at(200), MeasurementKind.BODY_TEMPERATURE, "thermo-1"))
    assert flow.state is State.DEGRADED
    flow.handle(DegradedChoice(at(201), DegradedOption.RETRY))
    flow.handle(Tick(at(350)))  # measuring: not watched
    from app.domain.session_events import MeasurementTaken

    flow.handle(MeasurementTaken(at(360), temperature("m-1", "37", at(360))))
    flow.handle(Tick(at(419)))
    assert shown(flow) is State.MEASUREMENTS
    flow.handle(Tick(at(420)))
    assert shown(flow) is State.INACTIVITY_WARNING


# --- every touch counts ------------------------------------------------------------------


@pytest.mark.parametrize("state", sorted(State))
def test_a_touch_is_accepted_everywhere_and_traces_nothing(state: State) -> None:
    flow = flow_at(state)
    before = flow.context
    assert flow.handle(Touched(at(60))) == []
    assert flow.context.trace == before.trace
    assert flow.step is before.step


def test_a_touch_closes_the_warning_and_delays_the_next() -> None:
    flow = flow_at(State.INACTIVITY_WARNING)
    flow.handle(Touched(at(70)))
    assert flow.state is State.CONSENT
    flow.handle(Tick(at(129)))
    assert flow.state is State.CONSENT
    flow.handle(Touched(at(120)))
    flow.handle(Tick(at(179)))
    assert flow.state is State.CONSENT


# --- the card -------------------------------------------------------------------------------


def test_finish_with_the_card_in_asks_for_it_then_wipes() -> None:
    flow = flow_at(State.END)
    assert flow.context.card_to_take
    assert flow.handle(Finish(at(20))) == []
    assert flow.state is State.TAKE_CARD and flow.context.card_to_take
    effects = flow.handle(CardRemoved(at(25)))
    assert isinstance(effects[-1], Wipe) and shown(flow) is State.WIPE
    flow.handle(WipeDone(at(26)))
    assert not flow.context.card_present and not flow.context.card_to_take


def test_stop_and_emergency_with_the_card_in_ask_for_it() -> None:
    flow = flow_at(State.MEASUREMENTS)
    flow.handle(StopRequested(at(20)))
    flow.handle(StopConfirmed(at(21)))
    assert flow.state is State.TAKE_CARD
    flow = flow_at(State.MEASUREMENTS)
    from app.domain.session_events import EmergencyDeclared

    flow.handle(EmergencyDeclared(at(20)))
    assert flow.state is State.EMERGENCY_EXIT and flow.context.card_to_take
    flow.handle(Finish(at(30)))
    assert shown(flow) is State.TAKE_CARD


def test_card_not_taken_in_time_is_traced_and_stale_for_the_next_patient() -> None:
    flow = flow_at(State.TAKE_CARD)
    flow.handle(Tick(at(12 + SETTINGS.take_card_s)))
    assert flow.state is State.WIPE
    assert any(e.incident is IncidentCode.CARD_LEFT_IN_READER for e in flow.context.trace)
    flow.handle(WipeDone(at(200)))
    ctx = flow.context
    assert ctx.step is State.WELCOME and ctx.card_to_take and not ctx.card_ready
    # the next patient may begin, but the stale card is never read for them
    flow.handle(Begin(at(201), "s-2"))
    flow.handle(EmergencyAnswered(at(202)))
    effects = flow.handle(InformationAcknowledged(at(203)))
    assert ReadCard() not in effects
    assert flow.context.card_to_take  # identification says: take out the card left there
    flow.handle(CardRemoved(at(204)))
    assert not flow.context.card_to_take and not flow.context.card_stale


def test_leaving_without_the_card_is_possible() -> None:
    flow = flow_at(State.TAKE_CARD)
    effects = flow.handle(Finish(at(13)))
    assert isinstance(effects[-1], Wipe)
    assert flow.context.trace[-2].incident is IncidentCode.CARD_LEFT_IN_READER


def test_a_card_put_in_at_welcome_is_used_at_identification() -> None:
    flow = SessionFlow(SETTINGS)
    flow.handle(CardInserted(at(0)))
    flow.handle(CardIdentified(at(1), "card-A"))
    assert flow.context.card_ready and not flow.context.card_to_take
    flow.handle(Begin(at(2), "s-1"))
    flow.handle(EmergencyAnswered(at(3)))
    assert ReadCard() in flow.handle(InformationAcknowledged(at(4)))


def test_a_card_left_at_welcome_goes_stale() -> None:
    flow = SessionFlow(SETTINGS)
    flow.handle(CardInserted(at(0)))
    flow.handle(Tick(at(SETTINGS.inactivity_warning_s - 1)))
    assert flow.context.card_ready
    flow.handle(Tick(at(SETTINGS.inactivity_warning_s)))
    assert flow.context.card_to_take and not flow.context.card_ready


def test_another_card_mid_session_is_a_question() -> None:
    flow = flow_at(State.CARD_CHANGED)
    assert flow.context.trace[-1].incident is IncidentCode.CARD_CHANGED
    assert flow.step is State.MEASUREMENTS
    with pytest.raises(IllegalTransition):
        flow.handle(ContinueWithoutCard(at(23)))
    # the same card back closes the question
    flow.handle(CardRemoved(at(23)))
    assert flow.state is State.CARD_REMOVED_PAUSE
    flow.handle(CardInserted(at(24)))
    flow.handle(CardIdentified(at(25), "card-A"))
    assert shown(flow) is State.MEASUREMENTS


def test_stop_and_start_again_with_the_other_card() -> None:
    flow = flow_at(State.CARD_CHANGED)
    effects = flow.handle(StopConfirmed(at(23)))
    assert isinstance(effects[-1], Wipe) and flow.state is State.WIPE  # the card is not asked
    flow.handle(WipeDone(at(24)))
    assert flow.context.card_ready and flow.context.session_card is None


def test_the_same_card_reinserted_continues() -> None:
    flow = SessionFlow(SETTINGS)
    from tests.domain.builders import way_to

    for event in way_to(State.CARD_CHANGED)[:-1]:
        flow.handle(event)
    flow.handle(CardIdentified(at(22), "card-A"))
    assert flow.state is State.MEASUREMENTS
    assert not any(e.incident is IncidentCode.CARD_CHANGED for e in flow.context.trace)


def test_after_fault_keeps_the_card_stale() -> None:
    flow = flow_at(State.MEASUREMENTS)
    again = SessionFlow.after_fault(SETTINGS, flow.context)
    assert again.state is State.WELCOME and again.context.card_to_take


# --- the reason for the visit ---------------------------------------------------------------


def test_visit_reason_is_asked_stored_and_traced_without_words() -> None:
    flow = flow_at(State.VISIT_REASON)
    effects = flow.handle(
        VisitReasonGiven(at(9), (VisitReason.FEVER, VisitReason.PAIN), "  mal\nau dos  ")
    )
    answer = flow.context.visit_reason
    assert answer is not None and answer.text == "mal au dos"
    assert answer.reasons == (VisitReason.FEVER, VisitReason.PAIN)
    assert effects[0] == WriteToStore("session-1", answer)
    entry = flow.context.trace[-1]
    assert (entry.kind, entry.subject) == (TraceKind.VISIT_REASON_GIVEN, "given")
    assert "dos" not in repr(flow.context) and "fever" not in repr(answer)
    assert flow.state is State.MEASUREMENTS


def test_rather_tell_the_doctor() -> None:
    flow = flow_at(State.VISIT_REASON)
    flow.handle(VisitReasonGiven(at(9), (), "   "))
    assert flow.context.visit_reason is not None
    assert flow.context.visit_reason.left_to_the_doctor
    assert flow.context.trace[-1].subject == "left-to-the-doctor"


def test_visit_reason_limits() -> None:
    with pytest.raises(InvalidVisitReason) as caught:
        VisitReasonGiven(
            at(9), (VisitReason.FEVER, VisitReason.PAIN, VisitReason.SKIN, VisitReason.OTHER)
        )
    assert caught.value.problem is VisitReasonProblem.TOO_MANY
    with pytest.raises(InvalidVisitReason):
        VisitReasonGiven(at(9), (VisitReason.FEVER, VisitReason.FEVER))
    with pytest.raises(InvalidVisitReason) as caught:
        VisitReasonGiven(at(9), (), "x" * (MAX_TEXT_LENGTH + 1))
    assert "x" not in str(caught.value)
    assert clean_text(" " + "y" * MAX_TEXT_LENGTH + " ") == "y" * MAX_TEXT_LENGTH
    assert clean_text("") is None
    with pytest.raises(InvalidVisitReason):
        VisitReasonAnswer(at(9), (), " not clean ")


def test_visit_reason_only_on_its_step() -> None:
    flow = flow_at(State.MEASUREMENTS)
    with pytest.raises(IllegalTransition):
        flow.handle(VisitReasonGiven(at(9)))


# --- the waiting room -----------------------------------------------------------------------


def test_waiting_room_publishes_its_start_and_gives_up_after_the_maximum_wait() -> None:
    flow = flow_at(State.WAITING_ROOM)  # entered at(9)
    assert flow.context.waiting_since == at(9)
    assert flow.context.wait_deadline(SETTINGS) == at(9 + SETTINGS.max_wait_s)
    flow.handle(Tick(at(9 + SETTINGS.max_wait_s - 1)))
    assert flow.state is State.WAITING_ROOM
    effects = flow.handle(Tick(at(9 + SETTINGS.max_wait_s)))
    assert EndCall() in effects
    assert shown(flow) is State.DEGRADED
    assert flow.context.degraded is not None
    assert flow.context.degraded.reason is DegradedReason.WAIT_TOO_LONG
    assert flow.context.degraded.options == (DegradedOption.RETRY, DegradedOption.FINISH)
    assert flow.context.trace[-1].incident is IncidentCode.WAIT_TOO_LONG
    # keep waiting: a new maximum wait, the time waited still counted from the start
    assert flow.handle(DegradedChoice(at(2_000), DegradedOption.RETRY)) == [OpenCall()]
    assert flow.context.waiting_since == at(9)
    assert flow.context.wait_deadline(SETTINGS) == at(2_000 + SETTINGS.max_wait_s)


def test_finish_after_a_long_wait() -> None:
    flow = flow_at(State.WAITING_ROOM)
    flow.handle(Tick(at(9 + SETTINGS.max_wait_s)))
    flow.handle(DegradedChoice(at(1_300), DegradedOption.FINISH))
    assert flow.state is State.END


# --- a device that never answers ----------------------------------------------------------


def test_a_device_that_neither_reads_nor_fails_is_taken_as_failed() -> None:
    """The backstop: never left on "measuring" with no way on (the driver should fail first)."""
    flow = flow_at(State.MEASUREMENTS)
    flow.handle(StartMeasurement(at(10), MeasurementKind.BODY_TEMPERATURE))
    flow.handle(Tick(at(10 + SETTINGS.measure_max_s - 1)))
    assert flow.state is State.MEASUREMENTS
    assert flow.context.active_device is MeasurementKind.BODY_TEMPERATURE
    effects = flow.handle(Tick(at(10 + SETTINGS.measure_max_s)))
    assert StopDevices() in effects
    assert shown(flow) is State.DEGRADED
    assert flow.context.degraded is not None
    assert flow.context.degraded.reason is DegradedReason.DEVICE_FAILED
    assert flow.context.degraded.device_kind is MeasurementKind.BODY_TEMPERATURE
    assert DegradedOption.MANUAL_ENTRY in flow.context.degraded.options
    assert flow.context.trace[-1].incident is IncidentCode.DEVICE_FAILED
    # Trying again starts the clock again.
    flow.handle(DegradedChoice(at(400), DegradedOption.RETRY))
    assert flow.context.active_device is MeasurementKind.BODY_TEMPERATURE
    flow.handle(Tick(at(400 + SETTINGS.measure_max_s - 1)))
    assert flow.state is State.MEASUREMENTS
