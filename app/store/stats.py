"""`kiosk store stats`: counts, sizes and ages — nothing about any patient."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from app.store.connection import Connection, wal_path
from app.store.migrations import schema_version
from app.store.records import OutboxState
from app.store.timeutil import from_text

_COUNTED = (
    "sessions",
    "identities",
    "consents",
    "measurements",
    "trace_entries",
    "documents",
    "session_facts",
    "accounts",
    "audit_log",
    "incidents",
)


def _age_seconds(
    conn: Connection, sql: str, now: datetime, params: tuple[str, ...] = ()
) -> int | None:
    row = conn.execute(sql, params).fetchone()
    if row is None or row[0] is None:
        return None
    return int((now - from_text(str(row[0]))).total_seconds())


def collect(conn: Connection, db_path: Path, now: datetime) -> dict[str, int | str | None]:
    out: dict[str, int | str | None] = {"schema_version": schema_version(conn)}
    for table in _COUNTED:
        out[f"rows.{table}"] = int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])  # noqa: S608 (names are module constants)
    for state in OutboxState:
        out[f"outbox.{state.value}"] = int(
            conn.execute("SELECT count(*) FROM outbox WHERE state = ?", (state.value,)).fetchone()[
                0
            ]
        )
    out["sessions.open"] = int(
        conn.execute("SELECT count(*) FROM sessions WHERE ended_at IS NULL").fetchone()[0]
    )
    page_size = int(conn.execute("PRAGMA page_size").fetchone()[0])
    out["size.page_size"] = page_size
    out["size.pages"] = int(conn.execute("PRAGMA page_count").fetchone()[0])
    out["size.free_pages"] = int(conn.execute("PRAGMA freelist_count").fetchone()[0])
    out["size.db_file_bytes"] = db_path.stat().st_size if db_path.exists() else 0
    wal = wal_path(db_path)
    out["size.wal_file_bytes"] = wal.stat().st_size if wal.exists() else 0
    out["age.oldest_session_s"] = _age_seconds(conn, "SELECT min(started_at) FROM sessions", now)
    out["age.oldest_unsent_s"] = _age_seconds(
        conn,
        "SELECT min(created_at) FROM outbox WHERE state != ?",
        now,
        (OutboxState.ACKNOWLEDGED.value,),
    )
    out["age.last_acknowledged_s"] = _age_seconds(
        conn, "SELECT max(acknowledged_at) FROM outbox", now
    )
    out["age.last_audit_s"] = _age_seconds(conn, "SELECT max(at) FROM audit_log", now)
    return out
