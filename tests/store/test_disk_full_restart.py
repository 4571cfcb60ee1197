"""The disk-full restart trial, on a real small file system (tmpfs, 2 MiB).

A kiosk writes sessions (some already acknowledged by the platform, some
waiting to be sent), the disk fills up under it and it is killed with its
WAL open. It restarts while the disk is still full: the open is refused with
a typed `StoreFull` that names the folder, and not one file is moved,
renamed or rewritten. Space comes back, it restarts: every acknowledged row
is there, the sent sessions are still acknowledged, the unsent ones are still
queued, `kiosk store verify` says ok.

Then the transient faults that are not a full disk (an I/O error, a check
that fails once): nothing is moved aside either. A damage seen twice is moved
aside, recorded, and reported by `verify`, even when the kiosk stopped before
it could record it.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from multiprocessing.connection import Connection as Pipe
from pathlib import Path

import pytest
from sqlcipher3 import dbapi2

from app.cli import main
from app.store import (
    FileKeySource,
    OutboxState,
    Store,
    StoreError,
    StoreFull,
    StoreIncidentCode,
    StoreIOError,
)
from app.store import opening as opening_module
from tests.store import factories as f
from tests.store.crash_harness import Acked, TickClock, _absorb, check_after_kill

SENT = 4  # sessions the platform acknowledged before the disk filled
WRITTEN_BEFORE_FULL = 10


@contextlib.contextmanager
def small_disk(where: Path, size: str = "2m") -> Iterator[Path]:
    where.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(where)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip("mounting a tmpfs needs root (the CI runs as root)")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def _fill(disk: Path) -> Path:
    filler = disk / "filler"
    with open(filler, "wb") as handle:
        with contextlib.suppress(OSError):
            while True:
                handle.write(b"\0" * 4096)
                handle.flush()
    return filler


def _kiosk_until_full(data_dir: Path, disk: Path, pipe: Pipe) -> None:
    """Write sessions; after WRITTEN_BEFORE_FULL, fill the disk; keep writing until refused."""
    try:
        store = Store.open(
            data_dir, FileKeySource(data_dir), TickClock(datetime(2025, 5, 1, tzinfo=UTC))
        )
        n = 0
        try:
            while True:
                sid = f"s{n}"
                store.begin_session(sid, "CAB-01")
                pipe.send(("begin", sid, ""))
                store.record_identity(sid, f.identity())
                pipe.send(("identity", sid, ""))
                for m in range(2):
                    store.record_measurement(sid, f.temperature(f"{sid}-m{m}"))
                    pipe.send(("measurement", sid, f"{sid}-m{m}"))
                store.end_session(sid, "completed")
                pipe.send(("end", sid, ""))
                n += 1
                if n == SENT:
                    for item in store.pending_outbox(limit=SENT):
                        store.mark_in_flight(item.item_id)
                        store.acknowledge(item.item_id, "sha256:" + "0" * 64)
                    pipe.send(("sent", "", ""))
                if n == WRITTEN_BEFORE_FULL:
                    _fill(disk)
        except StoreFull:
            pipe.send(("full", str(n), ""))
    except BaseException as exc:
        pipe.send(("error", type(exc).__name__, str(exc)))
    finally:
        os._exit(0)  # killed as it is: no close, the WAL stays


def test_disk_full_restart_trial_keeps_every_row_and_the_queue(tmp_path: Path) -> None:
    with small_disk(tmp_path / "disk") as disk:
        data_dir = disk / "data"
        ctx = multiprocessing.get_context("fork")
        receiver, sender = ctx.Pipe(duplex=False)
        proc = ctx.Process(target=_kiosk_until_full, args=(data_dir, disk, sender), daemon=True)
        proc.start()
        sender.close()
        acked = Acked()
        full = sent = False
        while receiver.poll(60):
            try:
                message = receiver.recv()
            except EOFError:
                break
            if message[0] == "full":
                full = True
            elif message[0] == "sent":
                sent = True
            else:
                _absorb(acked, message)
        proc.join(30)
        assert sent and full, "the trial did not reach a full disk"
        assert len(acked.ended) >= WRITTEN_BEFORE_FULL
        files_before = sorted(p.name for p in data_dir.iterdir())

        # 1. Restart while the disk is still full: typed, for the technician; nothing moved.
        with pytest.raises(StoreFull) as refused:
            Store.open(data_dir, FileKeySource(data_dir, create=False), f.FakeClock())
        assert refused.value.operation == "open"
        assert str(refused.value).startswith(f"The kiosk cannot open its store in {data_dir}:")
        assert "Nothing was moved or lost" in str(refused.value)
        assert sorted(p.name for p in data_dir.iterdir()) == files_before
        assert not any(".corrupt-" in name for name in files_before)

        # 2. And again (systemd restarts it): still refused, still untouched.
        with pytest.raises(StoreFull):
            Store.open(data_dir, FileKeySource(data_dir, create=False), f.FakeClock())
        assert sorted(p.name for p in data_dir.iterdir()) == files_before

        # A technician's verify on the full disk: not "ok", not "BROKEN", and nothing changed.
        assert main(["store", "verify", "--data-dir", str(data_dir)]) in (0, 2)
        assert sorted(p.name for p in data_dir.iterdir()) == files_before

        # 3. Space comes back: the same store, every acknowledged row, the queue as it was.
        (disk / "filler").unlink()
        with Store.open(data_dir, FileKeySource(data_dir, create=False), f.FakeClock()) as s:
            assert s.open_report.moved_aside is None and not s.open_report.created
            states = {sid: s.outbox_for_session(sid) for sid in acked.ended}
            acknowledged = {
                sid for sid, i in states.items() if i and i.state is OutboxState.ACKNOWLEDGED
            }
            queued = {sid for sid, i in states.items() if i and i.state is OutboxState.READY}
            assert acknowledged == {f"s{n}" for n in range(SENT)}
            assert queued == acked.ended - acknowledged
            assert len(queued) >= WRITTEN_BEFORE_FULL - SENT
            pending = {i.session_id for i in s.pending_outbox(limit=1000)}
            assert queued <= pending
            assert not any(i.code is StoreIncidentCode.CORRUPT_MOVED_ASIDE for i in s.incidents())
        check_after_kill(data_dir, acked)
        assert main(["store", "verify", "--data-dir", str(data_dir)]) == 0


def _sqlite_error(code: int, name: str) -> dbapi2.OperationalError:
    exc = dbapi2.OperationalError("disk I/O error")
    exc.sqlite_errorcode = code
    exc.sqlite_errorname = name
    return exc


def _names(data_dir: Path) -> list[str]:
    """The files that say what was kept (SQLite's -wal/-shm may come and go with a reader)."""
    return sorted(p.name for p in data_dir.iterdir() if not p.name.endswith(("-wal", "-shm")))


def _filled(data_dir: Path) -> None:
    with Store.open(data_dir, FileKeySource(data_dir), f.FakeClock()) as s:
        for n in range(3):
            s.begin_session(f"s-{n}", "CAB-01")
            s.record_measurement(f"s-{n}", f.temperature(f"m-{n}"))
            s.end_session(f"s-{n}", "completed")


@pytest.mark.parametrize(
    ("code", "name", "error"),
    [
        (10 | (3 << 8), "SQLITE_IOERR_WRITE", StoreIOError),
        (10 | (1 << 8), "SQLITE_IOERR_READ", StoreIOError),
        (13, "SQLITE_FULL", StoreFull),
        (14, "SQLITE_CANTOPEN", StoreIOError),
        (5, "SQLITE_BUSY", StoreIOError),
    ],
)
def test_a_transient_error_at_open_moves_nothing(
    data_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    code: int,
    name: str,
    error: type[StoreError],
) -> None:
    _filled(data_dir)
    before = _names(data_dir)
    from app.store.connection import connect as real_connect

    def failing(*args: object, **kwargs: object) -> object:
        raise _sqlite_error(code, name)

    monkeypatch.setattr(opening_module, "connect", failing)
    with pytest.raises(error) as exc:
        Store.open(data_dir, FileKeySource(data_dir), f.FakeClock())
    assert exc.value.reason.value in {"full", "io"}
    assert _names(data_dir) == before
    monkeypatch.setattr(opening_module, "connect", real_connect)
    with Store.open(data_dir, FileKeySource(data_dir), f.FakeClock()) as s:
        assert s.session_ids() == ["s-0", "s-1", "s-2"]
        assert s.open_report.moved_aside is None


def test_a_check_that_fails_once_is_not_damage(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _filled(data_dir)
    real = opening_module._damage
    calls: list[int] = []

    def flaky(conn: object) -> str | None:
        calls.append(1)
        return "quick_check: once" if len(calls) == 1 else real(conn)

    monkeypatch.setattr(opening_module, "_damage", flaky)
    with Store.open(data_dir, FileKeySource(data_dir), f.FakeClock()) as s:
        assert s.open_report.moved_aside is None
        assert s.session_ids() == ["s-0", "s-1", "s-2"]
    assert len(calls) == 2
    assert not opening_module.moved_aside_files(data_dir)


def test_a_move_aside_with_no_incident_is_recorded_at_the_next_start_and_verify_reports_it(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _filled(data_dir)
    # The kiosk moved a damaged file aside and stopped before the new store got its incident.
    moved = opening_module.move_aside(data_dir / "store.db", f.T0)
    with Store.open(data_dir, FileKeySource(data_dir), f.FakeClock()) as s:
        assert s.open_report.created
        incidents = [i for i in s.incidents() if i.code is StoreIncidentCode.CORRUPT_MOVED_ASIDE]
        assert len(incidents) == 1 and moved.name in incidents[0].message
    with Store.open(data_dir, FileKeySource(data_dir), f.FakeClock()) as s:  # not twice
        assert (
            len([i for i in s.incidents() if i.code is StoreIncidentCode.CORRUPT_MOVED_ASIDE]) == 1
        )
    capsys.readouterr()
    assert main(["store", "verify", "--data-dir", str(data_dir)]) == 1
    out = capsys.readouterr().out
    assert f"BROKEN  a damaged database was moved aside to {moved.name}" in out
    assert out.endswith("verdict: BROKEN\n")


def test_data_directories_are_0700(tmp_path: Path) -> None:
    wide = tmp_path / "wide"
    wide.mkdir(mode=0o755)
    os.chmod(wide, 0o755)
    deep = tmp_path / "a" / "b" / "data"
    for data_dir in (wide, deep):
        Store.open(data_dir, FileKeySource(data_dir), f.FakeClock()).close()
        assert (data_dir.stat().st_mode & 0o777) == 0o700
    assert (tmp_path / "a").stat().st_mode & 0o777 == 0o700
