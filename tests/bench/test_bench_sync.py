"""Benchmark: sessions per second and kiosk CPU per session, per upload strategy, against
the independent FHIR engine (@medplum/fhir-router, validation on) and the reference
platform, in the same run.

Each server runs in its own process on loopback, so `time.process_time()` here
counts the kiosk's work only (mapping, code checks, JSON, splitting, HTTP
client, reply checks, outbox moves). The outbox is in memory (the uplink
alone); one more case drains the real SQLCipher store (two durable commits per
session) to the reference platform.

    .venv/bin/python -m pytest tests/bench/test_bench_sync.py --benchmark-enable -s

With benchmarks disabled (the normal test run) each case drains 20 sessions;
enabled, 300 (60 for conditional creates on the engine: it scans all it holds for
every one, so that case slows as it fills).
"""

from __future__ import annotations

import asyncio
import json
import shutil
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
from app.sync.upload import UploadSettings
from tests.fhirserver.conftest import ENGINE_DIR, engine_available
from tests.sync.conftest import put_sessions
from tests.sync.fakes import MemoryOutbox
from tests.sync.sessions import TEST_SITE, small_session

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = """
import sys
from aiohttp import web
from devtools.platform.app import create_app
from devtools.platform.transaction import FhirOptions
app = create_app(sys.argv[1], fhir=FhirOptions(update_create=True), open_test_mode=True)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[2]), print=None)
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _wait_ready(url: str) -> None:
    async with aiohttp.ClientSession() as http:
        async with asyncio.timeout(60):
            while True:
                try:
                    async with http.get(url + "/metadata") as r:
                        if r.status == 200:
                            return
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.1)


def _start(target: str, tmp_path: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    if target == "engine":
        engine_available()
        command = [shutil.which("node") or "node", "server.mjs", "--port", str(port)]
        cwd = ENGINE_DIR
    else:
        db = str(tmp_path / f"platform-{port}.sqlite3")
        command = [sys.executable, "-c", REFERENCE, db, str(port)]
        cwd = ROOT
    process = subprocess.Popen(  # noqa: S603 - fixed commands of this repository
        command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    return process, f"http://127.0.0.1:{port}"


async def _drain(
    tmp_path: Path, target: str, strategy: str, outbox_kind: str, n: int
) -> dict[str, Any]:
    process, url = _start(target, tmp_path)
    store: AsyncStore | None = None
    try:
        await _wait_ready(url)
        sessions = [small_session(f"S-{i:05d}") for i in range(n)]
        if outbox_kind == "memory":
            outbox: Any = MemoryOutbox(sessions)
        else:
            store = await AsyncStore.open(tmp_path / "store", FileKeySource(tmp_path / "store"))
            await put_sessions(store, TEST_SITE.cabin_id, sessions)
            outbox = StoreOutbox(store)
        async with aiohttp.ClientSession() as http:
            settings = SenderSettings(batch=200, upload=UploadSettings(strategy=strategy))
            sender = Sender(outbox, PlatformClient(http, url), TEST_SITE, settings=settings)
            await sender.strategy()
            cpu0, wall0 = time.process_time(), time.perf_counter()
            report = await sender.drain_once()
            cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
        assert report.acknowledged == n and report.retry_in_s is None, report
        return {
            "server": target,
            "strategy": strategy,
            "outbox": outbox_kind,
            "sessions": n,
            "requests": sender.stats.requests,
            "seconds": round(wall, 2),
            "sessions_per_s": round(n / wall, 1),
            "kiosk_cpu_ms_per_session": round(cpu / n * 1000, 2),
        }
    finally:
        if store is not None:
            await store.close()
        process.terminate()
        process.wait(timeout=20)


CASES = [
    ("engine", "update-create", "memory"),
    ("engine", "conditional-create", "memory"),
    ("reference", "update-create", "memory"),
    ("reference", "conditional-create", "memory"),
    ("reference", "conditional-create", "store"),
]


@pytest.mark.parametrize(("target", "strategy", "outbox_kind"), CASES)
def test_bench_drain_per_strategy_and_server(
    benchmark: Any, tmp_path: Path, target: str, strategy: str, outbox_kind: str
) -> None:
    # The engine's conditional creates scan all it holds: fewer sessions there.
    full = 60 if (target, strategy) == ("engine", "conditional-create") else 300
    n = 20 if benchmark.disabled else full
    figures: dict[str, Any] = {}

    def run() -> None:
        figures.update(asyncio.run(_drain(tmp_path, target, strategy, outbox_kind, n)))

    benchmark.pedantic(run, rounds=1, iterations=1)
    benchmark.extra_info.update(figures)
    print(f"\nsync bench: {json.dumps(figures)}")
    assert figures["sessions"] == n
