"""The heartbeat reaches the reference platform; a dropped network only delays it.

Real parts: the reference platform (aiohttp, its `POST /v1/metrics`), the
real SQLCipher store for the facts, aiohttp on the kiosk's side. Time is real
but short (intervals of a fraction of a second).
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from app.domain.identity import (
    CollectionMethod,
    IdentityDocument,
    IdentityStatus,
    InsOid,
    InsTraits,
    PatientIdentity,
    Sex,
    parse_nir,
)
from app.domain.nir import nir_key
from app.store import AsyncStore, StoreIncidentCode
from app.sync.clock import SystemClock
from app.sync.heartbeat import (
    FactSources,
    Heartbeat,
    HeartbeatSettings,
    OtlpHttpClient,
    PushResult,
    Verdict,
    build_heartbeat,
    collect_facts,
    device_states,
    judge,
)
from app.sync.otlp_metrics import HeartbeatFacts, encode
from app.sync.transport import HttpReply, NetworkFailure, NetworkFailureReason
from devtools.platform.fleet import FLEET_KEY, CabinHeartbeat
from devtools.platform.testing import PlatformHandle, running_platform
from kiosk_config import parse_config
from tests.sync.test_tls import config as tls_config
from tests.sync.test_tls import pki, server_context  # noqa: F401 - `pki` is a fixture
from vocabulary.devices import DeviceKind

AT = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
FAST = HeartbeatSettings(interval_s=0.3, retry_base_s=0.05, min_gap_s=0.0, request_timeout_s=2.0)


class Figures:
    """A cabin whose queue the test changes; each collect reads it now."""

    def __init__(self) -> None:
        self.queue = 0
        self.incidents: tuple[str, ...] = ()
        self.collected = 0

    async def collect(self) -> HeartbeatFacts:
        self.collected += 1
        return HeartbeatFacts(
            cabin_id="CAB-HB-01",
            version="0.1.0",
            observed_at=datetime.now(UTC),
            uptime_s=12.0,
            interval_s=FAST.interval_s,
            queue_depth=self.queue,
            open_incidents=self.incidents,
        )


class Recording:
    """Wraps a client: keeps every body sent (what left the kiosk, byte for byte)."""

    def __init__(self, inner: OtlpHttpClient) -> None:
        self.inner = inner
        self.bodies: list[bytes] = []

    async def post_metrics(self, body: bytes) -> HttpReply:
        self.bodies.append(body)
        return await self.inner.post_metrics(body)


def fleet_of(platform: PlatformHandle, cabin: str) -> CabinHeartbeat | None:
    return platform.app[FLEET_KEY].store.get(cabin)


async def until(check: Callable[[], bool], timeout: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not check():
        if loop.time() > end:
            raise AssertionError("the condition did not come true in time")
        await asyncio.sleep(0.02)


async def running(heartbeat: Heartbeat) -> asyncio.Task[None]:
    return asyncio.create_task(heartbeat.run())


async def stopped(heartbeat: Heartbeat, task: asyncio.Task[None]) -> None:
    heartbeat.stop()
    await asyncio.wait_for(task, 5)


# ----------------------------------------------------------------- reaching it


async def test_the_heartbeat_reaches_the_reference_platform(tmp_path: Path) -> None:
    figures = Figures()
    figures.queue = 3
    figures.incidents = ("platform-unreachable",)
    async with running_platform(tmp_path) as (url, platform), aiohttp.ClientSession() as http:
        beat = Heartbeat(figures.collect, OtlpHttpClient(http, url + "/v1/metrics"), settings=FAST)
        result = await beat.beat()
        assert result == PushResult(Verdict.SENT, 200)
        seen = fleet_of(platform, "CAB-HB-01")
        assert seen is not None
        assert (seen.version, seen.queue, seen.incidents) == (
            "0.1.0",
            3,
            {"platform-unreachable": 1},
        )
        assert beat.stats.sent == 1 and beat.stats.consecutive_failures == 0


async def test_a_dropped_network_only_delays_it(tmp_path: Path) -> None:
    """Platform up, then down (the kiosk keeps trying, nothing piles up), then up again:
    the first heartbeat after recovery carries the figures of that moment."""
    figures = Figures()
    db = tmp_path / "platform.sqlite3"
    async with aiohttp.ClientSession() as http:
        async with running_platform(tmp_path, db_path=db) as (url, platform):
            port = platform.port
            client = Recording(OtlpHttpClient(http, url + "/v1/metrics", request_timeout_s=1.0))
            beat = Heartbeat(figures.collect, client, settings=FAST)
            task = await running(beat)
            await until(lambda: (s := fleet_of(platform, "CAB-HB-01")) is not None and s.queue == 0)
        # The platform is gone: pushes fail, the loop goes on, the queue grows meanwhile.
        failures_before = beat.stats.failures
        figures.queue = 7
        await until(lambda: beat.stats.consecutive_failures >= 3)
        assert beat.stats.failures > failures_before
        assert not task.done()
        figures.queue = 9
        async with running_platform(tmp_path, port=port, db_path=db) as (_url, platform):
            await until(lambda: (s := fleet_of(platform, "CAB-HB-01")) is not None and s.queue == 9)
            assert beat.stats.consecutive_failures == 0
        await stopped(beat, task)
    # Each body was collected when it was sent: no stale facts queued up during the drop.
    assert all(b'"asInt":"7"' in body or b'"asInt":"9"' in body for body in client.bodies[-2:])


async def test_after_a_new_incident_it_pushes_at_once(tmp_path: Path) -> None:
    figures = Figures()
    slow = replace(FAST, interval_s=60.0, min_gap_s=0.0)
    async with running_platform(tmp_path) as (url, platform), aiohttp.ClientSession() as http:
        beat = Heartbeat(figures.collect, OtlpHttpClient(http, url + "/v1/metrics"), settings=slow)
        task = await running(beat)
        await until(lambda: fleet_of(platform, "CAB-HB-01") is not None)
        figures.incidents = ("session-quarantined",)
        beat.incident_raised()
        await until(
            lambda: (
                (s := fleet_of(platform, "CAB-HB-01")) is not None
                and s.incidents == {"session-quarantined": 1}
            ),
            timeout=3.0,
        )
        await stopped(beat, task)


class Counting:
    def __init__(self) -> None:
        self.posts = 0

    async def post_metrics(self, body: bytes) -> HttpReply:
        self.posts += 1
        return HttpReply(200, {}, b"{}")


async def test_a_burst_of_incidents_gives_few_pushes() -> None:
    """50 incidents inside `min_gap_s` after a push: one more push, for the whole burst."""
    figures = Figures()
    client = Counting()
    beat = Heartbeat(
        figures.collect, client, settings=replace(FAST, interval_s=60.0, min_gap_s=2.0)
    )
    task = await running(beat)
    await until(lambda: client.posts == 1)
    loop = asyncio.get_running_loop()
    started = loop.time()
    for _ in range(50):
        beat.incident_raised()
        await asyncio.sleep(0.005)
    assert loop.time() - started < 2.0  # the burst fits inside the gap
    await until(lambda: client.posts == 2)
    await asyncio.sleep(0.3)
    await stopped(beat, task)
    assert client.posts == 2  # the start, then one for the whole burst


# ------------------------------------------------------------- retry decisions


def test_the_platform_answer_decides_the_next_push() -> None:
    assert judge(HttpReply(200, {}, b"{}"), AT).verdict is Verdict.SENT
    busy = judge(HttpReply(503, {"Retry-After": "120"}, b""), AT)
    assert (busy.verdict, busy.retry_after_s) == (Verdict.RETRY, 120.0)
    for status in (429, 502, 504):
        assert judge(HttpReply(status, {}, b""), AT).verdict is Verdict.RETRY
    for status in (400, 401, 403, 404, 413, 415, 500):
        assert judge(HttpReply(status, {}, b""), AT).verdict is Verdict.REFUSED


class Failing:
    async def post_metrics(self, body: bytes) -> HttpReply:
        raise NetworkFailure(NetworkFailureReason.CONNECTION, "down")


async def test_retries_stay_within_one_interval_and_refusals_wait_for_the_next() -> None:
    figures = Figures()
    beat = Heartbeat(
        figures.collect,
        Failing(),
        settings=HeartbeatSettings(interval_s=300.0, retry_base_s=5.0),
        random=lambda: 0.999,
    )
    delays = []
    for _ in range(12):
        result = await beat.beat()
        assert result.verdict is Verdict.RETRY and result.reason == "connection"
        delays.append(beat.delay_after(result))
    assert delays[0] < 5.0 and delays == sorted(delays) and max(delays) < 300.0
    assert beat.delay_after(PushResult(Verdict.REFUSED, 400)) == 300.0
    assert beat.delay_after(PushResult(Verdict.RETRY, 503, retry_after_s=900.0)) == 900.0


async def test_unreadable_facts_send_the_last_ones_read() -> None:
    figures = Figures()
    calls = 0

    async def flaky() -> HeartbeatFacts:
        nonlocal calls
        calls += 1
        if calls > 1:
            raise RuntimeError("store busy")
        return await figures.collect()

    client = Counting()
    beat = Heartbeat(flaky, client, settings=FAST)
    assert (await beat.beat()).verdict is Verdict.SENT
    first = beat.latest
    assert (await beat.beat()).verdict is Verdict.SENT
    assert beat.latest is first and client.posts == 2

    async def broken() -> HeartbeatFacts:
        raise RuntimeError("store closed")

    never = Heartbeat(broken, client, settings=FAST)
    assert (await never.beat()) == PushResult(Verdict.RETRY, reason="facts unreadable")
    assert client.posts == 2


# ---------------------------------------------------------------- the facts


class _Driver:
    def __init__(self, device_id: str, kind: DeviceKind, running: bool) -> None:
        self.device_id = device_id
        self.kind = kind
        self.running = running


async def _canary_store(store: AsyncStore) -> tuple[str, str]:
    canary = "CANARY" + uuid.uuid4().hex
    nir13 = "2" + "61" + "07" + "75" + "1" + f"{random.randrange(100):02d}" + "123"
    nir = nir13 + nir_key(nir13)
    identity = PatientIdentity(
        traits=InsTraits(
            birth_name=f"{canary}-birth-name",
            birth_first_names=(f"{canary}-first",),
            birth_date=date(1961, 7, 14),
            sex=Sex.FEMALE,
            birth_place_insee="69123",
            first_name_used=f"{canary}-used-first",
            used_name=f"{canary}-used-name",
        ),
        status=IdentityStatus.QUAL,
        method=CollectionMethod.CV,
        identifier=parse_nir(nir),
        ins_oid=InsOid.TEST,
        verified_by="marie.ph",
        verification_document=IdentityDocument.PASSPORT,
        validation_date=date(2025, 5, 1),
    )
    for sid in ("canary-1", "canary-2"):
        await store.begin_session(sid, "CAB-HB-01")
        await store.record_identity(sid, identity)
        await store.end_session(sid, "completed")
    item = await store.outbox_for_session("canary-2")
    assert item is not None
    await store.quarantine(item.item_id, "The platform refused entry 1 (Patient) with 400.")
    await store.record_incident(
        StoreIncidentCode.SESSION_QUARANTINED, "One session is in quarantine.", actor="sync"
    )
    return canary, nir


async def test_facts_from_the_real_store_carry_no_patient(
    tmp_path: Path, store: AsyncStore
) -> None:
    """A store full of canary names and a NIR: the bytes sent hold none of them, but the
    figures (queue, quarantine, incident codes, devices, disk) are there."""
    canary, nir = await _canary_store(store)
    sources = FactSources(
        cabin_id="CAB-HB-01",
        version="0.1.0",
        store=store,
        data_dir=tmp_path,
        drivers=lambda: [
            _Driver("card-1", DeviceKind.CARD_READER, True),
            _Driver("thermo-1", DeviceKind.THERMOMETER, False),
        ],
    )
    async with running_platform(tmp_path / "p") as (url, platform), aiohttp.ClientSession() as http:
        client = Recording(OtlpHttpClient(http, url + "/v1/metrics"))
        clock = SystemClock()
        beat = Heartbeat(lambda: collect_facts(sources, clock, 300.0), client, settings=FAST)
        assert (await beat.beat()).verdict is Verdict.SENT
        seen = fleet_of(platform, "CAB-HB-01")
    assert seen is not None
    assert (seen.queue, seen.quarantined) == (1, 1)
    assert seen.incidents == {"session-quarantined": 1}
    assert seen.devices == (
        ("card-1", "card-reader", "running"),
        ("thermo-1", "thermometer", "idle"),
    )
    assert seen.disk_free_bytes is not None and seen.disk_free_bytes > 0
    assert seen.oldest_unsent_s is not None and seen.oldest_unsent_s >= 0
    assert seen.last_sync_unix_s is None  # nothing public tells it yet: left out
    (body,) = client.bodies
    for needle in (canary, nir, nir[:13], "marie.ph", "canary-1", "canary-2", "69123"):
        assert needle.encode() not in body, needle
        assert needle.encode("utf-16-le") not in body, needle


async def test_last_sync_is_sent_when_the_composition_gives_it(
    tmp_path: Path, store: AsyncStore
) -> None:
    async def last_sync() -> datetime | None:
        return AT - timedelta(minutes=5)

    sources = FactSources("CAB-HB-01", "0.1.0", store, tmp_path, last_sync=last_sync)
    facts = await collect_facts(sources, SystemClock(), 300.0)
    assert facts.last_sync_at == AT - timedelta(minutes=5)
    assert facts.queue_depth == 0 and facts.quarantined == 0 and facts.open_incidents == ()
    assert b"telecabine.sync.last_success" in encode(facts)


def test_device_states_from_drivers() -> None:
    states = device_states(
        [
            _Driver("oxi-1", DeviceKind.OXIMETER, False),
            _Driver("Jean Dupont", DeviceKind.CAMERA, True),
        ]
    )
    assert [(s.device_id, s.kind, s.state) for s in states] == [("oxi-1", "oximeter", "idle")]


# ------------------------------------------------------- from the site file


def _site(url: str) -> str:
    return tls_config(url, Path("/nonexistent"), None, None).replace(
        'ca_file = "/nonexistent"\n', ""
    )


async def test_build_heartbeat_from_the_site_configuration(
    tmp_path: Path, store: AsyncStore
) -> None:
    async with running_platform(tmp_path) as (url, platform):
        config = parse_config(_site(url))
        service = build_heartbeat(
            config,
            store,
            settings=FAST,
            drivers=lambda: [_Driver("t-1", DeviceKind.THERMOMETER, False)],
        )
        service.start()
        try:
            await until(lambda: fleet_of(platform, config.site.cabin_id) is not None)
            service.incident_raised()
        finally:
            await service.stop()
        seen = fleet_of(platform, config.site.cabin_id)
        assert seen is not None and seen.service_name == "telecabine-kiosk"
        assert seen.devices == (("t-1", "thermometer", "idle"),)
        assert seen.interval_s == FAST.interval_s


async def test_it_goes_over_the_fhir_channel_tls_with_the_cabin_certificate(
    tmp_path: Path,
    store: AsyncStore,
    pki: dict[str, Path],  # noqa: F811 - the fixture imported above
) -> None:
    """Mutual TLS as the FHIR uplink: the site's CA, the cabin's client certificate."""
    async with running_platform(tmp_path, tls=server_context(pki)) as (url, platform):
        for cert, key, expected in (
            (None, None, Verdict.RETRY),
            (pki["client_cert"], pki["client_key"], Verdict.SENT),
        ):
            config = parse_config(tls_config(url, pki["ca"], cert, key))
            service = build_heartbeat(config, store, settings=FAST)
            try:
                assert (await service.heartbeat.beat()).verdict is expected
            finally:
                await service.stop()
        assert fleet_of(platform, config.site.cabin_id) is not None


@pytest.mark.parametrize("status", [400, 415])
async def test_a_refused_heartbeat_waits_for_the_next_interval(status: int) -> None:
    class Refusing:
        async def post_metrics(self, body: bytes) -> HttpReply:
            return HttpReply(status, {}, b'{"code":3,"message":"no"}')

    beat = Heartbeat(Figures().collect, Refusing(), settings=FAST)
    result = await beat.beat()
    assert (result.verdict, beat.delay_after(result)) == (Verdict.REFUSED, FAST.interval_s)


async def test_a_platform_that_does_not_answer_in_time_is_retried() -> None:
    async def hang(_request: web.Request) -> web.Response:
        await asyncio.sleep(5)
        return web.json_response({})

    app = web.Application()
    app.router.add_post("/v1/metrics", hang)
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        async with aiohttp.ClientSession() as http:
            client = OtlpHttpClient(
                http, f"http://127.0.0.1:{port}/v1/metrics", request_timeout_s=0.2
            )
            beat = Heartbeat(Figures().collect, client, settings=FAST)
            result = await beat.beat()
    finally:
        await runner.cleanup()
    assert (result.verdict, result.reason) == (Verdict.RETRY, "timeout")
    assert beat.stats.last_error == "timeout"


async def test_whatever_the_client_raises_is_a_retry_not_a_crash() -> None:
    class Broken:
        async def post_metrics(self, body: bytes) -> HttpReply:
            raise KeyError("surprise")

    beat = Heartbeat(Figures().collect, Broken(), settings=FAST)
    assert await beat.beat() == PushResult(Verdict.RETRY, reason="KeyError")
