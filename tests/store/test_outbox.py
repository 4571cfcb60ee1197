"""The outbox's states: the table is the rule; illegal moves raise and change nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.store import FileKeySource, OutboxState, OutboxTransition, Store, UnknownOutboxItem
from app.store.outbox import ALLOWED
from tests.store import factories as f


def _ended(store: Store, sid: str) -> int:
    store.begin_session(sid, "CAB-01")
    store.record_measurement(sid, f.temperature(f"m-{sid}"))
    store.end_session(sid, "completed")
    item = store.outbox_for_session(sid)
    assert item is not None
    return item.item_id


def test_pending_is_oldest_first_and_honours_retry_time(store: Store, clock: f.FakeClock) -> None:
    a = _ended(store, "a")
    clock.advance(timedelta(minutes=1))
    b = _ended(store, "b")
    assert [i.item_id for i in store.pending_outbox()] == [a, b]
    assert [i.item_id for i in store.pending_outbox(limit=1)] == [a]
    store.mark_in_flight(a)
    assert [i.item_id for i in store.pending_outbox()] == [b]
    store.retry_later(a, "platform answered 503", not_before=clock.now + timedelta(minutes=5))
    assert [i.item_id for i in store.pending_outbox(now=clock.now)] == [b]
    assert [i.item_id for i in store.pending_outbox(now=clock.now + timedelta(minutes=5))] == [a, b]
    item = store.outbox_item(a)
    assert (item.attempts, item.last_error, item.state) == (
        1,
        "platform answered 503",
        OutboxState.READY,
    )


def test_acknowledge_and_quarantine(store: Store, clock: f.FakeClock) -> None:
    a, b = _ended(store, "a"), _ended(store, "b")
    store.mark_in_flight(a)
    store.acknowledge(a, "sha256:abc")
    store.mark_in_flight(b)
    store.quarantine(b, "HTTP 422: the bundle was refused (Patient.identifier)")
    assert store.pending_outbox() == []
    [q] = store.list_quarantine()
    assert (q.item_id, q.session_id, q.reason, q.attempts, q.quarantined_at) == (
        b,
        "b",
        "HTTP 422: the bundle was refused (Patient.identifier)",
        1,
        clock.now,
    )
    store.requeue(b, actor="account:tech.one")
    assert [i.item_id for i in store.pending_outbox()] == [b]


def test_an_illegal_move_raises_and_changes_nothing(store: Store) -> None:
    a = _ended(store, "a")
    store.mark_in_flight(a)
    store.acknowledge(a, "d")
    before = store.outbox_item(a)
    with pytest.raises(OutboxTransition) as exc:
        store.mark_in_flight(a)
    assert str(exc.value) == (
        f"The outbox item {a} is 'acknowledged' and cannot become 'in_flight'; it was left unchanged."
    )
    assert store.outbox_item(a) == before
    with pytest.raises(UnknownOutboxItem):
        store.acknowledge(999, "d")


def test_in_flight_entries_are_sent_again_after_a_restart(
    data_dir: Path, clock: f.FakeClock
) -> None:
    with Store.open(data_dir, FileKeySource(data_dir), clock) as s:
        a = _ended(s, "a")
        s.mark_in_flight(a)
    with Store.open(data_dir, FileKeySource(data_dir), clock) as s:
        assert s.open_report.requeued_in_flight == 1
        assert [i.item_id for i in s.pending_outbox()] == [a]


ACTIONS = ("in_flight", "retry", "ack", "quarantine", "requeue")
TARGET = {
    "in_flight": OutboxState.IN_FLIGHT,
    "retry": OutboxState.READY,
    "ack": OutboxState.ACKNOWLEDGED,
    "quarantine": OutboxState.QUARANTINED,
    "requeue": OutboxState.READY,
}
# What each call requires beyond the table (retry only from in_flight, requeue only from quarantine).
SOURCE_ONLY = {"retry": OutboxState.IN_FLIGHT, "requeue": OutboxState.QUARANTINED}


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(actions=st.lists(st.sampled_from(ACTIONS), max_size=12))
def test_any_sequence_follows_the_table(
    tmp_path_factory: pytest.TempPathFactory, actions: list[str]
) -> None:
    data_dir = tmp_path_factory.mktemp("outbox")
    clock = f.FakeClock()
    with Store.open(data_dir, FileKeySource(data_dir), clock) as s:
        item = _ended(s, "a")
        state = OutboxState.READY
        for action in actions:
            wanted = TARGET[action]
            legal = wanted in ALLOWED[state] and SOURCE_ONLY.get(action, state) is state
            call: Callable[[], object] = {
                "in_flight": lambda: s.mark_in_flight(item),
                "retry": lambda: s.retry_later(item, "timeout", clock.now),
                "ack": lambda: s.acknowledge(item, "digest"),
                "quarantine": lambda: s.quarantine(item, "refused"),
                "requeue": lambda: s.requeue(item, actor="tech"),
            }[action]
            if legal:
                call()
                state = wanted
            else:
                before = s.outbox_item(item)
                with pytest.raises(OutboxTransition):
                    call()
                assert s.outbox_item(item) == before
            assert s.outbox_item(item).state is state
        assert s.verify_audit_chain().ok
