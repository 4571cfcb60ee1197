"""The flow's table is built from literal rows: duplicates refused, landings checked."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from app.domain import flow as flow_module
from app.domain.errors import DomainError
from app.domain.flow import ROWS, TABLE, TRANSITIONS, SessionFlow
from app.domain.flow_table import (
    BACK,
    SAME,
    DuplicateTransition,
    Transition,
    UndeclaredTransition,
    build,
    landing,
)
from app.domain.flow_txn import Txn
from app.domain.session_context import DIALOGS, SessionContext, State
from app.domain.session_events import (
    Begin,
    CardRemoved,
    Event,
    Origin,
    StopRequested,
    Tick,
    Touched,
)
from tests.domain.builders import SETTINGS, at, flow_at

S = State


def _stay(t: Txn, ev: Any) -> None:
    """A handler that changes nothing."""


def _other(t: Txn, ev: Any) -> None:
    """A second handler, to tell rows apart."""


def test_a_duplicate_state_event_pair_is_refused_naming_both_handlers() -> None:
    rows = (
        (S.WELCOME, Begin, _stay, {S.EMERGENCY_CHECK}),
        (frozenset({S.END, S.WELCOME}), Begin, _other, {SAME}),
    )
    with pytest.raises(DuplicateTransition) as caught:
        build(rows)
    assert isinstance(caught.value, DomainError)
    assert caught.value.state is S.WELCOME and caught.value.event_name == "Begin"
    assert str(caught.value) == (
        "The flow's table has two rows for Begin in state WELCOME (_stay and _other); "
        "one of them would be lost."
    )


def test_the_same_event_in_other_states_is_not_a_duplicate() -> None:
    table = build(
        (
            (S.WELCOME, Begin, _stay, {S.EMERGENCY_CHECK}),
            (frozenset({S.END, S.CALL}), Begin, _other, {SAME, BACK}),
        )
    )
    assert table == {
        (S.WELCOME, Begin): Transition(_stay, frozenset({S.EMERGENCY_CHECK})),
        (S.CALL, Begin): Transition(_other, frozenset({S.CALL, BACK})),
        (S.END, Begin): Transition(_other, frozenset({S.END, BACK})),
    }
    assert list(table) == [(S.WELCOME, Begin), (S.CALL, Begin), (S.END, Begin)]  # State order


def test_the_flow_rows_build_one_entry_per_state_and_event() -> None:
    expected = sum(1 if isinstance(states, State) else len(states) for states, *_ in ROWS)
    assert len(TRANSITIONS) == expected == 284
    assert all(SAME not in tr.targets for tr in TRANSITIONS.values())
    for (state, event), transition in TRANSITIONS.items():
        assert TABLE[state][event] is transition.handler
    assert sum(len(events) for events in TABLE.values()) == len(TRANSITIONS)


def test_back_is_named_only_on_dialogs() -> None:
    for (state, _event), transition in TRANSITIONS.items():
        if BACK in transition.targets:
            assert state in DIALOGS, state


def _ctx(step: State, *dialogs: State) -> SessionContext:
    return SessionContext(step=step, dialogs=dialogs)


@pytest.mark.parametrize(
    ("key", "before", "after", "landed"),
    [
        # a dialog opened is where the transition landed, whatever the key
        (S.CONSENT, _ctx(S.CONSENT), _ctx(S.CONSENT, S.STOP_CONFIRM), {S.STOP_CONFIRM}),
        (
            S.MEASUREMENTS,
            _ctx(S.MEASUREMENTS, S.CARD_CHANGED),
            _ctx(S.MEASUREMENTS, S.CARD_REMOVED_PAUSE),
            {S.CARD_REMOVED_PAUSE},
        ),
        # a row on a step names the step, dialogs over it coming and going
        (S.CONSENT, _ctx(S.CONSENT), _ctx(S.END), {S.END}),
        (
            S.MEASUREMENTS,
            _ctx(S.MEASUREMENTS, S.STOP_CONFIRM),
            _ctx(S.DEGRADED, S.STOP_CONFIRM),
            {S.DEGRADED},
        ),
        (
            S.MEASUREMENTS,
            _ctx(S.MEASUREMENTS, S.CARD_REMOVED_PAUSE),
            _ctx(S.MEASUREMENTS),
            {S.MEASUREMENTS},
        ),
        # a row on a dialog: stays, goes back to what was under, or leaves for a step
        (
            S.STOP_CONFIRM,
            _ctx(S.CALL, S.STOP_CONFIRM),
            _ctx(S.CALL, S.STOP_CONFIRM),
            {S.STOP_CONFIRM},
        ),
        (S.STOP_CONFIRM, _ctx(S.CALL, S.STOP_CONFIRM), _ctx(S.CALL), {S.CALL, BACK}),
        (
            S.INACTIVITY_WARNING,
            _ctx(S.CALL, S.CARD_REMOVED_PAUSE, S.INACTIVITY_WARNING),
            _ctx(S.CALL, S.CARD_REMOVED_PAUSE),
            {S.CARD_REMOVED_PAUSE, BACK},
        ),
        (S.STOP_CONFIRM, _ctx(S.CALL, S.STOP_CONFIRM), _ctx(S.WIPE), {S.WIPE}),
    ],
)
def test_landing_is_named_as_a_row_would(
    key: State, before: SessionContext, after: SessionContext, landed: set[object]
) -> None:
    assert landing(key, before, after) == landed


def test_a_transition_landing_outside_its_row_raises_and_changes_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    row = TRANSITIONS[(S.WELCOME, Begin)]
    wrong = replace(row, targets=frozenset({S.INFORMATION, BACK}))
    key: tuple[State, type[Event]] = (S.WELCOME, Begin)
    monkeypatch.setitem(flow_module.TRANSITIONS, key, wrong)
    flow = SessionFlow(SETTINGS)
    before = flow.context
    with pytest.raises(UndeclaredTransition) as caught:
        flow.handle(Begin(at(1), "session-1"))
    assert flow.context is before
    assert not isinstance(caught.value, flow_module.IllegalTransition)  # the flow's fault
    assert caught.value.state is S.WELCOME and caught.value.landed is S.EMERGENCY_CHECK
    assert str(caught.value) == (
        "begin took Begin in state WELCOME to EMERGENCY_CHECK, "
        "but the flow's table declares only BACK, INFORMATION."
    )


@pytest.mark.parametrize(
    ("state", "event", "expected"),
    [
        # dialogs opening over a step, and closing onto it (rule 6)
        (S.WAITING_ROOM, StopRequested(at(30)), S.STOP_CONFIRM),
        (S.MEASUREMENTS, CardRemoved(at(30)), S.CARD_REMOVED_PAUSE),
        (S.CONSENT, Tick(at(5 + 60 + 1)), S.INACTIVITY_WARNING),
        (S.INACTIVITY_WARNING, Touched(at(70)), S.CONSENT),
    ],
)
def test_real_transitions_land_where_their_rows_say(
    state: State, event: Event, expected: State
) -> None:
    flow = flow_at(state)
    key = flow.state if event.ORIGIN is Origin.PERSON else flow.step
    declared = TRANSITIONS[(key, type(event))].targets
    flow.handle(event)
    assert flow.state is expected
    assert expected in declared or (BACK in declared and expected is flow.step)
