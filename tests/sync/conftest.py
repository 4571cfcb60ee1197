"""Fixtures of the sync room: the real SQLCipher store, filled with real sessions."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from pathlib import Path

import pytest

from app.domain.session_effects import DocumentRecord
from app.store import AsyncStore, FileKeySource
from app.sync.session_snapshot import SessionSnapshot


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[AsyncStore]:
    data_dir = tmp_path / "store"
    s = await AsyncStore.open(data_dir, FileKeySource(data_dir))
    try:
        yield s
    finally:
        await s.close()


async def put_sessions(
    store: AsyncStore, cabin_id: str, sessions: Iterable[SessionSnapshot]
) -> None:
    """Record each session fact by fact and end it (its outbox entry becomes ready)."""
    for snap in sessions:
        await store.begin_session(snap.session_id, cabin_id)
        for identity in snap.identity_history or (
            () if snap.identity is None else (snap.identity,)
        ):
            await store.record_identity(snap.session_id, identity)
        if snap.orientation is not None:
            await store.record(snap.session_id, snap.orientation)
        for payment in snap.payments:
            await store.record(snap.session_id, payment)
        if snap.visit_reason is not None:
            await store.record(snap.session_id, snap.visit_reason)
        for document in snap.documents:
            if document.content is None:
                await store.record(
                    snap.session_id, DocumentRecord(document.document_id, document.kind)
                )
            else:
                await store.record_document(
                    snap.session_id,
                    document.document_id,
                    kind=document.kind,
                    media_type=document.media_type or "application/octet-stream",
                    title=document.title or "",
                    content=document.content,
                )
        for consent in snap.consents:
            await store.record_consent(snap.session_id, consent)
        for measurement in snap.measurements:
            await store.record_measurement(snap.session_id, measurement)
        for entry in snap.trace:
            await store.record_trace(snap.session_id, entry)
        await store.end_session(snap.session_id, snap.end_reason or "completed")
