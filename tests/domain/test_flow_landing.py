"""Every transition lands where its row says, seen from the screen; and the moves the old diagram missed.

The flow checks landings itself (`UndeclaredTransition`); this test checks
them again from what the patient sees, with its own reading of a row, while
hypothesis drives any sequence of events (the session machine of
test_flow_stateful).
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from hypothesis import HealthCheck, settings

from app.domain.consent import ConsentChoice, decide
from app.domain.flow import TRANSITIONS, SessionFlow
from app.domain.flow_table import BACK
from app.domain.measurements import MeasurementKind
from app.domain.session_context import DIALOGS, State
from app.domain.session_effects import DegradedReason, EndCall, WriteToStore
from app.domain.session_events import (
    CallMediaCheckFailed,
    CardIdentified,
    ConsentDecided,
    DegradedChoice,
    DegradedOption,
    Event,
    Origin,
    StartMeasurement,
    StopRequested,
)
from app.domain.trace import IncidentCode
from tests.domain.builders import SETTINGS, TELE_TEXT, at, way_to
from tests.domain.test_flow_stateful import SessionMachine


class ScreenCheckedFlow(SessionFlow):
    """A flow that asserts after each accepted event that the screen shows a state its row names."""

    def handle(self, event: Event) -> list:  # type: ignore[type-arg]
        before = self.context
        key = before.state if event.ORIGIN is Origin.PERSON else before.step
        effects = super().handle(event)
        after = self.context
        targets = TRANSITIONS[(key, type(event))].targets
        under = before.dialogs[-2] if len(before.dialogs) > 1 else before.step
        shown = after.state in targets
        step_named = key not in DIALOGS and after.step in targets  # a step's row; dialogs stay
        back = BACK in targets and key not in after.dialogs and after.state is under
        assert shown or step_named or back, (
            f"{type(event).__name__} in {key.name} showed {after.state.name} "
            f"(step {after.step.name}); its row names {sorted(str(t) for t in targets)}"
        )
        return effects


class LandingMachine(SessionMachine):
    def __init__(self) -> None:
        super().__init__()
        self.flow = ScreenCheckedFlow(SETTINGS)


TestLanding = LandingMachine.TestCase
TestLanding.settings = settings(
    max_examples=60,
    stateful_step_count=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def _through(events: Sequence[Event]) -> ScreenCheckedFlow:
    flow = ScreenCheckedFlow(SETTINGS)
    for event in events:
        flow.handle(event)
    return flow


@pytest.mark.parametrize(
    ("problems", "subject"),
    [(("camera-unavailable", "no-audio"), "camera-unavailable,no-audio"), ((), None)],
)
def test_the_cabin_media_failing_the_waiting_room_checks_degrades(
    problems: tuple[str, ...], subject: str | None
) -> None:
    flow = _through(way_to(State.WAITING_ROOM))
    effects = flow.handle(CallMediaCheckFailed(at(30), problems))
    assert flow.state is State.DEGRADED
    assert flow.context.degraded is not None
    assert flow.context.degraded.reason is DegradedReason.CABIN_MEDIA_FAILED
    assert flow.context.degraded.options == (DegradedOption.RETRY, DegradedOption.FINISH)
    assert effects[0] == EndCall()
    last = flow.context.trace[-1]
    assert (last.incident, last.subject) == (IncidentCode.CALL_MEDIA_CHECK_FAILED, subject)
    assert WriteToStore("session-1", last) in effects
    flow.handle(DegradedChoice(at(31), DegradedOption.RETRY))
    assert flow.step is State.WAITING_ROOM  # the platform is not blamed: straight back


def test_consent_withdrawn_before_the_call_goes_to_the_end() -> None:
    flow = _through(way_to(State.ORIENTATION))
    withdrawal = decide(TELE_TEXT, ConsentChoice.WITHDRAWN, at(9), flow.context.consents)
    flow.handle(ConsentDecided(at(9), withdrawal))
    assert flow.state is State.END


def test_measuring_during_the_call_keeps_the_call() -> None:
    flow = _through(way_to(State.CALL))
    flow.handle(StartMeasurement(at(12), MeasurementKind.SPO2))
    assert flow.state is State.CALL and flow.context.active_device is MeasurementKind.SPO2


def _with_card_a(target: State) -> list[Event]:
    """The way to `target` with the identity read from card A."""
    events = way_to(target)
    return [*events[:3], CardIdentified(at(3.5), "card-A"), *events[3:]]


def test_another_card_during_the_call_is_an_incident_only() -> None:
    flow = _through(_with_card_a(State.CALL))
    flow.handle(CardIdentified(at(12), "card-B"))
    assert flow.state is State.CALL and flow.context.dialogs == ()
    assert flow.context.trace[-1].incident is IncidentCode.CARD_CHANGED


def test_another_card_under_the_stop_question_does_not_ask_a_second_question() -> None:
    flow = _through([*_with_card_a(State.MEASUREMENTS), StopRequested(at(20))])
    flow.handle(CardIdentified(at(21), "card-B"))
    assert flow.context.dialogs == (State.STOP_CONFIRM,)
    assert flow.context.trace[-1].incident is IncidentCode.CARD_CHANGED
