"""Numbered forward migrations of the store's schema.

Why forward only: a cabin never runs older software against a newer file
(`SchemaTooNew` refuses it and leaves the file alone), and an update must
not lose a measurement that has not reached the platform yet. Each step
runs in its own transaction with the `user_version` bump, so a power cut
during an upgrade leaves the file at the previous version, never between.

Never edit a published step: add a new one. `tests/store/test_migrations.py`
builds a database at every earlier version, fills it and migrates it.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.store.connection import Connection
from app.store.errors import SchemaTooNew


@dataclass(frozen=True)
class Migration:
    version: int
    summary: str
    statements: tuple[str, ...]


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "sessions, identity, consents, measurements, trace, outbox, audit log",
        (
            """CREATE TABLE meta (
                key TEXT PRIMARY KEY,
                value TEXT NOT NULL
            ) WITHOUT ROWID""",
            """CREATE TABLE sessions (
                id TEXT PRIMARY KEY,
                cabin_id TEXT NOT NULL,
                started_at TEXT NOT NULL,
                ended_at TEXT,
                end_reason TEXT
            )""",
            """CREATE TABLE identities (
                id INTEGER PRIMARY KEY,
                session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
                status TEXT NOT NULL,
                method TEXT NOT NULL,
                verified_by TEXT,
                payload TEXT NOT NULL,
                recorded_at TEXT NOT NULL
            )""",
            "CREATE INDEX identities_by_session ON identities(session_id)",
            """CREATE TABLE consents (
                id INTEGER PRIMARY KEY,
                session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
                item TEXT NOT NULL,
                choice TEXT NOT NULL,
                text_id TEXT NOT NULL,
                text_version TEXT NOT NULL,
                text_sha256 TEXT NOT NULL,
                language TEXT NOT NULL,
                decided_at TEXT NOT NULL,
                recorded_at TEXT NOT NULL
            )""",
            "CREATE INDEX consents_by_session ON consents(session_id)",
            """CREATE TABLE measurements (
                id TEXT PRIMARY KEY,
                session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
                kind TEXT NOT NULL,
                manual INTEGER NOT NULL,
                taken_at TEXT NOT NULL,
                payload TEXT NOT NULL,
                recorded_at TEXT NOT NULL
            )""",
            "CREATE INDEX measurements_by_session ON measurements(session_id)",
            """CREATE TABLE trace_entries (
                id INTEGER PRIMARY KEY,
                session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
                at TEXT NOT NULL,
                kind TEXT NOT NULL,
                payload TEXT NOT NULL
            )""",
            "CREATE INDEX trace_by_session ON trace_entries(session_id)",
            """CREATE TABLE outbox (
                id INTEGER PRIMARY KEY,
                session_id TEXT NOT NULL UNIQUE REFERENCES sessions(id) ON DELETE CASCADE,
                state TEXT NOT NULL CHECK (state IN
                    ('open', 'ready', 'in_flight', 'acknowledged', 'quarantined')),
                facts INTEGER NOT NULL DEFAULT 0,
                created_at TEXT NOT NULL,
                ready_at TEXT,
                attempts INTEGER NOT NULL DEFAULT 0,
                last_attempt_at TEXT,
                acknowledged_at TEXT,
                response_digest TEXT,
                quarantined_at TEXT,
                quarantine_reason TEXT
            )""",
            "CREATE INDEX outbox_by_state ON outbox(state, ready_at)",
            """CREATE TABLE audit_log (
                id INTEGER PRIMARY KEY,
                at TEXT NOT NULL,
                actor TEXT NOT NULL,
                action TEXT NOT NULL,
                outcome TEXT NOT NULL,
                subject TEXT NOT NULL,
                detail TEXT NOT NULL,
                prev_hash TEXT NOT NULL,
                hash TEXT NOT NULL
            )""",
        ),
    ),
    Migration(
        2,
        "professional accounts",
        (
            """CREATE TABLE accounts (
                username TEXT PRIMARY KEY,
                display_name TEXT NOT NULL,
                role TEXT NOT NULL CHECK (role IN ('assistant', 'technician')),
                rpps TEXT,
                adeli TEXT,
                password_hash TEXT NOT NULL,
                totp_secret TEXT NOT NULL,
                failed_attempts INTEGER NOT NULL DEFAULT 0,
                locked_until TEXT,
                created_at TEXT NOT NULL,
                disabled INTEGER NOT NULL DEFAULT 0
            )""",
        ),
    ),
    Migration(
        3,
        "documents, orientation and payment facts, store incidents, outbox retry schedule, "
        "TOTP replay guard",
        (
            "ALTER TABLE outbox ADD COLUMN not_before TEXT",
            "ALTER TABLE outbox ADD COLUMN last_error TEXT",
            "ALTER TABLE accounts ADD COLUMN last_totp_step INTEGER",
            """CREATE TABLE documents (
                id TEXT PRIMARY KEY,
                session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
                kind TEXT NOT NULL,
                media_type TEXT,
                title TEXT,
                content BLOB,
                created_at TEXT NOT NULL
            )""",
            "CREATE INDEX documents_by_session ON documents(session_id)",
            """CREATE TABLE session_facts (
                id INTEGER PRIMARY KEY,
                session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
                kind TEXT NOT NULL CHECK (kind IN ('orientation', 'payment')),
                payload TEXT NOT NULL,
                recorded_at TEXT NOT NULL
            )""",
            "CREATE INDEX session_facts_by_session ON session_facts(session_id)",
            """CREATE TABLE incidents (
                id INTEGER PRIMARY KEY,
                at TEXT NOT NULL,
                code TEXT NOT NULL,
                message TEXT NOT NULL,
                resolved_at TEXT
            )""",
            "CREATE INDEX incidents_open ON incidents(code, resolved_at)",
        ),
    ),
    Migration(
        4,
        "visit reason facts (session_facts accepts kind 'visit-reason')",
        (
            # SQLite cannot change a CHECK in place: new table, copy, swap (one transaction).
            """CREATE TABLE session_facts_v4 (
                id INTEGER PRIMARY KEY,
                session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
                kind TEXT NOT NULL CHECK (kind IN ('orientation', 'payment', 'visit-reason')),
                payload TEXT NOT NULL,
                recorded_at TEXT NOT NULL
            )""",
            "INSERT INTO session_facts_v4 (id, session_id, kind, payload, recorded_at) "
            "SELECT id, session_id, kind, payload, recorded_at FROM session_facts",
            "DROP TABLE session_facts",
            "ALTER TABLE session_facts_v4 RENAME TO session_facts",
            "CREATE INDEX session_facts_by_session ON session_facts(session_id)",
        ),
    ),
    Migration(
        5,
        "documents keyed by (session, document id): the platform names documents per "
        "consultation, so the same id in two sessions is two documents",
        (
            # Until v4 the id alone was the key: a document id seen in an earlier session made
            # the later session's document a conflict, refused for good (found by the soak).
            """CREATE TABLE documents_v5 (
                session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
                id TEXT NOT NULL,
                kind TEXT NOT NULL,
                media_type TEXT,
                title TEXT,
                content BLOB,
                created_at TEXT NOT NULL,
                PRIMARY KEY (session_id, id)
            )""",
            "INSERT INTO documents_v5 (session_id, id, kind, media_type, title, content, created_at) "
            "SELECT session_id, id, kind, media_type, title, content, created_at FROM documents",
            "DROP TABLE documents",
            "ALTER TABLE documents_v5 RENAME TO documents",
        ),
    ),
    Migration(
        6,
        "on-site staff accounts (accounts.role accepts 'on-site-staff')",
        (
            # SQLite cannot change a CHECK in place: new table, copy, swap (one transaction).
            """CREATE TABLE accounts_v6 (
                username TEXT PRIMARY KEY,
                display_name TEXT NOT NULL,
                role TEXT NOT NULL CHECK (role IN ('assistant', 'on-site-staff', 'technician')),
                rpps TEXT,
                adeli TEXT,
                password_hash TEXT NOT NULL,
                totp_secret TEXT NOT NULL,
                failed_attempts INTEGER NOT NULL DEFAULT 0,
                locked_until TEXT,
                created_at TEXT NOT NULL,
                disabled INTEGER NOT NULL DEFAULT 0,
                last_totp_step INTEGER
            )""",
            "INSERT INTO accounts_v6 (username, display_name, role, rpps, adeli, password_hash, "
            "totp_secret, failed_attempts, locked_until, created_at, disabled, last_totp_step) "
            "SELECT username, display_name, role, rpps, adeli, password_hash, totp_secret, "
            "failed_attempts, locked_until, created_at, disabled, last_totp_step FROM accounts",
            "DROP TABLE accounts",
            "ALTER TABLE accounts_v6 RENAME TO accounts",
        ),
    ),
)

LATEST_VERSION = MIGRATIONS[-1].version


def schema_version(conn: Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(
    conn: Connection,
    *,
    target: int = LATEST_VERSION,
    steps: tuple[Migration, ...] = MIGRATIONS,
) -> list[int]:
    """Bring the schema to `target`; return the versions applied (for the audit log)."""
    current = schema_version(conn)
    known = steps[-1].version
    if current > known:
        raise SchemaTooNew(current, known)
    applied: list[int] = []
    for step in steps:
        if current < step.version <= target:
            conn.execute("BEGIN IMMEDIATE")
            try:
                for statement in step.statements:
                    conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {int(step.version)}")
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            applied.append(step.version)
    return applied
