"""Exactly once through faults: the real store, the reference platform, the fault proxy.

The random schedule's seed is printed so a failure can be replayed.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from app.store import AsyncStore
from app.sync.fhir_bundle import session_bundle
from app.sync.retry_policy import BackoffPolicy
from app.sync.sender import Sender, SenderSettings
from app.sync.store_adapter import StoreOutbox, snapshot_from_record
from app.sync.transport import PlatformClient
from app.sync.upload import UploadSettings
from devtools.faultproxy import Fault, FaultProxy, RandomSchedule, always
from devtools.platform.testing import PlatformHandle, running_platform
from tests.sync.conftest import put_sessions
from tests.sync.fakes import FakeClock
from tests.sync.sessions import T0, TEST_SITE, rich_session, small_session

SEED = 20261123
WEIGHTS = {
    Fault.FORWARD: 60,
    Fault.DROP_BEFORE_REQUEST: 8,
    Fault.DROP_RESPONSE: 10,
    Fault.HTTP_500: 6,
    Fault.HTTP_503: 6,
    Fault.HANG: 1,
    Fault.RESET: 9,
}


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True)) as s:
        yield s


async def expected_tokens(store: AsyncStore, session_ids: list[str]) -> set[tuple[str, str, str]]:
    """Every business identifier the kiosk mints for these sessions (param, system, value)."""
    tokens = set()
    for sid in session_ids:
        bundle = session_bundle(
            snapshot_from_record(await store.session_bundle_source(sid)), TEST_SITE
        )
        for e in bundle["entry"]:
            r = e["resource"]
            if r["resourceType"] in ("Provenance", "AuditEvent"):
                tag = r["meta"]["tag"][0]
                tokens.add(("_tag", tag["system"], tag["code"]))
            else:
                ident = r["identifier"][-1]
                tokens.add(("identifier", ident["system"], ident["value"]))
    return tokens


def platform_tokens(platform: PlatformHandle) -> list[tuple[str, str, str]]:
    db = platform.store._db  # the platform's own SQLite file, read directly
    # The kiosk's business identifiers only: a patient's INS appears once per session.
    return [
        tuple(row)
        for row in db.execute(
            "SELECT param, system, value FROM tokens WHERE system LIKE 'urn:telecabine:%'"
        )
    ]


def encounter_order(platform: PlatformHandle) -> list[str]:
    return [e["identifier"][0]["value"].split("/")[1] for e in platform.resources("Encounter")]


async def run_until_drained(sender: Sender, store: AsyncStore, seconds: float) -> None:
    task = asyncio.create_task(sender.run())
    try:
        async with asyncio.timeout(seconds):
            while (await store.health()).unsent_sessions:
                await asyncio.sleep(0.05)
    finally:
        sender.stop()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


@pytest.mark.slow
async def test_thousand_sessions_through_random_faults_land_exactly_once(
    tmp_path: Path, store: AsyncStore, http: aiohttp.ClientSession
) -> None:
    print(f"fault schedule seed: {SEED}")
    ids = [f"S-{n:04d}" for n in range(1000)]
    # One session in ten also carries documents, an orientation, a payment, an identity
    # history and an end reason other than "completed".
    sessions = [
        rich_session(sid, end_reason="interrupted") if n % 10 == 0 else small_session(sid)
        for n, sid in enumerate(ids)
    ]
    await put_sessions(store, TEST_SITE.cabin_id, sessions)
    async with running_platform(tmp_path) as (_url, platform):
        async with FaultProxy(
            platform.port, RandomSchedule(SEED, WEIGHTS), retry_after="2"
        ) as proxy:
            client = PlatformClient(http, f"http://127.0.0.1:{proxy.port}", request_timeout_s=0.5)
            clock = FakeClock(T0)
            sender = Sender(
                StoreOutbox(store),
                client,
                TEST_SITE,
                clock=clock,
                random=random.Random(SEED).random,
                # One request per session (this test is about faults, not about splitting),
                # no CapabilityStatement GET (aiohttp retries a GET once by itself).
                settings=SenderSettings(
                    batch=100,
                    backoff=BackoffPolicy(base_s=0.5, cap_s=30),
                    upload=UploadSettings(
                        strategy="conditional-create", max_conditional_entries=100
                    ),
                ),
            )
            await run_until_drained(sender, store, 150)

            assert all(proxy.counts[f] > 0 for f in Fault), proxy.counts
            health = await store.health()
            assert (health.unsent_sessions, health.quarantined) == (0, 0)
            assert await store.pending_outbox(10, now=None) == []
            assert sender.stats.acknowledged == 1000
            # Every injected fault cost one retry (a loaded machine may add a timeout or two).
            assert sender.stats.retries >= sum(
                proxy.counts[f] for f in Fault if f is not Fault.FORWARD
            )

            tokens = platform_tokens(platform)
            assert len(tokens) == len(set(tokens)), "a business identifier landed twice"
            expected = await expected_tokens(store, ids)
            assert set(tokens) == expected
            # 9 resources per small session, 31 per rich one, 4 cabin-wide (the site, the
            # kiosk, the thermometer and the rich sessions' oximeter).
            assert platform.store.count() == len(tokens) == 9 * 900 + 31 * 100 + 4
            assert len(platform.resources("DocumentReference")) == 200
            kinds = {t[2].split("/", 2)[2].split("/")[0] for t in expected if t[2].count("/") >= 2}
            assert {"document", "orientation", "provenance", "audit"} <= kinds
            assert platform.stats["committed"] >= 1000 + proxy.counts[Fault.DROP_RESPONSE]
            assert encounter_order(platform) == ids  # sessions landed in order


async def test_platform_down_for_hours_then_back_drains_in_order_without_sleeping(
    tmp_path: Path, store: AsyncStore, http: aiohttp.ClientSession
) -> None:
    ids = [f"S-{n:04d}" for n in range(40)]
    await put_sessions(store, TEST_SITE.cabin_id, [small_session(i) for i in ids])
    async with running_platform(tmp_path) as (_url, platform):
        async with FaultProxy(platform.port, always(Fault.DROP_BEFORE_REQUEST)) as proxy:
            clock = FakeClock(T0)
            outage_s = 6 * 3600
            clock.at(outage_s, lambda: setattr(proxy, "schedule", always(Fault.FORWARD)))
            sender = Sender(
                StoreOutbox(store),
                PlatformClient(http, f"http://127.0.0.1:{proxy.port}", request_timeout_s=2),
                TEST_SITE,
                clock=clock,
                random=random.Random(3).random,
                settings=SenderSettings(
                    backoff=BackoffPolicy(base_s=1, cap_s=300),
                    upload=UploadSettings(strategy="conditional-create"),
                ),
            )
            loop = asyncio.get_running_loop()
            started = loop.time()
            await run_until_drained(sender, store, 60)
            assert loop.time() - started < 30  # six hours of outage, no real sleeping

            assert clock.slept >= outage_s
            retries = sender.stats.retries
            assert retries == proxy.counts[Fault.DROP_BEFORE_REQUEST]
            # Full jitter under a 300 s cap: about one attempt every 150 s on average.
            assert 60 <= retries <= 600, retries
            backoffs = clock.sleeps[:retries]
            assert all(0 <= d <= min(300, 2**i) for i, d in enumerate(backoffs)), backoffs[:12]
            assert max(backoffs) <= 300
            health = await store.health()
            assert (health.unsent_sessions, health.quarantined) == (0, 0)
            assert encounter_order(platform) == ids
            assert platform.store.count("Encounter") == 40
            first = await store.outbox_item(1)
            assert first.attempts == retries + 1  # the head session waited; the others went once
            assert (await store.outbox_item(2)).attempts == 1
