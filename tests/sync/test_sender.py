"""The sender against the real store (SQLCipher file) and the reference platform (aiohttp)."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from app.store import AsyncStore, OutboxState, StoreIncidentCode
from app.sync.monitor import NetworkEvent, NetworkMonitor
from app.sync.sender import DrainReport, Sender, SenderSettings
from app.sync.service import SyncService
from app.sync.session_snapshot import SiteInfo
from app.sync.store_adapter import StoreOutbox
from app.sync.transport import PlatformClient
from devtools.faultproxy import Fault, FaultProxy, ScriptedSchedule, always
from devtools.platform.testing import running_platform
from tests.sync.conftest import put_sessions
from tests.sync.fakes import FakeClock
from tests.sync.sessions import (
    PROD_SITE,
    T0,
    TEST_SITE,
    TRAITS,
    full_session,
    qualified,
    small_session,
)

CABIN = TEST_SITE.cabin_id


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    # One connection per request, so the fault proxy's per-connection faults hit requests.
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True)) as s:
        yield s


def make_sender(
    store: AsyncStore,
    url: str,
    http: aiohttp.ClientSession,
    clock: FakeClock,
    site: SiteInfo = TEST_SITE,
) -> Sender:
    client = PlatformClient(http, url, request_timeout_s=2.0)
    return Sender(StoreOutbox(store), client, site, clock=clock, random=random.Random(7).random)


async def states(store: AsyncStore, n: int) -> list[OutboxState]:
    return [(await store.outbox_item(i)).state for i in range(1, n + 1)]


async def test_sessions_drain_in_order_and_are_acknowledged(
    tmp_path: Path, store: AsyncStore, http: aiohttp.ClientSession
) -> None:
    await put_sessions(
        store, CABIN, [full_session("S-1"), small_session("S-2"), small_session("S-3")]
    )
    async with running_platform(tmp_path) as (url, platform):
        sender = make_sender(store, url, http, FakeClock(T0))
        report = await sender.drain_once()
        assert (report.acknowledged, report.quarantined, report.retry_in_s) == (3, 0, None)
        assert await states(store, 3) == [OutboxState.ACKNOWLEDGED] * 3
        encounters = platform.resources("Encounter")
        assert [e["identifier"][0]["value"] for e in encounters] == [
            "CAB-T1/S-1/encounter",
            "CAB-T1/S-2/encounter",
            "CAB-T1/S-3/encounter",
        ]
        assert platform.store.count("Location") == 1
        assert platform.store.count("Observation") == 3 + 1 + 1
        assert await store.pending_outbox(10) == []


async def test_lost_response_is_retried_and_creates_nothing_twice(
    tmp_path: Path, store: AsyncStore, http: aiohttp.ClientSession
) -> None:
    await put_sessions(store, CABIN, [full_session("S-1")])
    async with running_platform(tmp_path) as (url, platform):
        async with FaultProxy(
            platform.port, ScriptedSchedule([Fault.FORWARD, Fault.DROP_RESPONSE])
        ) as proxy:
            clock = FakeClock(T0)
            sender = make_sender(store, f"http://127.0.0.1:{proxy.port}", http, clock)
            first = await sender.drain_once()
            assert first.retry_in_s is not None and first.acknowledged == 0
            assert platform.stats["committed"] == 1  # the platform has it; the kiosk does not know
            # The first transaction (8 entries: the default strict-isolation limit of a
            # conditional transaction) landed; the kiosk never heard it.
            assert platform.store.count() == 8
            second = await sender.drain_once(ignore_retry_times=True)
            assert second.acknowledged == 1
            assert platform.store.count() == 25
            item = await store.outbox_item(1)
            assert (item.state, item.attempts) == (OutboxState.ACKNOWLEDGED, 2)


async def test_retry_after_is_honoured(
    tmp_path: Path, store: AsyncStore, http: aiohttp.ClientSession
) -> None:
    await put_sessions(store, CABIN, [small_session("S-1")])
    async with running_platform(tmp_path) as (url, platform):
        async with FaultProxy(
            platform.port, ScriptedSchedule([Fault.FORWARD, Fault.HTTP_503]), retry_after="7"
        ) as proxy:
            clock = FakeClock(T0)
            sender = make_sender(store, f"http://127.0.0.1:{proxy.port}", http, clock)
            report = await sender.drain_once()
            assert report.retry_in_s == 7.0
            item = await store.outbox_item(1)
            assert item.last_error == "The platform is unavailable or busy (HTTP 503)."
            assert item.not_before == clock.now() + timedelta(seconds=7)
            # Before the time the platform asked for, nothing is sent (monotonic clock).
            assert await sender.drain_once() == DrainReport(0, 0, 7.0)
            await clock.sleep(7)
            assert (await sender.drain_once()).acknowledged == 1


async def test_permanent_refusal_goes_to_quarantine_and_is_never_resent(
    tmp_path: Path, store: AsyncStore, http: aiohttp.ClientSession
) -> None:
    posts = 0

    async def refuse(request: web.Request) -> web.Response:
        nonlocal posts
        posts += 1
        await request.read()
        return web.json_response(
            {
                "resourceType": "OperationOutcome",
                "issue": [{"severity": "error", "code": "invariant", "diagnostics": "x"}],
            },
            status=422,
        )

    app = web.Application()
    app.router.add_post("/", refuse)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        port = runner.addresses[0][1]
        await put_sessions(store, CABIN, [small_session("S-1"), small_session("S-2")])
        sender = make_sender(store, f"http://127.0.0.1:{port}", http, FakeClock(T0))
        report = await sender.drain_once()
        assert (report.acknowledged, report.quarantined) == (0, 2)
        quarantined = await store.list_quarantine()
        assert [q.session_id for q in quarantined] == ["S-1", "S-2"]
        assert quarantined[0].reason == (
            "The platform refused this session for good with HTTP 422 (invariant); "
            "it is kept here until a technician looks at it."
        )
        await sender.drain_once(ignore_retry_times=True)
        assert posts == 2  # never retried blindly
        assert (await store.outbox_item(1)).state is OutboxState.QUARANTINED
        rows = await store.audit_rows(100)
        incidents = [r for r in rows if r.action == "store.incident"]
        assert [(r.actor, r.outcome, r.detail) for r in incidents] == [
            ("sync", "ok", "code=session-quarantined")
        ] * 2
        shown = await store.incidents()
        assert [(i.code, i.message, i.resolved_at) for i in shown] == [
            (
                StoreIncidentCode.SESSION_QUARANTINED,
                f"Outbox item {n} was refused by the platform or could not be converted; "
                "it is in quarantine for a technician.",
                None,
            )
            for n in (1, 2)
        ]
        assert (await store.verify_audit_chain()).ok
    finally:
        await runner.cleanup()


async def test_unmappable_session_is_quarantined_without_a_request(
    tmp_path: Path, store: AsyncStore, http: aiohttp.ClientSession
) -> None:
    await put_sessions(
        store, PROD_SITE.cabin_id, [full_session("S-1")]
    )  # test OID on a production cabin
    async with running_platform(tmp_path) as (url, platform):
        sender = make_sender(store, url, http, FakeClock(T0), site=PROD_SITE)
        report = await sender.drain_once()
        assert report.quarantined == 1
        (q,) = await store.list_quarantine()
        assert q.reason.startswith("This identity comes from a test or demonstration card")
        assert platform.stats.get("posts", 0) == 0


async def test_a_refused_code_on_the_identity_leaves_no_patient_value_in_quarantine(
    tmp_path: Path, store: AsyncStore, http: aiohttp.ClientSession
) -> None:
    # A birthplace that is not an INSEE code: the code check refuses it, and the
    # quarantine reason a technician reads must name the path, never the value.
    canary = "CANARY7Q"
    traits = replace(TRAITS, birth_place_insee=canary)
    odd = replace(full_session("S-1"), identity=replace(qualified(), traits=traits))
    await put_sessions(store, CABIN, [odd])
    async with running_platform(tmp_path) as (url, platform):
        sender = make_sender(store, url, http, FakeClock(T0))
        report = await sender.drain_once()
        assert report.quarantined == 1
        (q,) = await store.list_quarantine()
        assert q.reason == (
            "1 coded value(s) refused: Patient.birthPlace.inseeCode.code has text of 8 "
            "character(s); expected a 5-character INSEE code."
        )
        shown = " ".join(f"{i.code} {i.message}" for i in await store.incidents())
        rows = " ".join(f"{r.action} {r.detail}" for r in await store.audit_rows(100))
        for text in (q.reason, shown, rows):
            assert canary not in text
        assert platform.stats.get("posts", 0) == 0


async def test_monitor_coming_back_online_ends_a_long_pause(
    tmp_path: Path, store: AsyncStore, http: aiohttp.ClientSession
) -> None:
    """Real clock: the sender waits out a one-hour Retry-After unless the network returns."""
    await put_sessions(store, CABIN, [small_session("S-1"), small_session("S-2")])
    async with running_platform(tmp_path) as (url, platform):
        async with FaultProxy(platform.port, always(Fault.HTTP_503), retry_after="3600") as proxy:
            base = f"http://127.0.0.1:{proxy.port}"
            client = PlatformClient(http, base, request_timeout_s=2.0)
            sender = Sender(
                StoreOutbox(store), client, TEST_SITE, settings=SenderSettings(idle_poll_s=60)
            )
            direct = PlatformClient(http, url)
            monitor = NetworkMonitor(direct.healthy, interval_s=3600)
            events: list[NetworkEvent] = []
            monitor.add_listener(events.append)
            service = SyncService(sender, monitor)
            await service.start()  # first health check: online
            try:
                async with asyncio.timeout(5):
                    while sender.stats.retries < 1:
                        await asyncio.sleep(0.01)
                # The monitor's first "online" may land after that first attempt and
                # cut its pause once: one or two failures, then a one-hour pause.
                assert sender.stats.consecutive_failures in (1, 2)
                platform.set_healthy(False)
                assert await monitor.check() is None
                offline = await monitor.check()
                assert offline is not None and not offline.online
                proxy.schedule = always(Fault.FORWARD)
                platform.set_healthy(True)
                online = await monitor.check()
                assert online is not None and online.online
                # Wait for the acknowledgements themselves: an entry being sent is no
                # longer pending but not acknowledged yet.
                async with asyncio.timeout(5):
                    while await states(store, 2) != [OutboxState.ACKNOWLEDGED] * 2:
                        await asyncio.sleep(0.02)
                assert [e.online for e in events] == [True, False, True]
            finally:
                await service.stop()
