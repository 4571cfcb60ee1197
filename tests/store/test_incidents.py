"""Incidents other rooms raise through the store: kept for maintenance, audited, refused if odd."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from app.store import (
    AsyncStore,
    FileKeySource,
    InvalidValue,
    Store,
    StoreIncidentCode,
)
from tests.store import factories as f

UNREACHABLE = (
    "The platform could not be reached 5 times in a row; sessions are kept encrypted and "
    "will be sent when it answers."
)


def test_an_incident_is_kept_open_with_its_sentence_and_audited_by_code(
    store: Store, clock: f.FakeClock
) -> None:
    first = store.record_incident(StoreIncidentCode.PLATFORM_UNREACHABLE, UNREACHABLE, actor="sync")
    clock.advance(timedelta(seconds=60))
    second = store.record_incident(
        StoreIncidentCode.PLATFORM_CREDENTIALS_REFUSED,
        "The platform refuses this cabin's credentials (HTTP 401).",
        clock.now + timedelta(seconds=5),
    )
    assert second == first + 1
    shown = store.health().open_incidents
    assert [(i.incident_id, i.code, i.message, i.at) for i in shown] == [
        (first, StoreIncidentCode.PLATFORM_UNREACHABLE, UNREACHABLE, f.T0),
        (
            second,
            StoreIncidentCode.PLATFORM_CREDENTIALS_REFUSED,
            "The platform refuses this cabin's credentials (HTTP 401).",
            f.T0 + timedelta(seconds=65),
        ),
    ]
    rows = [(r.actor, r.action, r.detail) for r in store.audit_rows()][-2:]
    assert rows == [
        ("sync", "store.incident", "code=platform-unreachable"),
        ("kiosk", "store.incident", "code=platform-credentials-refused"),
    ]
    assert store.resolve_incident(first, actor="account:tech1")
    assert [i.code for i in store.health().open_incidents] == [
        StoreIncidentCode.PLATFORM_CREDENTIALS_REFUSED
    ]
    assert store.verify_audit_chain().ok


@pytest.mark.parametrize(
    "message",
    ["", "   ", "two\nlines", "x" * 501],
)
def test_a_message_that_is_not_one_bounded_line_is_refused_and_nothing_is_kept(
    store: Store, message: str
) -> None:
    rows_before = len(store.audit_rows(1000))
    with pytest.raises(InvalidValue) as exc:
        store.record_incident(StoreIncidentCode.SESSION_QUARANTINED, message)
    assert str(exc.value) == (
        "An incident message must be one line of 1 to 500 printable characters; it was refused."
    )
    assert store.incidents() == ()
    assert len(store.audit_rows(1000)) == rows_before


def test_an_unknown_code_is_refused(store: Store) -> None:
    with pytest.raises(InvalidValue) as exc:
        store.record_incident("disk-on-fire", "The disk is on fire.")  # type: ignore[arg-type]
    assert str(exc.value) == "The store does not know this incident code."
    assert store.incidents() == ()


async def test_the_async_store_records_incidents_and_reads_audit_rows_on_its_thread(
    data_dir: Path, clock: f.FakeClock
) -> None:
    s = await AsyncStore.open(data_dir, FileKeySource(data_dir), clock)
    try:
        incident_id = await s.record_incident(
            StoreIncidentCode.SESSION_QUARANTINED, "Outbox item 3 is in quarantine.", actor="sync"
        )
        (shown,) = await s.incidents()
        assert (shown.incident_id, shown.code, shown.message) == (
            incident_id,
            StoreIncidentCode.SESSION_QUARANTINED,
            "Outbox item 3 is in quarantine.",
        )
        rows = await s.audit_rows(2)
        assert [(r.id, r.actor, r.action, r.detail) for r in rows] == [
            (1, "kiosk", "store.create", ""),
            (2, "sync", "store.incident", "code=session-quarantined"),
        ]
        assert [r.id for r in await s.audit_rows(1)] == [2]
    finally:
        await s.close()
