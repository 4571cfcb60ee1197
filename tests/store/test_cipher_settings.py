"""Cipher settings: HMAC-SHA256 pages; a store made with SQLCipher 4's defaults is converted once."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from app.store import FileKeySource, Store, StoreKey, WrongKey
from app.store import sessions as facts
from app.store.audit import verify_chain
from app.store.connection import (
    LEGACY_CIPHER_SETTINGS,
    ProbeResult,
    connect,
    probe_key,
)
from app.store.inspection import open_for_inspection
from app.store.keys import write_secret_file
from app.store.migrations import LATEST_VERSION, migrate
from app.store.opening import write_keycheck
from tests.store import factories as f


def _legacy_store(data_dir: Path) -> None:
    """A store as the kiosk wrote it before the settings changed (SQLCipher 4 defaults)."""
    data_dir.mkdir(parents=True)
    key = FileKeySource(data_dir).load()
    write_keycheck(data_dir, key)
    conn = connect(data_dir / "store.db", key, settings=LEGACY_CIPHER_SETTINGS)
    migrate(conn)
    for n in range(3):
        conn.execute("BEGIN IMMEDIATE")
        facts.begin(conn, f"s-{n}", "CAB-01", f.T0)
        facts.record(conn, f"s-{n}", f.identity(), f.T0)
        facts.record(conn, f"s-{n}", f.temperature(f"m-{n}"), f.T0)
        conn.execute("COMMIT")
    conn.close()


def test_new_stores_use_hmac_sha256_pages(store: Store, data_dir: Path) -> None:
    key = FileKeySource(data_dir).load()
    db = data_dir / "store.db"
    assert probe_key(db, key) is ProbeResult.OPENS
    assert probe_key(db, key, settings=LEGACY_CIPHER_SETTINGS) is ProbeResult.DOES_NOT_DECRYPT
    assert store.cipher_integrity_problems() == []


def test_a_legacy_store_is_converted_at_open_with_everything_in_it(
    data_dir: Path, clock: f.FakeClock
) -> None:
    _legacy_store(data_dir)
    db = data_dir / "store.db"
    key = FileKeySource(data_dir).load()
    # `kiosk store verify` reads it as it is, before the kiosk converted it.
    conn, staged = open_for_inspection(data_dir, FileKeySource(data_dir))
    assert (staged, conn.execute("SELECT count(*) FROM measurements").fetchone()[0]) == (False, 3)
    conn.close()
    with Store.open(data_dir, FileKeySource(data_dir), clock) as s:
        assert s.open_report.interrupted_sessions == 3
        assert s.open_report.moved_aside is None
        record = s.session_bundle_source("s-1")
        assert (record.identity, record.measurements) == (f.identity(), (f.temperature("m-1"),))
        assert s.cipher_integrity_problems() == [] and s.integrity_problems() == []
        assert s.verify_audit_chain().ok
        actions = [(r.action, r.detail) for r in s.audit_rows(1000)]
        assert actions[:3] == [
            ("session.begin", ""),
            ("identity.record", "status=QUAL method=CV"),
            ("measurement.record", "measurement=m-0 source=device"),
        ]
        assert actions[9] == ("store.convert", "hmac=sha256")
    assert probe_key(db, key) is ProbeResult.OPENS
    assert probe_key(db, key, settings=LEGACY_CIPHER_SETTINGS) is ProbeResult.DOES_NOT_DECRYPT
    assert not (data_dir / "store.db.convert").exists()
    assert not list(data_dir.glob("store.db.corrupt-*"))
    conn = connect(db, key)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == LATEST_VERSION
    assert verify_chain(conn).ok
    conn.close()


def test_a_leftover_half_conversion_is_discarded_and_the_old_file_still_opens(
    data_dir: Path, clock: f.FakeClock
) -> None:
    _legacy_store(data_dir)
    (data_dir / "store.db.convert").write_bytes(b"half written by a killed conversion")
    with Store.open(data_dir, FileKeySource(data_dir), clock) as s:
        assert len(s.session_ids()) == 3
    assert not (data_dir / "store.db.convert").exists()


def test_a_legacy_store_with_the_wrong_key_is_untouched(data_dir: Path, clock: f.FakeClock) -> None:
    _legacy_store(data_dir)
    before = hashlib.sha256((data_dir / "store.db").read_bytes()).hexdigest()
    write_secret_file(data_dir / "store.key", StoreKey.generate().hex_for_file())
    with pytest.raises(WrongKey):
        Store.open(data_dir, FileKeySource(data_dir), clock)
    assert hashlib.sha256((data_dir / "store.db").read_bytes()).hexdigest() == before
