"""The store as the application uses it: awaitable, never blocking the event loop.

Why one thread: SQLite allows one writer at a time anyway, and running every
call (reads too) on a single dedicated thread means the connection is only
ever touched there, and writes are committed in the order they were asked.
An awaited write has been committed (and fsynced) when the await returns.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from app.domain.consent import ConsentDecision
from app.domain.identity import PatientIdentity
from app.domain.measurements import Measurement
from app.domain.trace import TraceEntry
from app.store.audit import AuditRow, ChainVerdict
from app.store.errors import TRANSIENT_REASONS, StoreError
from app.store.keys import KeySource
from app.store.records import (
    AccountListing,
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
from app.store.store import Store
from app.store.timeutil import Clock, utc_now

T = TypeVar("T")

log = logging.getLogger(__name__)


class AsyncStore:
    """Awaitable facade over `Store`; build it with `await AsyncStore.open(...)`."""

    def __init__(self, store: Store, executor: ThreadPoolExecutor) -> None:
        self.store = store
        self._executor = executor

    @classmethod
    async def open(
        cls,
        data_dir: Path,
        key_source: KeySource,
        clock: Clock = utc_now,
        *,
        policy: RetentionPolicy | None = None,
    ) -> AsyncStore:
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store-writer")
        loop = asyncio.get_running_loop()
        try:
            store = await loop.run_in_executor(
                executor, functools.partial(Store.open, data_dir, key_source, clock, policy=policy)
            )
        except BaseException:
            executor.shutdown(wait=False)
            raise
        return cls(store, executor)

    @classmethod
    async def open_when_possible(
        cls,
        data_dir: Path,
        key_source: KeySource,
        clock: Clock = utc_now,
        *,
        policy: RetentionPolicy | None = None,
        on_wait: Callable[[StoreError], Any] | None = None,
        retry_s: float = 15.0,
    ) -> AsyncStore:
        """`open`, waiting out what is transient (a full disk, an I/O error) instead of failing.

        Each refused try calls `on_wait(error)` (the kiosk shows its out-of-order
        screen and logs `str(error)`, one plain line for the technician), then
        tries again after `retry_s`. Nothing is moved or rewritten while it
        waits, so when space returns the kiosk comes up with all its data. Any
        other error (wrong key, schema too new, in use) is raised at once.
        """
        while True:
            try:
                return await cls.open(data_dir, key_source, clock, policy=policy)
            except StoreError as exc:
                if exc.reason not in TRANSIENT_REASONS:
                    raise
                log.error("store: %s", exc, extra={"incident": f"store-{exc.reason.value}"})
                if on_wait is not None:
                    on_wait(exc)
            await asyncio.sleep(retry_s)

    async def _run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(fn, *args, **kwargs))

    async def close(self) -> None:
        await self._run(self.store.close)
        self._executor.shutdown(wait=True)

    # sessions
    async def begin_session(self, session_id: str, cabin_id: str) -> None:
        await self._run(self.store.begin_session, session_id, cabin_id)

    async def record(self, session_id: str, fact: Fact) -> None:
        await self._run(self.store.record, session_id, fact)

    async def record_identity(self, session_id: str, identity: PatientIdentity) -> None:
        await self._run(self.store.record_identity, session_id, identity)

    async def record_consent(self, session_id: str, consent: ConsentDecision) -> None:
        await self._run(self.store.record_consent, session_id, consent)

    async def record_measurement(self, session_id: str, measurement: Measurement) -> None:
        await self._run(self.store.record_measurement, session_id, measurement)

    async def record_trace(self, session_id: str, entry: TraceEntry) -> None:
        await self._run(self.store.record_trace, session_id, entry)

    async def record_document(
        self,
        session_id: str,
        document_id: str,
        *,
        kind: str,
        media_type: str,
        title: str,
        content: bytes,
    ) -> None:
        await self._run(
            self.store.record_document,
            session_id,
            document_id,
            kind=kind,
            media_type=media_type,
            title=title,
            content=content,
        )

    async def end_session(self, session_id: str, reason: str, *, actor: str = "kiosk") -> None:
        await self._run(self.store.end_session, session_id, reason, actor=actor)

    async def session_bundle_source(self, session_id: str) -> SessionRecord:
        return await self._run(self.store.session_bundle_source, session_id)

    # outbox
    async def pending_outbox(
        self, limit: int = 10, *, now: datetime | None = None
    ) -> list[OutboxItem]:
        return await self._run(self.store.pending_outbox, limit, now=now)

    async def outbox_item(self, item_id: int) -> OutboxItem:
        return await self._run(self.store.outbox_item, item_id)

    async def outbox_for_session(self, session_id: str) -> OutboxItem | None:
        return await self._run(self.store.outbox_for_session, session_id)

    async def mark_in_flight(self, item_id: int, at: datetime | None = None) -> None:
        await self._run(self.store.mark_in_flight, item_id, at)

    async def retry_later(
        self, item_id: int, error: str, not_before: datetime, at: datetime | None = None
    ) -> None:
        await self._run(self.store.retry_later, item_id, error, not_before, at)

    async def acknowledge(
        self, item_id: int, response_digest: str, at: datetime | None = None
    ) -> None:
        await self._run(self.store.acknowledge, item_id, response_digest, at)

    async def quarantine(self, item_id: int, reason: str, at: datetime | None = None) -> None:
        await self._run(self.store.quarantine, item_id, reason, at)

    async def requeue(self, item_id: int, *, actor: str) -> None:
        await self._run(self.store.requeue, item_id, actor=actor)

    async def list_quarantine(self) -> list[QuarantineItem]:
        return await self._run(self.store.list_quarantine)

    # retention and health
    async def purge(self, now: datetime | None = None) -> PurgeReport:
        return await self._run(self.store.purge, now)

    async def health(self, now: datetime | None = None) -> StoreHealth:
        return await self._run(self.store.health, now)

    async def check_thresholds(self, now: datetime | None = None) -> StoreHealth:
        return await self._run(self.store.check_thresholds, now)

    async def incidents(self) -> tuple[StoreIncident, ...]:
        return await self._run(self.store.incidents)

    async def record_incident(
        self,
        code: StoreIncidentCode,
        message: str,
        at: datetime | None = None,
        *,
        actor: str = "kiosk",
    ) -> int:
        return await self._run(self.store.record_incident, code, message, at, actor=actor)

    async def resolve_incident(self, incident_id: int, *, actor: str) -> bool:
        return await self._run(self.store.resolve_incident, incident_id, actor=actor)

    # accounts
    async def add_account(self, account: StoredAccount, *, actor: str) -> None:
        await self._run(self.store.add_account, account, actor=actor)

    async def get_account(self, username: str) -> StoredAccount | None:
        return await self._run(self.store.get_account, username)

    async def all_accounts(self) -> list[StoredAccount]:
        return await self._run(self.store.all_accounts)

    async def list_accounts(self) -> list[AccountListing]:
        return await self._run(self.store.list_accounts)

    async def update_account_security(
        self,
        username: str,
        failed_attempts: int,
        locked_until: datetime | None,
        *,
        last_totp_step: int | None = None,
    ) -> None:
        await self._run(
            self.store.update_account_security,
            username,
            failed_attempts,
            locked_until,
            last_totp_step=last_totp_step,
        )

    async def update_password_hash(self, username: str, password_hash: str, *, actor: str) -> None:
        await self._run(self.store.update_password_hash, username, password_hash, actor=actor)

    async def set_account_disabled(self, username: str, disabled: bool, *, actor: str) -> None:
        await self._run(self.store.set_account_disabled, username, disabled, actor=actor)

    # audit
    async def append_audit(
        self,
        actor: str,
        action: str,
        *,
        outcome: str = "ok",
        subject: str = "-",
        detail: str = "",
        at: datetime | None = None,
    ) -> int:
        return await self._run(
            self.store.append_audit,
            actor,
            action,
            outcome=outcome,
            subject=subject,
            detail=detail,
            at=at,
        )

    async def verify_audit_chain(self) -> ChainVerdict:
        return await self._run(self.store.verify_audit_chain)

    async def audit_rows(self, limit: int = 100) -> list[AuditRow]:
        """The last `limit` audit rows, oldest first, read on the store's thread."""
        return await self._run(self.store.audit_rows, limit)
