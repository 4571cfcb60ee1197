"""Fixtures of the sync room: the real SQLCipher store, filled with real sessions."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from pathlib import Path

import pytest

from app.store import AsyncStore, FileKeySource, Store
from app.sync.session_snapshot import SessionSnapshot


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[AsyncStore]:
    data_dir = tmp_path / "store"
    s = await AsyncStore.open(data_dir, FileKeySource(data_dir))
    try:
        yield s
    finally:
        await s.close()


def _put(store: Store, cabin_id: str, sessions: Iterable[SessionSnapshot]) -> None:
    for snap in sessions:
        store.begin_session(snap.session_id, cabin_id)
        if snap.identity is not None:
            store.record_identity(snap.session_id, snap.identity)
        for consent in snap.consents:
            store.record_consent(snap.session_id, consent)
        for measurement in snap.measurements:
            store.record_measurement(snap.session_id, measurement)
        for entry in snap.trace:
            store.record_trace(snap.session_id, entry)
        store.end_session(snap.session_id, "completed")


async def put_sessions(
    store: AsyncStore, cabin_id: str, sessions: Iterable[SessionSnapshot]
) -> None:
    """Record each session fact by fact and end it (its outbox entry becomes ready)."""
    # `Store` serialises calls with its own lock; a worker thread keeps the loop free.
    await asyncio.to_thread(_put, store.store, cabin_id, list(sessions))
