"""Store benchmarks: commit rate SQLCipher vs plain SQLite, p99 commit latency, open, purge.

Run (figures in the report and docs/store.md):

    .venv/bin/python -m pytest tests/bench/test_bench_store.py --benchmark-enable -s

"Plain" is the same sqlcipher3 library with no key: same SQLite version, same
schema, same pragmas (WAL, synchronous=FULL, secure_delete), same code path
(`app.store.sessions.record` inside BEGIN IMMEDIATE … COMMIT). With the
benchmark disabled (the normal test run) every test runs once on small sizes.
"""

from __future__ import annotations

import shutil
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from app.store import FileKeySource, RetentionPolicy, Store
from app.store import sessions as facts
from app.store.codec import measurement_to_payload
from app.store.connection import Connection, connect
from app.store.keys import StoreKey
from app.store.migrations import migrate
from tests.store.factories import FakeClock, temperature

T0 = datetime(2025, 6, 1, tzinfo=UTC)


def _engine(path: Path, key: StoreKey | None) -> Connection:
    conn = connect(path, key)
    migrate(conn)
    conn.execute("BEGIN IMMEDIATE")
    facts.begin(conn, "bench", "CAB-01", T0)
    conn.execute("COMMIT")
    return conn


class Committer:
    """One measurement per transaction, exactly as the store writes it."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.n = 0

    def __call__(self) -> None:
        self.n += 1
        self.conn.execute("BEGIN IMMEDIATE")
        facts.record(self.conn, "bench", temperature(f"m{self.n}"), T0)
        self.conn.execute("COMMIT")


@pytest.fixture
def engines(tmp_path: Path) -> Any:
    cipher = _engine(tmp_path / "cipher.db", StoreKey.generate())
    plain = _engine(tmp_path / "plain.db", None)
    yield Committer(cipher), Committer(plain)
    cipher.close()
    plain.close()


def test_commit_sqlcipher(benchmark: Any, engines: Any) -> None:
    cipher, _ = engines
    benchmark(cipher)
    assert cipher.n >= 1


def test_commit_plain_sqlite(benchmark: Any, engines: Any) -> None:
    _, plain = engines
    benchmark(plain)
    assert plain.n >= 1


def _timed(commit: Callable[[], None], count: int) -> list[float]:
    out = []
    for _ in range(count):
        start = time.perf_counter()
        commit()
        out.append(time.perf_counter() - start)
    return out


def test_commit_ratio_and_p99_same_run(benchmark: Any, engines: Any) -> None:
    """Interleaved blocks so both engines see the same disk and machine load."""
    cipher, plain = engines
    blocks, per_block = (10, 300) if benchmark.enabled else (2, 5)
    results: dict[str, list[float]] = {"sqlcipher": [], "plain": []}

    def run() -> None:
        for _ in range(blocks):
            results["sqlcipher"] += _timed(cipher, per_block)
            results["plain"] += _timed(plain, per_block)

    benchmark.pedantic(run, rounds=1, iterations=1)
    info: dict[str, float] = {}
    for name, lat in results.items():
        lat_sorted = sorted(lat)
        info[f"{name}_commits_per_s"] = round(len(lat) / sum(lat), 1)
        info[f"{name}_p50_ms"] = round(statistics.median(lat) * 1000, 3)
        info[f"{name}_p99_ms"] = round(lat_sorted[int(0.99 * (len(lat) - 1))] * 1000, 3)
    info["ratio_sqlcipher_over_plain"] = round(
        info["sqlcipher_commits_per_s"] / info["plain_commits_per_s"], 3
    )
    benchmark.extra_info.update(info)
    print("\nstore commit benchmark:", info)
    assert len(results["sqlcipher"]) == len(results["plain"]) == blocks * per_block


def _filled_store(data_dir: Path, sessions: int, per_session: int) -> None:
    """`sessions` acknowledged sessions of `per_session` measurements, acknowledged at T0."""
    with Store.open(data_dir, FileKeySource(data_dir), FakeClock(T0)) as s:

        def fill(conn: Connection) -> None:
            for n in range(sessions):
                sid = f"s{n}"
                facts.begin(conn, sid, "CAB-01", T0)
                conn.executemany(
                    "INSERT INTO measurements (id, session_id, kind, manual, taken_at, payload, "
                    "recorded_at) VALUES (?, ?, 'body-temperature', 0, ?, ?, ?)",
                    [
                        (
                            f"{sid}-m{m}",
                            sid,
                            "2025-06-01T00:00:00.000000Z",
                            measurement_to_payload(temperature(f"{sid}-m{m}")),
                            "2025-06-01T00:00:00.000000Z",
                        )
                        for m in range(per_session)
                    ],
                )
                conn.execute(
                    "UPDATE outbox SET state = 'acknowledged', facts = ?, ready_at = ?, "
                    "acknowledged_at = ? WHERE session_id = ?",
                    (
                        per_session,
                        "2025-06-01T00:00:00.000000Z",
                        "2025-06-01T00:00:00.000000Z",
                        sid,
                    ),
                )
                conn.execute(
                    "UPDATE sessions SET ended_at = ?, end_reason = 'completed' WHERE id = ?",
                    ("2025-06-01T00:00:00.000000Z", sid),
                )

        s._write("bench fill", fill)


def test_open_time(benchmark: Any, tmp_path: Path) -> None:
    """Open an existing store (lock, key probe, HMAC and quick checks, recovery) and close it."""
    data_dir = tmp_path / "data"
    _filled_store(data_dir, 100, 10 if benchmark.enabled else 1)

    def open_close() -> None:
        Store.open(data_dir, FileKeySource(data_dir), FakeClock(T0)).close()

    benchmark(open_close)


def test_purge_100k_rows(benchmark: Any, tmp_path: Path) -> None:
    sessions, per_session = (1000, 100) if benchmark.enabled else (10, 10)
    template = tmp_path / "template"
    _filled_store(template, sessions, per_session)
    rounds = 3 if benchmark.enabled else 1
    state: dict[str, Store] = {}

    def setup() -> None:
        work = tmp_path / "work"
        if work.exists():
            shutil.rmtree(work)
        shutil.copytree(template, work)
        state["store"] = Store.open(
            work,
            FileKeySource(work),
            FakeClock(T0),
            policy=RetentionPolicy(retention=timedelta(days=1)),
        )

    def purge() -> None:
        report = state["store"].purge(T0 + timedelta(days=2))
        assert report.sessions == sessions
        assert report.rows == sessions * (per_session + 2)
        state["store"].close()

    benchmark.pedantic(purge, setup=setup, rounds=rounds, iterations=1)
    benchmark.extra_info["measurement_rows_purged"] = sessions * per_session
