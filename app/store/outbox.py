"""The outbox: one entry per session, moved through its states by the sync engine.

Why one entry per session: the platform receives one transaction bundle per
session, built when the session is closed. The entry is created with the
session (state 'open', not sendable) so that a fact is never stored without
it, and becomes 'ready' in the transaction that ends the session.

The transition table below is the whole rule; an illegal move raises
`OutboxTransition` and changes nothing.
"""

from __future__ import annotations

from datetime import datetime

from app.store import audit
from app.store.connection import Connection
from app.store.errors import InvalidValue, OutboxTransition, UnknownOutboxItem
from app.store.records import OutboxItem, OutboxState, QuarantineItem
from app.store.timeutil import from_text, opt_from_text, to_text

S = OutboxState

ALLOWED: dict[OutboxState, frozenset[OutboxState]] = {
    S.OPEN: frozenset({S.READY}),
    S.READY: frozenset({S.IN_FLIGHT, S.QUARANTINED, S.ACKNOWLEDGED}),
    S.IN_FLIGHT: frozenset({S.READY, S.ACKNOWLEDGED, S.QUARANTINED}),
    S.QUARANTINED: frozenset({S.READY}),
    S.ACKNOWLEDGED: frozenset(),
}

MAX_REASON_CHARS = 300

_ITEM_COLUMNS = "id, session_id, state, ready_at, attempts, last_attempt_at, last_error, not_before"


def _item(row: tuple[object, ...]) -> OutboxItem:
    item_id, session_id, state, ready_at, attempts, last_attempt_at, last_error, not_before = row
    return OutboxItem(
        item_id=int(str(item_id)),
        session_id=str(session_id),
        state=OutboxState(str(state)),
        ready_at=opt_from_text(None if ready_at is None else str(ready_at)),
        attempts=int(str(attempts)),
        last_attempt_at=opt_from_text(None if last_attempt_at is None else str(last_attempt_at)),
        last_error=None if last_error is None else str(last_error),
        not_before=opt_from_text(None if not_before is None else str(not_before)),
    )


def _short_reason(reason: str) -> str:
    if not isinstance(reason, str) or not reason.strip():
        raise InvalidValue("An outbox reason must be a non-empty sentence.")
    return reason.strip()[:MAX_REASON_CHARS]


def pending(conn: Connection, limit: int, now: datetime | None) -> list[OutboxItem]:
    """Ready entries, oldest session first, skipping those whose retry time is not reached."""
    if limit < 1:
        raise InvalidValue("The outbox limit must be at least 1.")
    if now is None:
        rows = conn.execute(
            f"SELECT {_ITEM_COLUMNS} FROM outbox WHERE state = ? ORDER BY ready_at, id LIMIT ?",  # noqa: S608 (names are module constants)
            (S.READY.value, limit),
        )
    else:
        rows = conn.execute(
            f"SELECT {_ITEM_COLUMNS} FROM outbox WHERE state = ? "  # noqa: S608 (names are module constants)
            "AND (not_before IS NULL OR not_before <= ?) ORDER BY ready_at, id LIMIT ?",
            (S.READY.value, to_text(now), limit),
        )
    return [_item(tuple(r)) for r in rows]


def get(conn: Connection, item_id: int) -> OutboxItem:
    row = conn.execute(f"SELECT {_ITEM_COLUMNS} FROM outbox WHERE id = ?", (item_id,)).fetchone()  # noqa: S608 (names are module constants)
    if row is None:
        raise UnknownOutboxItem(item_id)
    return _item(tuple(row))


def item_for_session(conn: Connection, session_id: str) -> OutboxItem | None:
    row = conn.execute(
        f"SELECT {_ITEM_COLUMNS} FROM outbox WHERE session_id = ?",  # noqa: S608 (constant names)
        (session_id,),
    ).fetchone()
    return None if row is None else _item(tuple(row))


def _move(conn: Connection, item_id: int, wanted: OutboxState) -> OutboxItem:
    item = get(conn, item_id)
    if wanted not in ALLOWED[item.state]:
        raise OutboxTransition(item_id, item.state.value, wanted.value)
    return item


