"""Kill a writing process at random points and check what survived.

The child opens the store, writes sessions in a loop and reports each fact
over a pipe *after* the store call returned (i.e. after COMMIT). The parent
SIGKILLs it at a random moment, then checks the file: SQLCipher's and
SQLite's integrity, every reported fact present, every fact with its
session's outbox entry (and the count in it right), and the audit chain.
Used by tests/store/test_crash.py (100 kills) and tests/soak/ (1000).
"""

from __future__ import annotations

import json
import multiprocessing
import os
import random
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection as Pipe
from pathlib import Path

from app.store import FileKeySource, Store
from app.store.audit import verify_chain
from app.store.connection import cipher_integrity_problems, integrity_problems
from app.store.inspection import open_for_inspection
from tests.store import factories as f


class TickClock:
    """Moves 1 ms per reading: distinct, increasing times without sleeping."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        self.now += timedelta(milliseconds=1)
        return self.now


def _writer(data_dir: Path, run: int, pipe: Pipe) -> None:
    try:
        store = Store.open(
            data_dir,
            FileKeySource(data_dir),
            TickClock(datetime(2025, 1, 1, tzinfo=UTC) + timedelta(hours=run)),
        )
        n = 0
        while True:
            sid = f"r{run}-s{n}"
            store.begin_session(sid, "CAB-01")
            pipe.send(("begin", sid, ""))
            store.record_identity(sid, f.identity())
            pipe.send(("identity", sid, ""))
            for m in range(3):
                mid = f"{sid}-m{m}"
                store.record_measurement(sid, f.temperature(mid))
                pipe.send(("measurement", sid, mid))
            store.record_trace(sid, f.device_incident())
            pipe.send(("trace", sid, ""))
            store.end_session(sid, "completed")
            pipe.send(("end", sid, ""))
            n += 1
    except BaseException as exc:  # report, never hang the parent
        pipe.send(("error", type(exc).__name__, str(exc)))
    finally:
        os._exit(1)


@dataclass
class Acked:
    sessions: set[str] = field(default_factory=set)
    ended: set[str] = field(default_factory=set)
    measurements: set[str] = field(default_factory=set)
    facts: dict[str, int] = field(default_factory=dict)


def _absorb(acked: Acked, message: tuple[str, str, str]) -> None:
    kind, sid, extra = message
    if kind == "error":
        raise AssertionError(f"the writer failed: {sid}: {extra}")
    if kind == "begin":
        acked.sessions.add(sid)
    elif kind == "end":
        acked.ended.add(sid)
    else:
        acked.facts[sid] = acked.facts.get(sid, 0) + 1
        if kind == "measurement":
            acked.measurements.add(extra)


def check_after_kill(data_dir: Path, acked: Acked) -> None:
    if not (data_dir / "store.db").exists():
        # Killed before its first open had made the file: nothing was acknowledged yet.
        assert not acked.sessions and not acked.facts and not acked.measurements
        return
    conn, _ = open_for_inspection(data_dir, FileKeySource(data_dir, create=False))
    try:
        assert cipher_integrity_problems(conn) == []
        assert integrity_problems(conn) == []
        verdict = verify_chain(conn)
        assert verdict.ok, verdict.sentence()
        sessions = {r[0]: r[1] for r in conn.execute("SELECT id, end_reason FROM sessions")}
        assert acked.sessions <= set(sessions), "an acknowledged session is missing"
        assert all(sessions[s] == "completed" for s in acked.ended), (
            "an acknowledged end is missing"
        )
        ended_at = dict(conn.execute("SELECT id, ended_at FROM sessions"))
        restarts: dict[str, list[str]] = {}
        for sid, at, payload in conn.execute(
            "SELECT session_id, at, payload FROM trace_entries WHERE kind = 'incident'"
        ):
            if json.loads(payload)["incident"] == "kiosk-restarted":
                restarts.setdefault(sid, []).append(at)
        interrupted = {s for s, reason in sessions.items() if reason == "interrupted"}
        assert set(restarts) == interrupted, "a session closed at restart has no restart trace"
        assert all(restarts[s] == [ended_at[s]] for s in interrupted), (
            "the restart trace is not the one of the closing"
        )
        stored = {r[0] for r in conn.execute("SELECT id FROM measurements")}
        assert acked.measurements <= stored, "an acknowledged measurement is missing"
        orphans = conn.execute(
            "SELECT count(*) FROM measurements m LEFT JOIN outbox o ON o.session_id = m.session_id "
            "WHERE o.id IS NULL"
        ).fetchone()[0]
        assert orphans == 0, "a measurement has no outbox entry"
        lonely = conn.execute(
            "SELECT count(*) FROM outbox o LEFT JOIN sessions s ON s.id = o.session_id WHERE s.id IS NULL"
        ).fetchone()[0]
        assert lonely == 0, "an outbox entry has no session"
        mismatched = conn.execute(
            """SELECT count(*) FROM outbox o WHERE o.facts !=
                 (SELECT count(*) FROM identities WHERE session_id = o.session_id)
               + (SELECT count(*) FROM consents WHERE session_id = o.session_id)
               + (SELECT count(*) FROM measurements WHERE session_id = o.session_id)
               + (SELECT count(*) FROM trace_entries WHERE session_id = o.session_id)
               + (SELECT count(*) FROM documents WHERE session_id = o.session_id)
               + (SELECT count(*) FROM session_facts WHERE session_id = o.session_id)"""
        ).fetchone()[0]
        assert mismatched == 0, "an outbox entry does not count its session's facts"
        for sid, count in acked.facts.items():
            facts = conn.execute(
                "SELECT facts FROM outbox WHERE session_id = ?", (sid,)
            ).fetchone()[0]
            assert facts >= count, f"session {sid}: {count} facts acknowledged, {facts} stored"
    finally:
        conn.close()


def run_kills(data_dir: Path, kills: int, seed: int, *, max_acks: int = 12) -> Acked:
    """`kills` children, each killed after a random number of acknowledged facts plus jitter."""
    rng = random.Random(seed)
    acked = Acked()
    ctx = multiprocessing.get_context("fork")
    for run in range(kills):
        receiver, sender = ctx.Pipe(duplex=False)
        proc = ctx.Process(target=_writer, args=(data_dir, run, sender), daemon=True)
        proc.start()
        sender.close()
        target = rng.randint(0, max_acks)
        got = 0
        try:
            while got < target:
                if not receiver.poll(10):
                    raise AssertionError(f"run {run}: the writer stopped reporting")
                _absorb(acked, receiver.recv())
                got += 1
            time.sleep(rng.random() * 0.002)  # land anywhere inside the next transaction
        finally:
            proc.kill()
            proc.join(10)
        while receiver.poll(0):
            try:
                _absorb(acked, receiver.recv())
            except EOFError:
                break
        receiver.close()
        try:
            check_after_kill(data_dir, acked)
        except AssertionError as exc:
            raise AssertionError(f"seed {seed}, run {run}: {exc}") from exc
    return acked
