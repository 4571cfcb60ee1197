"""The async facade (one writer thread, awaited after commit) and the session wipe."""

from __future__ import annotations

import asyncio
import gc
import weakref
from pathlib import Path

import pytest

from app.domain.identity import InsTraits, PatientIdentity
from app.store import AsyncStore, FileKeySource, Store, WrongThread
from tests.store import factories as f


async def test_every_call_runs_on_one_store_thread_and_is_committed_when_awaited(
    data_dir: Path, clock: f.FakeClock
) -> None:
    s = await AsyncStore.open(data_dir, FileKeySource(data_dir), clock)
    await s.begin_session("a", "CAB-01")
    await asyncio.gather(*(s.record_measurement("a", f.temperature(f"m{i}")) for i in range(20)))
    await s.end_session("a", "completed")
    # The store refuses any thread but its own, so the calls above all ran on the writer thread.
    with pytest.raises(WrongThread) as exc:
        s.store.session_ids()
    assert str(exc.value).startswith("The store was called from another thread than the one")
    # Committed: a second, independent connection sees it at once.
    from app.store.inspection import open_for_inspection

    conn, _ = open_for_inspection(data_dir, FileKeySource(data_dir))
    assert conn.execute("SELECT count(*) FROM measurements").fetchone()[0] == 20
    assert conn.execute("SELECT state FROM outbox").fetchone()[0] == "ready"
    conn.close()
    record = await s.session_bundle_source("a")
    assert [m.id for m in record.measurements] == [f"m{i}" for i in range(20)]
    [item] = await s.pending_outbox()
    await s.mark_in_flight(item.item_id)
    await s.acknowledge(item.item_id, "d")
    assert (await s.health()).unsent_sessions == 0
    assert (await s.verify_audit_chain()).ok
    await s.close()
    assert s.store.closed


async def test_the_event_loop_keeps_running_while_the_store_commits(
    data_dir: Path, clock: f.FakeClock
) -> None:
    s = await AsyncStore.open(data_dir, FileKeySource(data_dir), clock)
    await s.begin_session("a", "CAB-01")
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    task = asyncio.create_task(ticker())
    for i in range(30):
        await s.record_measurement("a", f.temperature(f"m{i}"))
    task.cancel()
    await s.close()
    assert ticks >= 30  # the loop ran between (and during) the commits


def test_the_store_keeps_nothing_of_a_patient_after_the_session(store: Store) -> None:
    canary = "WIPECANARY"

    def session() -> weakref.ref[object]:
        store.begin_session("w", "CAB-01")
        store.record_identity("w", f.identity(canary))
        record = store.session_bundle_source("w")
        store.end_session("w", "completed")
        return weakref.ref(record)

    ref = session()
    gc.collect()
    assert ref() is None  # the record handed out is the caller's alone; the store kept no reference
    alive = [
        o
        for o in gc.get_objects()
        if isinstance(o, PatientIdentity | InsTraits)
        and canary
        in repr(
            getattr(o, "birth_name", None) or getattr(getattr(o, "traits", None), "birth_name", "")
        )
    ]
    assert alive == []
    # What sync still needs stays in the encrypted file, and only there.
    assert store.session_bundle_source("w").identity == f.identity(canary)
