"""The store's synchronous core: one connection, one transaction per domain fact.

Why synchronous underneath: it is what tests, the command line and the
benchmark call directly, and it keeps the transaction logic in plain code.
The application goes through `AsyncStore`, which runs every call of this
class on one dedicated thread, so the connection is only ever used there.

Every write is `BEGIN IMMEDIATE … COMMIT` with its audit row inside; the call
returns only after COMMIT (with synchronous=FULL, after the WAL is fsynced).
Any SQLite failure is rolled back and raised as a `StoreError`.
"""

from __future__ import annotations

import errno
import logging
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TypeVar

from sqlcipher3 import dbapi2

from app.domain.consent import ConsentDecision
from app.domain.identity import PatientIdentity
from app.domain.measurements import Measurement
from app.domain.trace import IncidentCode, TraceEntry
from app.domain.trace import incident as trace_incident
from app.store import accounts, audit, outbox, retention, sessions
from app.store.connection import (
    DB_FILE_NAME,
    Connection,
    cipher_integrity_problems,
    integrity_problems,
)
from app.store.errors import (
    InvalidValue,
    StoreClosed,
    StoreFull,
    StoreIOError,
    WrongThread,
    translate,
)
from app.store.keys import KeySource, StoreKey, ensure_private_dir
from app.store.migrations import LATEST_VERSION, migrate, schema_version
from app.store.opening import (
    Opened,
    acquire_lock,
    moved_aside_files,
    open_file,
    release_lock,
    write_keycheck,
)
from app.store.records import (
    AccountListing,
    OpenReport,
    OutboxItem,
    PurgeReport,
    QuarantineItem,
    RetentionPolicy,
    SessionRecord,
    StoredAccount,
    StoreHealth,
    StoreIncident,
    StoreIncidentCode,
)
from app.store.sessions import Fact
from app.store.timeutil import Clock, utc_now

log = logging.getLogger(__name__)

T = TypeVar("T")


