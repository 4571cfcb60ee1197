"""Rekey in place: the new key works, the old one does not, and a crash at any point loses nothing."""

from __future__ import annotations

import multiprocessing
import os
import random
import time
from pathlib import Path

import pytest

from app.store import (
    CredentialKeySource,
    FileKeySource,
    RekeyUnsupported,
    Store,
    StoreIncidentCode,
    StoreKey,
    WrongKey,
)
from app.store.connection import connect
from app.store.keys import write_secret_file
from tests.store import factories as f


def _fill(data_dir: Path, clock: f.FakeClock, n: int = 5) -> None:
    with Store.open(data_dir, FileKeySource(data_dir), clock) as s:
        for i in range(n):
            s.begin_session(f"s{i}", "CAB-01")
            s.record_measurement(f"s{i}", f.temperature(f"m{i}"))
            s.end_session(f"s{i}", "completed")


def test_rekey_replaces_the_key_and_keeps_the_data(data_dir: Path, clock: f.FakeClock) -> None:
    _fill(data_dir, clock)
    old = (data_dir / "store.key").read_bytes()
    with Store.open(data_dir, FileKeySource(data_dir), clock) as s:
        s.rekey(actor="cli:tech")
        assert s.session_bundle_source("s3").measurements == (f.temperature("m3"),)
    new = (data_dir / "store.key").read_bytes()
    assert new != old and not (data_dir / "store.key.new").exists()
    with Store.open(data_dir, FileKeySource(data_dir), clock) as s:
        assert len(s.session_ids()) == 5
        assert [(r.actor, r.action) for r in s.audit_rows()][-1] == ("cli:tech", "store.rekey")
        assert s.verify_audit_chain().ok
    write_secret_file(data_dir / "store.key", old)
    with pytest.raises(WrongKey):
        Store.open(data_dir, FileKeySource(data_dir), clock)


def test_a_crash_before_the_rekey_committed_keeps_the_old_key(
    data_dir: Path, clock: f.FakeClock
) -> None:
    _fill(data_dir, clock)
    old = (data_dir / "store.key").read_bytes()
    FileKeySource(data_dir).stage(StoreKey.generate())  # step 1 done, then the power went out
    with Store.open(data_dir, FileKeySource(data_dir), clock) as s:
        assert not s.open_report.rekey_completed
        assert len(s.session_ids()) == 5
    assert (data_dir / "store.key").read_bytes() == old
    assert not (data_dir / "store.key.new").exists()


def test_a_crash_after_the_rekey_committed_finishes_the_swap(
    data_dir: Path, clock: f.FakeClock
) -> None:
    _fill(data_dir, clock)
    source = FileKeySource(data_dir)
    new = StoreKey.generate()
    source.stage(new)
    conn = connect(data_dir / "store.db", source.load())
    conn.execute(f"PRAGMA rekey = {new.sqlcipher_literal()}")
    conn.close()  # the database uses the new key; store.key still holds the old one
    with Store.open(data_dir, FileKeySource(data_dir), clock) as s:
        assert s.open_report.rekey_completed
        assert len(s.session_ids()) == 5
        [incident] = s.incidents()
        assert incident.code is StoreIncidentCode.REKEY_COMPLETED_AFTER_CRASH
        assert incident.resolved_at == clock.now
    assert FileKeySource(data_dir).load() == new
    assert not (data_dir / "store.key.new").exists()


def test_a_sealed_credential_cannot_be_rekeyed_and_nothing_changes(
    tmp_path: Path, clock: f.FakeClock
) -> None:
    creds, data_dir = tmp_path / "creds", tmp_path / "data"
    creds.mkdir()
    (creds / "store.key").write_bytes(os.urandom(32))
    os.chmod(creds / "store.key", 0o400)
    source = CredentialKeySource(credentials_dir=creds)
    with Store.open(data_dir, source, clock) as s:
        s.begin_session("a", "CAB-01")
        with pytest.raises(RekeyUnsupported) as exc:
            s.rekey(actor="cli:tech")
        assert "seal the new key again" in str(exc.value)
    with Store.open(data_dir, source, clock) as s:
        assert s.session_ids() == ["a"]
    assert not (data_dir / "store.key").exists()


def _rekey_child(data_dir: Path) -> None:
    try:
        with Store.open(data_dir, FileKeySource(data_dir), f.FakeClock()) as s:
            s.rekey(actor="cli:tech")
    finally:
        os._exit(0)


def test_killed_at_random_points_during_rekey_the_store_always_opens(
    data_dir: Path, clock: f.FakeClock
) -> None:
    _fill(data_dir, clock, n=40)
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    ctx = multiprocessing.get_context("fork")
    for run in range(12):
        proc = ctx.Process(target=_rekey_child, args=(data_dir,), daemon=True)
        proc.start()
        time.sleep(rng.random() * 0.03)
        proc.kill()
        proc.join(10)
        with Store.open(data_dir, FileKeySource(data_dir), clock) as s:
            assert len(s.session_ids()) == 40, f"seed {seed} run {run}"
            assert s.cipher_integrity_problems() == [], f"seed {seed} run {run}"
            assert s.verify_audit_chain().ok, f"seed {seed} run {run}"
        assert not (data_dir / "store.key.new").exists()
