"""Preparation between patients: the table, its refusals, and any sequence of events.

The property: whatever happens, no session starts while the cabin is being
prepared (or in a session); leaving "being prepared" always carries a person
and a time not before the end; with preparation off the cabin is never
"being prepared"; an illegal event changes nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.preparation import (
    TRANSITIONS,
    Confirmation,
    Preparation,
    PreparationRefused,
    Readiness,
    RefusalReason,
    Trigger,
)

T0 = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


def test_two_sessions_with_preparation_required() -> None:
    cabin = Preparation(required=True).session_started()
    cabin = cabin.session_ended(T0)
    assert cabin.state is Readiness.BEING_PREPARED and not cabin.may_start
    with pytest.raises(PreparationRefused) as refused:
        cabin.session_started()
    assert refused.value.reason is RefusalReason.NOT_READY
    assert str(refused.value) == "A session cannot start: the cabin is not ready (being-prepared)."
    ready = cabin.confirmed(" lea.accueil ", T0 + timedelta(minutes=3))
    assert ready.may_start and ready.confirmation == Confirmation(
        "lea.accueil", T0 + timedelta(minutes=3)
    )
    assert ready.session_started().state is Readiness.IN_SESSION


def test_without_preparation_the_end_makes_the_cabin_ready() -> None:
    cabin = Preparation(required=False).session_started().session_ended(T0)
    assert cabin.state is Readiness.READY and cabin.ended_at == T0
    with pytest.raises(PreparationRefused) as refused:
        cabin.confirmed("lea.accueil", T0)
    assert refused.value.reason is RefusalReason.NOTHING_TO_CONFIRM


@pytest.mark.parametrize(
    ("make", "reason", "sentence"),
    [
        (
            lambda p: p.session_ended(T0),
            RefusalReason.NOT_IN_SESSION,
            "No session is under way (ready).",
        ),
        (
            lambda p: p.session_started().session_started(),
            RefusalReason.NOT_READY,
            "A session cannot start: the cabin is not ready (in-session).",
        ),
        (
            lambda p: p.session_started().session_ended(T0).confirmed("  ", T0),
            RefusalReason.NO_PERSON,
            "A confirmation names the person who made it.",
        ),
        (
            lambda p: p.session_started().session_ended(T0).confirmed("lea", T0 - timedelta(1)),
            RefusalReason.BEFORE_THE_END,
            "A confirmation cannot be timed before the session it follows ended.",
        ),
        (
            lambda p: p.session_started().session_ended(datetime(2026, 12, 3, 9)),
            RefusalReason.NAIVE_TIME,
            "A time without its UTC offset cannot be compared.",
        ),
        (
            lambda p: p.session_started().session_ended(T0).confirmed("lea", datetime(2026, 12, 4)),
            RefusalReason.NAIVE_TIME,
            "A time without its UTC offset cannot be compared.",
        ),
    ],
)
def test_each_refusal_names_its_rule(make, reason: RefusalReason, sentence: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(PreparationRefused) as refused:
        make(Preparation(required=True))
    assert (refused.value.reason, str(refused.value)) == (reason, sentence)


def test_the_table_is_the_rules_on_top() -> None:
    assert TRANSITIONS == {
        (Readiness.READY, Trigger.SESSION_STARTED): Readiness.IN_SESSION,
        (Readiness.IN_SESSION, Trigger.SESSION_ENDED): Readiness.BEING_PREPARED,
        (Readiness.BEING_PREPARED, Trigger.CONFIRMED): Readiness.READY,
    }


EVENTS = st.lists(
    st.tuples(
        st.sampled_from(list(Trigger)),
        st.integers(min_value=-120, max_value=600),  # seconds from the previous time
        st.sampled_from(["lea.accueil", "marie.ph", "", " "]),
    ),
    max_size=40,
)


@settings(max_examples=300, deadline=None)
@given(required=st.booleans(), events=EVENTS)
def test_any_sequence_keeps_the_rules(
    required: bool, events: list[tuple[Trigger, int, str]]
) -> None:
    cabin = Preparation(required=required)
    now = T0
    sessions = 0
    for trigger, step, person in events:
        now += timedelta(seconds=step)
        before = cabin
        try:
            if trigger is Trigger.SESSION_STARTED:
                cabin = cabin.session_started()
                sessions += 1
            elif trigger is Trigger.SESSION_ENDED:
                cabin = cabin.session_ended(now)
            else:
                cabin = cabin.confirmed(person, now)
        except PreparationRefused as refused:
            assert cabin is before  # nothing moved
            assert refused.state is before.state
            if trigger is Trigger.SESSION_STARTED:
                assert before.state is not Readiness.READY
            continue
        if trigger is Trigger.SESSION_STARTED:
            assert before.state is Readiness.READY  # never from "being prepared"
        if before.state is Readiness.BEING_PREPARED and cabin.state is Readiness.READY:
            confirmation = cabin.confirmation
            assert confirmation is not None and confirmation.by.strip()
            assert before.ended_at is not None and confirmation.at >= before.ended_at
        if not required:
            assert cabin.state is not Readiness.BEING_PREPARED
    assert sessions <= len(events)


@pytest.mark.parametrize(
    ("mode", "setting", "needed"),
    [
        ("production", None, True),
        ("test", None, False),
        ("production", False, False),
        ("test", True, True),
    ],
)
def test_the_site_setting_is_on_by_default_in_production(
    mode: str, setting: bool | None, needed: bool
) -> None:
    from kiosk_config import EXAMPLES
    from kiosk_config.loader import load_config
    from kiosk_config.schema import Mode

    site = load_config(EXAMPLES / "demo.toml").site
    changed = site.model_copy(update={"mode": Mode(mode), "preparation_required": setting})
    assert changed.needs_preparation() is needed