def mark_in_flight(conn: Connection, item_id: int, at: datetime) -> None:
    item = _move(conn, item_id, S.IN_FLIGHT)
    conn.execute(
        "UPDATE outbox SET state = ?, attempts = attempts + 1, last_attempt_at = ? WHERE id = ?",
        (S.IN_FLIGHT.value, to_text(at), item_id),
    )
    audit.append(
        conn,
        at=at,
        actor="sync",
        action="outbox.send",
        subject=item.session_id,
        detail=f"item={item_id} attempt={item.attempts + 1}",
    )


def retry_later(
    conn: Connection, item_id: int, error: str, at: datetime, not_before: datetime
) -> None:
    item = _move(conn, item_id, S.READY)
    if item.state is not S.IN_FLIGHT:
        raise OutboxTransition(item_id, item.state.value, S.READY.value)
    conn.execute(
        "UPDATE outbox SET state = ?, last_error = ?, not_before = ? WHERE id = ?",
        (S.READY.value, _short_reason(error), to_text(not_before), item_id),
    )
    audit.append(
        conn,
        at=at,
        actor="sync",
        action="outbox.retry",
        outcome="failed",
        subject=item.session_id,
        detail=f"item={item_id}",
    )


def acknowledge(conn: Connection, item_id: int, response_digest: str, at: datetime) -> None:
    item = _move(conn, item_id, S.ACKNOWLEDGED)
    digest = response_digest.strip()
    if not digest or len(digest) > 128:
        raise InvalidValue("A response digest must be 1 to 128 characters.")
    conn.execute(
        "UPDATE outbox SET state = ?, acknowledged_at = ?, response_digest = ?, "
        "not_before = NULL WHERE id = ?",
        (S.ACKNOWLEDGED.value, to_text(at), digest, item_id),
    )
    audit.append(
        conn,
        at=at,
        actor="sync",
        action="outbox.acknowledged",
        subject=item.session_id,
        detail=f"item={item_id}",
    )


def quarantine(conn: Connection, item_id: int, reason: str, at: datetime) -> None:
    item = _move(conn, item_id, S.QUARANTINED)
    conn.execute(
        "UPDATE outbox SET state = ?, quarantined_at = ?, quarantine_reason = ? WHERE id = ?",
        (S.QUARANTINED.value, to_text(at), _short_reason(reason), item_id),
    )
    audit.append(
        conn,
        at=at,
        actor="sync",
        action="outbox.quarantine",
        outcome="refused",
        subject=item.session_id,
        detail=f"item={item_id}",
    )


def requeue(conn: Connection, item_id: int, at: datetime, *, actor: str) -> None:
    item = _move(conn, item_id, S.READY)
    if item.state is not S.QUARANTINED:
        raise OutboxTransition(item_id, item.state.value, S.READY.value)
    conn.execute(
        "UPDATE outbox SET state = ?, not_before = NULL WHERE id = ?", (S.READY.value, item_id)
    )
    audit.append(
        conn,
        at=at,
        actor=actor,
        action="outbox.requeue",
        subject=item.session_id,
        detail=f"item={item_id}",
    )


def requeue_in_flight(conn: Connection) -> int:
    """After a restart nothing is in flight any more: those entries are sent again."""
    cur = conn.execute(
        "UPDATE outbox SET state = ? WHERE state = ?", (S.READY.value, S.IN_FLIGHT.value)
    )
    return int(cur.rowcount)


def quarantined(conn: Connection) -> list[QuarantineItem]:
    return [
        QuarantineItem(
            item_id=int(r[0]),
            session_id=str(r[1]),
            quarantined_at=from_text(str(r[2])),
            reason=str(r[3]),
            attempts=int(r[4]),
        )
        for r in conn.execute(
            "SELECT id, session_id, quarantined_at, quarantine_reason, attempts FROM outbox "
            "WHERE state = ? ORDER BY quarantined_at, id",
            (S.QUARANTINED.value,),
        )
    ]
