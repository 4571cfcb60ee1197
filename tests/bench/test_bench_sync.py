"""Benchmark: sessions per second drained to the reference platform, and kiosk CPU per bundle.

The platform runs in its own process (`python -m devtools.platform`) so that
`time.process_time()` here counts the kiosk's work only (mapping, JSON,
HTTP client, outbox updates). Two outboxes: in memory (10 000 sessions: the
uplink alone) and the real SQLCipher store (2 000 sessions: each send costs
two durable commits, mark-in-flight and acknowledge).

    .venv/bin/python -m pytest tests/bench/test_bench_sync.py --benchmark-enable -s

With benchmarks disabled (the normal test run) each case drains 50 sessions.
"""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from app.store import AsyncStore, FileKeySource
from app.sync.sender import Sender, SenderSettings
from app.sync.store_adapter import StoreOutbox
from app.sync.transport import PlatformClient
from tests.sync.conftest import put_sessions
from tests.sync.fakes import MemoryOutbox
from tests.sync.sessions import TEST_SITE, small_session

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _wait_healthy(url: str) -> None:
    async with aiohttp.ClientSession() as http:
        async with asyncio.timeout(30):
            while True:
                try:
                    async with http.get(url + "/health") as r:
                        if r.status == 200:
                            return
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.1)


async def _drain(tmp_path: Path, kind: str, n: int) -> dict[str, Any]:
    port = _free_port()
    platform = subprocess.Popen(  # noqa: S603
        [
            sys.executable,
            "-m",
            "devtools.platform",
            "--port",
            str(port),
            "--db",
            str(tmp_path / "platform.sqlite3"),
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    store: AsyncStore | None = None
    try:
        url = f"http://127.0.0.1:{port}"
        await _wait_healthy(url)
        sessions = [small_session(f"S-{i:05d}") for i in range(n)]
        if kind == "memory":
            outbox: Any = MemoryOutbox(sessions)
        else:
            store = await AsyncStore.open(tmp_path / "store", FileKeySource(tmp_path / "store"))
            await put_sessions(store, TEST_SITE.cabin_id, sessions)
            outbox = StoreOutbox(store)
        async with aiohttp.ClientSession() as http:
            sender = Sender(
                outbox, PlatformClient(http, url), TEST_SITE, settings=SenderSettings(batch=200)
            )
            cpu0, wall0 = time.process_time(), time.perf_counter()
            report = await sender.drain_once()
            cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
        assert report.acknowledged == n and report.retry_in_s is None
        return {
            "outbox": kind,
            "sessions": n,
            "seconds": round(wall, 2),
            "sessions_per_s": round(n / wall, 1),
            "kiosk_cpu_ms_per_bundle": round(cpu / n * 1000, 2),
        }
    finally:
        if store is not None:
            await store.close()
        platform.terminate()
        platform.wait(timeout=20)


@pytest.mark.parametrize(("kind", "full_size"), [("memory", 10_000), ("store", 2_000)])
def test_bench_drain_to_reference_platform(
    benchmark: Any, tmp_path: Path, kind: str, full_size: int
) -> None:
    n = 50 if benchmark.disabled else full_size
    figures: dict[str, Any] = {}

    def run() -> None:
        figures.update(asyncio.run(_drain(tmp_path, kind, n)))

    benchmark.pedantic(run, rounds=1, iterations=1)
    benchmark.extra_info.update(figures)
    print(f"\nsync bench: {figures}")
    assert figures["sessions"] == n
