"""Disk full, stepped like SQLite's I/O error tests: the file size limit lets N more
pages be written, N = 1, 2, 3 … The write that does not fit is refused with a
clear error, nothing of it is kept, everything acknowledged before is intact,
and once space is back the store goes on."""

from __future__ import annotations

import multiprocessing
import resource
import signal
from datetime import UTC, datetime
from multiprocessing.connection import Connection as Pipe
from pathlib import Path

import pytest

from app.store import FileKeySource, Store, StoreFull
from app.store.connection import wal_path
from tests.store import factories as f
from tests.store.crash_harness import Acked, TickClock, _absorb, check_after_kill

FRAME = 24 + 4096  # WAL frame header + page
STEPS = range(1, 25, 2)


def _writer_with_limit(data_dir: Path, pages: int, pipe: Pipe) -> None:
    import os

    try:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # get EFBIG, not a dead process
        store = Store.open(
            data_dir, FileKeySource(data_dir), TickClock(datetime(2025, 2, 1, tzinfo=UTC))
        )
        wal = wal_path(data_dir / "store.db")
        used = wal.stat().st_size if wal.exists() else 0
        _soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
        resource.setrlimit(resource.RLIMIT_FSIZE, (max(used, 32) + pages * FRAME, hard))
        n = 0
        try:
            while True:
                sid = f"p{pages}-s{n}"
                store.begin_session(sid, "CAB-01")
                pipe.send(("begin", sid, ""))
                for m in range(4):
                    mid = f"{sid}-m{m}"
                    store.record_measurement(sid, f.temperature(mid))
                    pipe.send(("measurement", sid, mid))
                store.end_session(sid, "completed")
                pipe.send(("end", sid, ""))
                n += 1
        except StoreFull as exc:
            pipe.send(("full", exc.operation, str(exc)))
        readable = len(store.session_ids())  # reads still work on a full disk
        resource.setrlimit(resource.RLIMIT_FSIZE, (hard, hard))  # space is back
        store.begin_session(f"p{pages}-after", "CAB-01")
        store.record_measurement(f"p{pages}-after", f.temperature(f"p{pages}-after-m"))
        pipe.send(("recovered", str(readable), ""))
        store.close()
    except BaseException as exc:
        pipe.send(("error", type(exc).__name__, str(exc)))
    finally:
        os._exit(0)


def test_stepped_disk_full_refuses_cleanly_and_keeps_everything(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with Store.open(data_dir, FileKeySource(data_dir), f.FakeClock()) as s:
        for n in range(3):  # some history that must survive
            s.begin_session(f"old-{n}", "CAB-01")
            s.record_measurement(f"old-{n}", f.temperature(f"old-{n}-m"))
            s.end_session(f"old-{n}", "completed")
    acked = Acked(
        sessions={"old-0", "old-1", "old-2"},
        ended={"old-0", "old-1", "old-2"},
        measurements={"old-0-m", "old-1-m", "old-2-m"},
    )
    ctx = multiprocessing.get_context("fork")
    refused_ops: set[str] = set()
    for pages in STEPS:
        receiver, sender = ctx.Pipe(duplex=False)
        proc = ctx.Process(target=_writer_with_limit, args=(data_dir, pages, sender), daemon=True)
        proc.start()
        sender.close()
        full = recovered = None
        while receiver.poll(30):
            try:
                message = receiver.recv()
            except EOFError:
                break
            if message[0] == "full":
                full = message
            elif message[0] == "recovered":
                recovered = message
            else:
                _absorb(acked, message)
        proc.join(10)
        assert full is not None, f"{pages} pages: the write was never refused"
        _kind, operation, text = full
        refused_ops.add(operation)
        assert text == (
            f"The store could not save '{operation}': the disk is full or the file size limit "
            "was reached. Nothing of this write was kept; everything saved before is intact."
        )
        assert recovered is not None, f"{pages} pages: the store did not go on once space was back"
        acked.sessions.add(f"p{pages}-after")
        acked.measurements.add(f"p{pages}-after-m")
        check_after_kill(data_dir, acked)
    assert refused_ops & {"record Measurement", "begin session", "end session"}
    assert len(acked.measurements) > 3 + len(STEPS)


def test_store_full_is_a_store_error_with_a_reason() -> None:
    from app.store import StoreError, StoreErrorReason

    exc = StoreFull("record Measurement")
    assert isinstance(exc, StoreError) and exc.reason is StoreErrorReason.FULL


@pytest.mark.parametrize("pages", [0])
def test_a_full_disk_at_open_is_refused_with_the_same_error(tmp_path: Path, pages: int) -> None:
    data_dir = tmp_path / "data"
    Store.open(data_dir, FileKeySource(data_dir), f.FakeClock()).close()
    ctx = multiprocessing.get_context("fork")
    receiver, sender = ctx.Pipe(duplex=False)

    def child(pipe: Pipe) -> None:
        import os

        try:
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(
                resource.RLIMIT_FSIZE, (pages, resource.getrlimit(resource.RLIMIT_FSIZE)[1])
            )
            clock = f.FakeClock()
            Store.open(data_dir, FileKeySource(data_dir), clock).begin_session("x", "CAB-01")
            pipe.send(("no error", "", ""))
        except StoreFull as exc:
            pipe.send(("full", exc.operation, ""))
        except BaseException as exc:
            pipe.send(("error", type(exc).__name__, str(exc)))
        finally:
            os._exit(0)

    proc = ctx.Process(target=child, args=(sender,), daemon=True)
    proc.start()
    sender.close()
    assert receiver.poll(30)
    kind, operation, _ = receiver.recv()
    proc.join(10)
    assert (kind, operation) in {("full", "open"), ("full", "begin session")}
