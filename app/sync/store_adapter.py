"""Where sync meets the store: the outbox port over `AsyncStore`, and record → snapshot.

`StoreOutbox(store)` is what the composition root passes to the sender. The
store keeps one outbox entry per session (open → ready → in_flight →
acknowledged | quarantined) and its own audit rows for every move.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from app.store import AsyncStore, OutboxItem, SessionRecord, StoreIncidentCode
from app.sync.outbox_port import OutboxPort, SessionRecordLike
from app.sync.session_snapshot import SessionDocument, SessionSnapshot


def snapshot_from_record(record: SessionRecordLike) -> SessionSnapshot:
    return SessionSnapshot(
        session_id=record.session_id,
        started_at=record.started_at,
        ended_at=record.ended_at,
        identity=record.identity,
        consents=tuple(record.consents),
        measurements=tuple(record.measurements),
        trace=tuple(record.trace),
        end_reason=record.end_reason,
        identity_history=tuple(record.identity_history),
        identity_recorded_at=tuple(record.identity_recorded_at),
        orientation=record.orientation,
        payments=tuple(record.payments),
        visit_reason=record.visit_reason,
        documents=tuple(
            SessionDocument(
                document_id=d.document_id,
                kind=d.kind,
                media_type=d.media_type,
                title=d.title,
                content=d.content,
                created_at=d.created_at,
            )
            for d in record.documents
        ),
    )


class StoreOutbox:
    """The `OutboxPort` of the real SQLCipher store."""

    def __init__(self, store: AsyncStore) -> None:
        self._store = store
        # Told after each incident is kept (the heartbeat pushes at once); set by the assembly.
        self.on_incident: Callable[[], None] | None = None

    async def pending(self, limit: int, now: datetime | None) -> Sequence[OutboxItem]:
        return await self._store.pending_outbox(limit, now=now)

    async def read_session(self, session_id: str) -> SessionRecord:
        return await self._store.session_bundle_source(session_id)

    async def mark_in_flight(self, item_id: int, at: datetime) -> None:
        await self._store.mark_in_flight(item_id, at)

    async def retry_later(
        self, item_id: int, error: str, at: datetime, not_before: datetime
    ) -> None:
        await self._store.retry_later(item_id, error, not_before, at)

    async def acknowledge(self, item_id: int, response_digest: str, at: datetime) -> None:
        await self._store.acknowledge(item_id, response_digest, at)

    async def quarantine(self, item_id: int, reason: str, at: datetime) -> None:
        await self._store.quarantine(item_id, reason, at)

    async def record_incident(self, code: str, message: str, at: datetime) -> None:
        # Kept in the store's incidents (shown in maintenance, sentence and all); the
        # store adds the audit row (actor `sync`, action `store.incident`, the code).
        await self._store.record_incident(StoreIncidentCode(code), message, at, actor="sync")
        if self.on_incident is not None:
            self.on_incident()


def outbox_port(store: AsyncStore) -> OutboxPort:
    """The store as the sender sees it (mypy checks here that it fits the port)."""
    return StoreOutbox(store)