class Store:
    """The encrypted local store. Build it with `Store.open`."""

    def __init__(
        self,
        conn: Connection,
        data_dir: Path,
        key_source: KeySource,
        clock: Clock,
        policy: RetentionPolicy,
        report: OpenReport,
        lock_fd: int,
    ) -> None:
        self._conn: Connection | None = conn
        self._lock_fd: int | None = lock_fd
        self.data_dir = data_dir
        self.db_path = data_dir / DB_FILE_NAME
        self._key_source = key_source
        self._clock = clock
        self.policy = policy
        self.open_report = report
        self._lock = threading.RLock()
        self._owner = threading.get_ident()

    # ------------------------------------------------------------------ opening

    @classmethod
    def open(
        cls,
        data_dir: Path,
        key_source: KeySource,
        clock: Clock = utc_now,
        *,
        policy: RetentionPolicy | None = None,
    ) -> Store:
        """Open (or create) the store in `data_dir`; recover what a crash left behind.

        Raises `WrongKey` (files untouched), `KeyUnavailable`, `SchemaTooNew`,
        `StoreFull`. A damaged database does not raise: it is moved aside, a new
        one is started and the incident is recorded in it (see `open_report`).
        """
        data_dir = Path(data_dir)
        now = clock()
        try:
            ensure_private_dir(data_dir)
            lock_fd = acquire_lock(data_dir)
        except OSError as exc:
            if exc.errno in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT):
                raise StoreFull("open", data_dir=data_dir) from exc
            if exc.errno == errno.EIO:
                raise StoreIOError("open", "EIO", data_dir=data_dir) from exc
            raise
        try:
            opened = open_file(data_dir, key_source, now)
        except dbapi2.Error as exc:
            release_lock(lock_fd)
            raise translate(exc, "open", data_dir / DB_FILE_NAME) from exc
        except OSError as exc:
            release_lock(lock_fd)
            if exc.errno in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT):
                raise StoreFull("open", data_dir=data_dir) from exc
            if exc.errno == errno.EIO:
                raise StoreIOError("open", "EIO", data_dir=data_dir) from exc
            raise
        except BaseException:
            release_lock(lock_fd)
            raise
        conn = opened.conn
        db_path = data_dir / DB_FILE_NAME
        try:
            before = schema_version(conn)
            applied = migrate(conn)
            store = cls(
                conn,
                data_dir,
                key_source,
                clock,
                policy or RetentionPolicy(),
                OpenReport(),
                lock_fd,
            )
            report = store._recover(opened.created, before, applied, opened, now)
            store.open_report = report
        except dbapi2.Error as exc:
            conn.close()
            release_lock(lock_fd)
            raise translate(exc, "open", db_path) from exc
        except BaseException:
            conn.close()
            release_lock(lock_fd)
            raise
        log.info(
            "store: opened (schema %d, created=%s, interrupted=%d)",
            LATEST_VERSION,
            report.created,
            report.interrupted_sessions,
        )
        return store

    def _recover(
        self,
        created: bool,
        before: int,
        applied: list[int],
        opened: Opened,
        now: datetime,
    ) -> OpenReport:
        def work(conn: Connection) -> OpenReport:
            if created:
                audit.append(conn, at=now, actor="kiosk", action="store.create")
            if applied and not created:
                audit.append(
                    conn,
                    at=now,
                    actor="kiosk",
                    action="store.migrate",
                    detail=f"from={before} to={applied[-1]}",
                )
            if opened.converted:
                audit.append(
                    conn, at=now, actor="kiosk", action="store.convert", detail="hmac=sha256"
                )
            if opened.moved_aside is not None:
                retention.record_incident(
                    conn,
                    StoreIncidentCode.CORRUPT_MOVED_ASIDE,
                    f"The encrypted database was damaged ({opened.damage}); it was moved aside "
                    f"to {opened.moved_aside.name} and kept, and a new store was started.",
                    now,
                )
            self._record_unrecorded_moves(conn, now)
            if opened.rekey_completed:
                retention.record_incident(
                    conn,
                    StoreIncidentCode.REKEY_COMPLETED_AFTER_CRASH,
                    "A rekey had been interrupted after the database was re-encrypted; the new "
                    "key was put in place at start-up.",
                    now,
                    resolved=True,
                )
            interrupted = sessions.open_session_ids(conn)
            for session_id in interrupted:
                # The trace of the act says why it stopped, and travels with it.
                restarted = trace_incident(now, IncidentCode.KIOSK_RESTARTED)
                sessions.record(conn, session_id, restarted, now)
                sessions.end(conn, session_id, "interrupted", now, actor="kiosk")
            if interrupted:
                retention.record_incident(
                    conn,
                    StoreIncidentCode.SESSION_INTERRUPTED,
                    f"{len(interrupted)} session(s) were still open when the kiosk stopped; "
                    "they were closed and will be sent as interrupted.",
                    now,
                    resolved=True,
                )
            requeued = outbox.requeue_in_flight(conn)
            retention.check_thresholds(conn, self.db_path, self.policy, now)
            return OpenReport(
                created=created,
                migrated_to=tuple(applied),
                moved_aside=None if opened.moved_aside is None else opened.moved_aside.name,
                interrupted_sessions=len(interrupted),
                requeued_in_flight=requeued,
                rekey_completed=opened.rekey_completed,
            )

        return self._write("open", work)

    def _record_unrecorded_moves(self, conn: Connection, now: datetime) -> None:
        """A file moved aside with no incident (the kiosk stopped in between): record it now.

        Moving aside and recording the incident cannot be one transaction (the
        incident goes into the new file). Whatever happened between the two, the
        moved file is still there, and no start may forget it.
        """
        recorded = " ".join(
            i.message
            for i in retention.all_incidents(conn)
            if i.code is StoreIncidentCode.CORRUPT_MOVED_ASIDE
        )
        for name in moved_aside_files(self.data_dir):
            if name in recorded:
                continue
            retention.record_incident(
                conn,
                StoreIncidentCode.CORRUPT_MOVED_ASIDE,
                f"A damaged database had been moved aside to {name} before this start and no "
                "incident said so; it is kept, and its unsent data was not sent.",
                now,
            )

    # ------------------------------------------------------------ transactions

    def _require(self) -> Connection:
        if threading.get_ident() != self._owner:
            raise WrongThread()
        if self._conn is None:
            raise StoreClosed()
        return self._conn

    def _write(self, operation: str, work: Callable[[Connection], T]) -> T:
        """Run `work` in one IMMEDIATE transaction; return only after COMMIT."""
        with self._lock:
            conn = self._require()
            try:
                conn.execute("BEGIN IMMEDIATE")
            except dbapi2.Error as exc:
                raise translate(exc, operation, self.db_path) from exc
            try:
                result = work(conn)
                conn.execute("COMMIT")
            except dbapi2.Error as exc:
                self._rollback(conn)
                raise translate(exc, operation, self.db_path) from exc
            except BaseException:
                self._rollback(conn)
                raise
            return result

    def _read(self, operation: str, work: Callable[[Connection], T]) -> T:
        with self._lock:
            conn = self._require()
            try:
                return work(conn)
            except dbapi2.Error as exc:
                raise translate(exc, operation, self.db_path) from exc

    @staticmethod
    def _rollback(conn: Connection) -> None:
        if conn.in_transaction:
            try:
                conn.execute("ROLLBACK")
            except dbapi2.Error:
                log.warning("store: rollback failed; SQLite already rolled back")

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._require()
                try:
                    self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                except dbapi2.Error:
                    log.warning("store: checkpoint at close failed; the WAL is kept")
                self._conn.close()
                self._conn = None
            if self._lock_fd is not None:
                release_lock(self._lock_fd)
                self._lock_fd = None

    @property
    def closed(self) -> bool:
        return self._conn is None

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._conn is None else "open"
        return f"Store({str(self.data_dir)!r}, {state})"

    # ----------------------------------------------------------------- sessions

    def begin_session(self, session_id: str, cabin_id: str) -> None:
        now = self._clock()
        self._write("begin session", lambda c: sessions.begin(c, session_id, cabin_id, now))

    def record(self, session_id: str, fact: Fact) -> None:
        """Keep one fact of the session (identity, consent, measurement, trace...)."""
        now = self._clock()
        self._write(
            f"record {type(fact).__name__}", lambda c: sessions.record(c, session_id, fact, now)
        )

    def record_identity(self, session_id: str, identity: PatientIdentity) -> None:
        self.record(session_id, identity)

    def record_consent(self, session_id: str, consent: ConsentDecision) -> None:
        self.record(session_id, consent)

    def record_measurement(self, session_id: str, measurement: Measurement) -> None:
        """The measurement and its session's outbox entry change in one transaction."""
        self.record(session_id, measurement)

    def record_trace(self, session_id: str, entry: TraceEntry) -> None:
        self.record(session_id, entry)

    def record_document(
        self,
        session_id: str,
        document_id: str,
        *,
        kind: str,
        media_type: str,
        title: str,
        content: bytes,
    ) -> None:
        now = self._clock()
        self._write(
            "record document",
            lambda c: sessions.attach_document(
                c,
                session_id,
                document_id,
                kind=kind,
                media_type=media_type,
                title=title,
                content=content,
                at=now,
            ),
        )

    def end_session(self, session_id: str, reason: str, *, actor: str = "kiosk") -> None:
        """Close the session; its outbox entry becomes ready in the same transaction."""
        now = self._clock()
        self._write("end session", lambda c: sessions.end(c, session_id, reason, now, actor=actor))
        # Drop SQLite's page cache: decrypted pages of this patient leave memory now.
        self._read("shrink memory", lambda c: c.execute("PRAGMA shrink_memory").fetchall())

    def session_bundle_source(self, session_id: str) -> SessionRecord:
        return self._read("read session", lambda c: sessions.read(c, session_id))

    def session_ids(self) -> list[str]:
        return self._read(
            "list sessions",
            lambda c: [r[0] for r in c.execute("SELECT id FROM sessions ORDER BY started_at, id")],
        )

    # ------------------------------------------------------------------- outbox

    def pending_outbox(self, limit: int = 10, *, now: datetime | None = None) -> list[OutboxItem]:
        return self._read("read outbox", lambda c: outbox.pending(c, limit, now))

    def outbox_item(self, item_id: int) -> OutboxItem:
        return self._read("read outbox", lambda c: outbox.get(c, item_id))

    def outbox_for_session(self, session_id: str) -> OutboxItem | None:
        return self._read("read outbox", lambda c: outbox.item_for_session(c, session_id))

    def mark_in_flight(self, item_id: int, at: datetime | None = None) -> None:
        when = at or self._clock()
        self._write("mark in flight", lambda c: outbox.mark_in_flight(c, item_id, when))

    def retry_later(
        self, item_id: int, error: str, not_before: datetime, at: datetime | None = None
    ) -> None:
        when = at or self._clock()
        self._write(
            "retry later", lambda c: outbox.retry_later(c, item_id, error, when, not_before)
        )

    def acknowledge(self, item_id: int, response_digest: str, at: datetime | None = None) -> None:
        when = at or self._clock()
        self._write("acknowledge", lambda c: outbox.acknowledge(c, item_id, response_digest, when))

    def quarantine(self, item_id: int, reason: str, at: datetime | None = None) -> None:
        when = at or self._clock()
        self._write("quarantine", lambda c: outbox.quarantine(c, item_id, reason, when))

    def requeue(self, item_id: int, *, actor: str) -> None:
        now = self._clock()
        self._write("requeue", lambda c: outbox.requeue(c, item_id, now, actor=actor))

    def list_quarantine(self) -> list[QuarantineItem]:
        return self._read("read quarantine", outbox.quarantined)

    # ---------------------------------------------------------------- retention

    def purge(self, now: datetime | None = None) -> PurgeReport:
        when = now or self._clock()

        def work(c: Connection) -> PurgeReport:
            report = retention.purge(c, self.policy, when)
            retention.check_thresholds(c, self.db_path, self.policy, when)
            return report

        report = self._write("purge", work)
        self._read("checkpoint", lambda c: c.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall())
        return report

    def health(self, now: datetime | None = None) -> StoreHealth:
        when = now or self._clock()
        return self._read("health", lambda c: retention.health(c, self.db_path, self.policy, when))

    def check_thresholds(self, now: datetime | None = None) -> StoreHealth:
        when = now or self._clock()
        return self._write(
            "check thresholds",
            lambda c: retention.check_thresholds(c, self.db_path, self.policy, when),
        )

    def incidents(self) -> tuple[StoreIncident, ...]:
        return self._read("read incidents", retention.all_incidents)

    def record_incident(
        self,
        code: StoreIncidentCode,
        message: str,
        at: datetime | None = None,
        *,
        actor: str = "kiosk",
    ) -> int:
        """Keep an incident for the maintenance screen (open until someone resolves it).

        `message` is the sentence a technician reads: one line, no health data
        (the store cannot tell, so callers write it from codes and counts only).
        Its audit row names the code and `actor`. Returns the incident id.
        """
        try:
            code = StoreIncidentCode(code)
        except ValueError:
            raise InvalidValue("The store does not know this incident code.") from None
        retention.check_incident_message(message)
        when = at or self._clock()
        return self._write(
            "record incident",
            lambda c: retention.record_incident(c, code, message, when, actor=actor),
        )

    def resolve_incident(self, incident_id: int, *, actor: str) -> bool:
        now = self._clock()
        return self._write(
            "resolve incident", lambda c: retention.resolve_incident(c, incident_id, now, actor)
        )

    # ----------------------------------------------------------------- accounts

    def add_account(self, account: StoredAccount, *, actor: str) -> None:
        now = self._clock()
        self._write("add account", lambda c: accounts.add(c, account, now, actor))

    def get_account(self, username: str) -> StoredAccount | None:
        return self._read("read account", lambda c: accounts.get(c, username))

    def all_accounts(self) -> list[StoredAccount]:
        """Every account with its secrets, for the maintenance service only."""
        return self._read("read accounts", accounts.all_accounts)

    def list_accounts(self) -> list[AccountListing]:
        return self._read("list accounts", accounts.listing)

    def update_account_security(
        self,
        username: str,
        failed_attempts: int,
        locked_until: datetime | None,
        *,
        last_totp_step: int | None = None,
    ) -> None:
        now = self._clock()
        self._write(
            "update account security",
            lambda c: accounts.update_security(
                c, username, failed_attempts, locked_until, last_totp_step, now
            ),
        )

    def update_password_hash(self, username: str, password_hash: str, *, actor: str) -> None:
        now = self._clock()
        self._write(
            "update password",
            lambda c: accounts.update_password_hash(c, username, password_hash, now, actor),
        )

    def set_account_disabled(self, username: str, disabled: bool, *, actor: str) -> None:
        now = self._clock()
        self._write(
            "disable account", lambda c: accounts.set_disabled(c, username, disabled, now, actor)
        )

    # -------------------------------------------------------------------- audit

    def append_audit(
        self,
        actor: str,
        action: str,
        *,
        outcome: str = "ok",
        subject: str = "-",
        detail: str = "",
        at: datetime | None = None,
    ) -> int:
        """One audit row for an act outside the store (sign-in, device test...). No health data."""
        when = at or self._clock()
        return self._write(
            "audit",
            lambda c: audit.append(
                c,
                at=when,
                actor=actor,
                action=action,
                outcome=outcome,
                subject=subject,
                detail=detail,
            ),
        )

    def verify_audit_chain(self) -> audit.ChainVerdict:
        return self._read("verify audit chain", audit.verify_chain)

    def audit_rows(self, limit: int = 100) -> list[audit.AuditRow]:
        """The last `limit` audit rows, oldest first (no health data in them)."""
        return self._read(
            "read audit",
            lambda c: [
                audit.AuditRow(*r)
                for r in c.execute(
                    "SELECT id, at, actor, action, outcome, subject, detail, prev_hash, hash "
                    "FROM audit_log ORDER BY id DESC LIMIT ?",
                    (limit,),
                )
            ][::-1],
        )

    # -------------------------------------------------------------- maintenance

    def cipher_integrity_problems(self) -> list[str]:
        return self._read("cipher integrity check", cipher_integrity_problems)

    def integrity_problems(self) -> list[str]:
        return self._read("integrity check", integrity_problems)

    def rekey(self, *, actor: str) -> None:
        """Re-encrypt the database in place with a new random key.

        Crash safety: the new key is first written durably as the staged key
        (store.key.new) while store.key stays as it was. `PRAGMA rekey` rewrites
        every page in one transaction. Only after it committed (and the WAL was
        checkpointed) is the staged key renamed over store.key. A crash before
        the commit leaves the old key valid (the staged one is discarded at the
        next open); a crash after it leaves the staged key valid (promoted at the
        next open).
        """
        with self._lock:
            conn = self._require()
            new_key = StoreKey.generate()
            self._key_source.stage(new_key)
            try:
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
                conn.execute(f"PRAGMA rekey = {new_key.sqlcipher_literal()}").fetchall()
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
            except dbapi2.Error as exc:
                self._key_source.discard_staged()
                raise translate(exc, "rekey", self.db_path) from exc
            self._key_source.promote_staged()
            write_keycheck(self.data_dir, new_key)
        self.append_audit(actor, "store.rekey")

    def stats(self) -> dict[str, int | str | None]:
        from app.store.stats import collect

        return self._read("stats", lambda c: collect(c, self.db_path, self._clock()))
