"""From the store's session read to the mapping's snapshot (the only place they meet)."""

from __future__ import annotations

from app.sync.outbox_port import SessionRecordLike
from app.sync.session_snapshot import SessionSnapshot


def snapshot_from_record(record: SessionRecordLike) -> SessionSnapshot:
    return SessionSnapshot(
        session_id=record.session_id,
        started_at=record.started_at,
        ended_at=record.ended_at,
        identity=record.identity,
        consents=tuple(record.consents),
        measurements=tuple(record.measurements),
        trace=tuple(record.trace),
    )
