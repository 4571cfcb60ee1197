"""Wrong key, damaged file, newer schema: typed errors, and files kept."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from app.store import (
    FileKeySource,
    SchemaTooNew,
    Store,
    StoreIncidentCode,
    StoreKey,
    WrongKey,
)
from app.store.keys import write_secret_file
from app.store.migrations import LATEST_VERSION
from tests.store import factories as f
from tests.store.conftest import die_with_open_wal, raw_connection

PAGE = 4096


def _digests(data_dir: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(data_dir.iterdir())
        if p.name.startswith("store.db")
    }


def _filled(data_dir: Path, clock: f.FakeClock, sessions: int = 3) -> None:
    s = Store.open(data_dir, FileKeySource(data_dir), clock)
    for n in range(sessions):
        s.begin_session(f"s-{n}", "CAB-01")
        s.record_identity(f"s-{n}", f.identity())
        for m in range(5):
            s.record_measurement(f"s-{n}", f.temperature(f"m-{n}-{m}"))
        s.end_session(f"s-{n}", "completed")
    s.close()


def test_wrong_key_is_typed_and_leaves_every_file_untouched(
    data_dir: Path, clock: f.FakeClock
) -> None:
    _filled(data_dir, clock)
    die_with_open_wal(data_dir)  # a live WAL is the harder case: a bad close would fold it in
    assert (data_dir / "store.db-wal").stat().st_size > 0
    before = _digests(data_dir)
    right_key = (data_dir / "store.key").read_bytes()
    write_secret_file(data_dir / "store.key", StoreKey.generate().hex_for_file())
    with pytest.raises(WrongKey) as exc:
        Store.open(data_dir, FileKeySource(data_dir), clock)
    assert str(exc.value) == (
        "The store key does not open the database store.db; the file was left untouched. "
        "Maintenance is needed: restore the right key for this cabin."
    )
    after = _digests(data_dir)
    assert after == before | {k: v for k, v in after.items() if k == "store.db-shm"}
    assert set(after) == set(before)
    assert not any(p.name.startswith("store.db.corrupt") for p in data_dir.iterdir())
    write_secret_file(data_dir / "store.key", right_key)  # maintenance restores the key
    with Store.open(data_dir, FileKeySource(data_dir), clock) as s:
        assert s.session_ids() == ["s-0", "s-1", "s-2", "w-0", "w-1"]
        assert [m.id for m in s.session_bundle_source("w-1").measurements] == ["wm-1"]


@pytest.mark.parametrize("page", [0, 1, 3, -1])
def test_a_damaged_page_is_moved_aside_and_a_new_store_starts(
    data_dir: Path, clock: f.FakeClock, page: int
) -> None:
    _filled(data_dir, clock)
    db = data_dir / "store.db"
    data = bytearray(db.read_bytes())
    pages = len(data) // PAGE
    index = page % pages
    offset = index * PAGE + 200  # inside the encrypted body of that page
    data[offset : offset + 8] = bytes(b ^ 0xFF for b in data[offset : offset + 8])
    db.write_bytes(bytes(data))
    damaged = hashlib.sha256(bytes(data)).hexdigest()

    with Store.open(data_dir, FileKeySource(data_dir), clock) as s:
        moved = s.open_report.moved_aside
        assert moved == "store.db.corrupt-20250314T093000Z"
        assert hashlib.sha256((data_dir / moved).read_bytes()).hexdigest() == damaged
        assert s.session_ids() == []
        [incident] = s.incidents()
        assert incident.code is StoreIncidentCode.CORRUPT_MOVED_ASIDE
        assert incident.message.startswith("The encrypted database was damaged (")
        assert incident.message.endswith(
            "; it was moved aside to store.db.corrupt-20250314T093000Z and kept, and a new "
            "store was started."
        )
        assert s.health().open_incidents == (incident,)
        assert s.verify_audit_chain().ok
        s.begin_session("after", "CAB-01")  # the kiosk goes on
    with Store.open(data_dir, FileKeySource(data_dir), clock) as s:
        assert s.session_ids() == ["after"]


def test_a_second_damage_the_same_second_keeps_both_copies(
    data_dir: Path, clock: f.FakeClock
) -> None:
    for _ in range(2):
        _filled(data_dir, clock, sessions=1)
        db = data_dir / "store.db"
        data = bytearray(db.read_bytes())
        data[PAGE + 100] ^= 0x01
        db.write_bytes(bytes(data))
        Store.open(data_dir, FileKeySource(data_dir), clock).close()
    names = sorted(p.name for p in data_dir.iterdir() if ".corrupt-" in p.name)
    assert names == ["store.db.corrupt-20250314T093000Z", "store.db.corrupt-20250314T093000Z-1"]


def test_a_newer_schema_is_refused_and_left_alone(data_dir: Path, clock: f.FakeClock) -> None:
    _filled(data_dir, clock, sessions=1)
    conn = raw_connection(data_dir)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    before = _digests(data_dir)
    with pytest.raises(SchemaTooNew) as exc:
        Store.open(data_dir, FileKeySource(data_dir), clock)
    assert str(exc.value) == (
        f"The database is at schema version 99 but this kiosk knows versions up to {LATEST_VERSION}; it was "
        "left untouched. Install the newer kiosk software."
    )
    assert _digests(data_dir)["store.db"] == before["store.db"]
