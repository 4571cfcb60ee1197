"""Retention, purge and the buffer's health.

Rules (the patient's data leaves the cabin as soon as it safely can, and not
before): a session is purged only once the platform has acknowledged it and
the retention has passed since that acknowledgement. Nothing unacknowledged
is ever purged — not even quarantined sessions, which wait for a technician.
`secure_delete` overwrites what is deleted, and the WAL is checkpointed and
truncated after a purge so no old page lingers there.

Thresholds: the buffer's size (live pages of the database plus the WAL) and
the age of the oldest unacknowledged session. Crossing one opens a store
incident (once); going back under resolves it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from app.store import audit
from app.store.connection import Connection, wal_path
from app.store.errors import InvalidValue
from app.store.records import (
    OutboxState,
    PurgeReport,
    RetentionPolicy,
    StoreHealth,
    StoreIncident,
    StoreIncidentCode,
)
from app.store.timeutil import from_text, opt_from_text, to_text

_FACT_TABLES = (
    "identities",
    "consents",
    "measurements",
    "trace_entries",
    "documents",
    "session_facts",
)


def purge(conn: Connection, policy: RetentionPolicy, now: datetime) -> PurgeReport:
    """Delete acknowledged sessions older than the retention (inside the caller's BEGIN)."""
    cutoff = to_text(now - policy.retention)
    ids = [
        r[0]
        for r in conn.execute(
            "SELECT session_id FROM outbox WHERE state = ? AND acknowledged_at <= ?",
            (OutboxState.ACKNOWLEDGED.value, cutoff),
        )
    ]
    rows = 0
    for session_id in ids:
        for table in _FACT_TABLES:
            rows += conn.execute(
                f"DELETE FROM {table} WHERE session_id = ?",  # noqa: S608 (constant names)
                (session_id,),
            ).rowcount
        rows += conn.execute("DELETE FROM outbox WHERE session_id = ?", (session_id,)).rowcount
        rows += conn.execute("DELETE FROM sessions WHERE id = ?", (session_id,)).rowcount
    audit.append(
        conn,
        at=now,
        actor="kiosk",
        action="store.purge",
        detail=f"sessions={len(ids)} rows={rows}",
    )
    return PurgeReport(sessions=len(ids), rows=rows)


def buffer_bytes(conn: Connection, db_path: Path) -> int:
    page_size = int(conn.execute("PRAGMA page_size").fetchone()[0])
    pages = int(conn.execute("PRAGMA page_count").fetchone()[0])
    free = int(conn.execute("PRAGMA freelist_count").fetchone()[0])
    try:
        wal = wal_path(db_path).stat().st_size
    except FileNotFoundError:
        wal = 0
    return (pages - free) * page_size + wal


def _oldest_unsent(conn: Connection) -> datetime | None:
    row = conn.execute(
        "SELECT min(created_at) FROM outbox WHERE state != ?", (OutboxState.ACKNOWLEDGED.value,)
    ).fetchone()
    return opt_from_text(row[0])


def open_incidents(conn: Connection) -> tuple[StoreIncident, ...]:
    return tuple(
        StoreIncident(
            incident_id=int(r[0]),
            at=from_text(r[1]),
            code=StoreIncidentCode(r[2]),
            message=r[3],
            resolved_at=opt_from_text(r[4]),
        )
        for r in conn.execute(
            "SELECT id, at, code, message, resolved_at FROM incidents "
            "WHERE resolved_at IS NULL ORDER BY id"
        )
    )


def all_incidents(conn: Connection) -> tuple[StoreIncident, ...]:
    return tuple(
        StoreIncident(
            incident_id=int(r[0]),
            at=from_text(r[1]),
            code=StoreIncidentCode(r[2]),
            message=r[3],
            resolved_at=opt_from_text(r[4]),
        )
        for r in conn.execute(
            "SELECT id, at, code, message, resolved_at FROM incidents ORDER BY id"
        )
    )


_MAX_MESSAGE_CHARS = 500


def check_incident_message(message: str) -> str:
    """A maintenance sentence: one line of printable text, bounded (it is shown as is)."""
    if (
        not isinstance(message, str)
        or not message.strip()
        or len(message) > _MAX_MESSAGE_CHARS
        or not message.isprintable()
    ):
        raise InvalidValue(
            f"An incident message must be one line of 1 to {_MAX_MESSAGE_CHARS} printable "
            "characters; it was refused."
        )
    return message


def record_incident(
    conn: Connection,
    code: StoreIncidentCode,
    message: str,
    at: datetime,
    *,
    resolved: bool = False,
    actor: str = "kiosk",
) -> int:
    """One incident row (open unless `resolved`) and its audit row, in the caller's BEGIN."""
    cur = conn.execute(
        "INSERT INTO incidents (at, code, message, resolved_at) VALUES (?, ?, ?, ?)",
        (to_text(at), code.value, message, to_text(at) if resolved else None),
    )
    audit.append(conn, at=at, actor=actor, action="store.incident", detail=f"code={code.value}")
    return int(cur.lastrowid)


def health(conn: Connection, db_path: Path, policy: RetentionPolicy, now: datetime) -> StoreHealth:
    oldest = _oldest_unsent(conn)
    age: timedelta | None = None if oldest is None else now - oldest
    size = buffer_bytes(conn, db_path)
    unsent = int(
        conn.execute(
            "SELECT count(*) FROM outbox WHERE state != ?", (OutboxState.ACKNOWLEDGED.value,)
        ).fetchone()[0]
    )
    quarantined = int(
        conn.execute(
            "SELECT count(*) FROM outbox WHERE state = ?", (OutboxState.QUARANTINED.value,)
        ).fetchone()[0]
    )
    return StoreHealth(
        unsent_sessions=unsent,
        oldest_unsent_at=oldest,
        oldest_unsent_age=age,
        buffer_bytes=size,
        quarantined=quarantined,
        over_size=size > policy.max_buffer_bytes,
        too_old=age is not None and age > policy.max_unsent_age,
        open_incidents=open_incidents(conn),
    )


def check_thresholds(
    conn: Connection, db_path: Path, policy: RetentionPolicy, now: datetime
) -> StoreHealth:
    """Open or resolve the threshold incidents (inside the caller's BEGIN)."""
    current = health(conn, db_path, policy, now)
    opened = {i.code for i in current.open_incidents}
    checks = (
        (
            StoreIncidentCode.BUFFER_OVER_SIZE,
            current.over_size,
            f"The local buffer holds {current.buffer_bytes} bytes, more than the "
            f"{policy.max_buffer_bytes} bytes configured; check the connection to the platform.",
        ),
        (
            StoreIncidentCode.UNSENT_TOO_OLD,
            current.too_old,
            f"Data has been waiting to be sent for more than "
            f"{int(policy.max_unsent_age.total_seconds() // 3600)} hours; check the connection "
            "to the platform and the quarantine.",
        ),
    )
    changed = False
    for code, exceeded, message in checks:
        if exceeded and code not in opened:
            record_incident(conn, code, message, now)
            changed = True
        elif not exceeded and code in opened:
            conn.execute(
                "UPDATE incidents SET resolved_at = ? WHERE code = ? AND resolved_at IS NULL",
                (to_text(now), code.value),
            )
            audit.append(
                conn, at=now, actor="kiosk", action="store.incident-resolved", detail=f"code={code}"
            )
            changed = True
    return health(conn, db_path, policy, now) if changed else current


def resolve_incident(conn: Connection, incident_id: int, at: datetime, actor: str) -> bool:
    cur = conn.execute(
        "UPDATE incidents SET resolved_at = ? WHERE id = ? AND resolved_at IS NULL",
        (to_text(at), incident_id),
    )
    if cur.rowcount:
        audit.append(
            conn,
            at=at,
            actor=actor,
            action="store.incident-resolved",
            detail=f"incident={incident_id}",
        )
    return bool(cur.rowcount)
