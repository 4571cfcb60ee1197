"""The cabin's heartbeat: its health pushed to the platform, never pulled.

Why push: cabins sit behind pharmacy NAT; the platform cannot reach them,
they reach it. Every `interval_s` (and soon after each new incident) the
kiosk collects its facts (`collect_facts`), encodes them as OTLP/JSON
metrics (`otlp_metrics.encode`) and POSTs them to the platform's base URL +
`path` (OTLP/HTTP's `/v1/metrics` by default).

Why only the latest state: a heartbeat says "this is how I am now". When a
push fails the kiosk keeps nothing in a queue; it tries again with backoff
(full jitter, never longer than one interval) with the facts collected
again at that moment, so a dropped network only delays the next heartbeat
and nothing piles up. If the facts cannot be read (the store busy), the
last ones read are sent with the time they were observed.

Why these verdicts (OTLP/HTTP specification, "Failures"): 2xx is received;
429, 502, 503, 504 and every network failure are retryable, and the
platform's `Retry-After` is honoured; other statuses (400 malformed, 401,
403, 404) will not improve by retrying the same request, so the next try is
the next normal heartbeat. Never a patient: see `otlp_metrics`.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import random as _random
import shutil
import ssl
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from app.sync.clock import MonotonicClock, SystemClock
from app.sync.otlp_metrics import CONTENT_TYPE, DeviceState, FactsError, HeartbeatFacts, encode
from app.sync.retry_policy import BackoffPolicy, parse_retry_after
from app.sync.transport import (
    CabinAuth,
    HttpReply,
    LazySession,
    NetworkFailure,
    authorised_send,
    session_of,
    ssl_context_for,
)
from kiosk_config import KioskConfig

if TYPE_CHECKING:  # aiohttp loads at the first beat, after the welcome screen
    import aiohttp

log = logging.getLogger(__name__)

RETRYABLE = frozenset({429, 502, 503, 504})


@dataclass(frozen=True, slots=True)
class HeartbeatSettings:
    """Proposed `[platform.heartbeat]` of the site configuration (see docs/heartbeat.md)."""

    interval_s: float = 300.0
    path: str = "/v1/metrics"
    request_timeout_s: float = 10.0
    retry_base_s: float = 5.0
    min_gap_s: float = 5.0  # incidents in a burst give one push, not one each
    max_reply_bytes: int = 64 * 1024


class Verdict(enum.StrEnum):
    SENT = "sent"
    RETRY = "retry"  # the network or a busy platform: try again soon
    REFUSED = "refused"  # retrying the same push will not help: wait for the next one


@dataclass(frozen=True, slots=True)
class PushResult:
    verdict: Verdict
    status: int | None = None
    retry_after_s: float | None = None
    reason: str = ""


def judge(reply: HttpReply, now: datetime) -> PushResult:
    """What the platform's answer means for the next push (pure)."""
    if 200 <= reply.status < 300:
        return PushResult(Verdict.SENT, reply.status)
    headers = {k.lower(): v for k, v in reply.headers.items()}
    if reply.status in RETRYABLE:
        after = parse_retry_after(headers.get("retry-after"), now, headers.get("date"))
        return PushResult(Verdict.RETRY, reply.status, after, f"status {reply.status}")
    return PushResult(Verdict.REFUSED, reply.status, None, f"status {reply.status}")


class MetricsPoster(Protocol):
    async def post_metrics(self, body: bytes) -> HttpReply: ...


class OtlpHttpClient:
    """POSTs OTLP/JSON to one URL; every network failure becomes one `NetworkFailure`.

    TLS is the FHIR channel's (`[platform]` CA file and client certificate), and
    so is the cabin's proof: `auth` puts the cabin's short-lived token on each
    POST (app.sync.transport.CabinAuth, docs/threat-model.md).
    """

    def __init__(
        self,
        session: aiohttp.ClientSession | LazySession,
        url: str,
        *,
        ssl_context: ssl.SSLContext | None = None,
        request_timeout_s: float = 10.0,
        max_reply_bytes: int = 64 * 1024,
        auth: CabinAuth | None = None,
    ) -> None:
        self._auth = auth
        self._session = session
        self.url = url
        self._ssl: ssl.SSLContext | bool = ssl_context if ssl_context is not None else True
        self._timeout_s = request_timeout_s
        self._max_reply = max_reply_bytes

    async def post_metrics(self, body: bytes) -> HttpReply:
        import aiohttp

        headers = {"Content-Type": CONTENT_TYPE, "Accept": CONTENT_TYPE}
        return await authorised_send(
            session_of(self._session),
            self._auth,
            "POST",
            self.url,
            body,
            headers,
            timeout=aiohttp.ClientTimeout(total=self._timeout_s),
            ssl=self._ssl,
            max_reply=self._max_reply,
        )


@dataclass
class HeartbeatStats:
    sent: int = 0
    failures: int = 0
    consecutive_failures: int = 0
    last_status: int | None = None
    last_error: str | None = None


Collect = Callable[[], Awaitable[HeartbeatFacts]]


class Heartbeat:
    """The push loop: `run()` until `stop()`; `incident_raised()` pushes soon."""

    def __init__(
        self,
        collect: Collect,
        client: MetricsPoster,
        *,
        settings: HeartbeatSettings | None = None,
        clock: MonotonicClock | None = None,
        random: Callable[[], float] = _random.random,
    ) -> None:
        self._collect = collect
        self._client = client
        self.settings = settings or HeartbeatSettings()
        self._clock: MonotonicClock = clock or SystemClock()
        self._random = random
        self._backoff = BackoffPolicy(
            base_s=self.settings.retry_base_s, cap_s=self.settings.interval_s
        )
        self._wake = asyncio.Event()
        self._stopping = False
        self._last_push: float | None = None  # monotonic
        self.latest: HeartbeatFacts | None = None
        self.stats = HeartbeatStats()

    def incident_raised(self) -> None:
        """A new incident: push the current facts now (bursts are merged, see `min_gap_s`)."""
        self._wake.set()

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()

    async def beat(self) -> PushResult:
        """Collect and push once; never raises (except cancellation)."""
        try:
            self.latest = await self._collect()
        except Exception as exc:  # noqa: BLE001 - a failed read must not stop the heartbeat
            log.warning("heartbeat: facts could not be read (%s)", type(exc).__name__)
            if self.latest is None:
                return self._failed(PushResult(Verdict.RETRY, reason="facts unreadable"))
        self._last_push = self._clock.monotonic()
        try:
            reply = await self._client.post_metrics(encode(self.latest))
        except NetworkFailure as exc:
            return self._failed(PushResult(Verdict.RETRY, reason=exc.reason.value))
        except Exception as exc:  # noqa: BLE001 - whatever the client raises is "try again"
            return self._failed(PushResult(Verdict.RETRY, reason=type(exc).__name__))
        result = judge(reply, self._clock.now())
        self.stats.last_status = reply.status
        if result.verdict is Verdict.SENT:
            self.stats.sent += 1
            self.stats.consecutive_failures = 0
            self.stats.last_error = None
            return result
        if result.verdict is Verdict.REFUSED:
            log.warning("heartbeat: the platform refused it (%s)", result.reason)
        return self._failed(result)

    def _failed(self, result: PushResult) -> PushResult:
        self.stats.failures += 1
        self.stats.consecutive_failures += 1
        self.stats.last_error = result.reason
        return result

    def delay_after(self, result: PushResult) -> float:
        """Seconds until the next push: an interval, or a jittered retry within one interval."""
        if result.verdict is not Verdict.RETRY:
            return self.settings.interval_s
        return self._backoff.delay(
            self.stats.consecutive_failures, self._random, result.retry_after_s
        )

    async def run(self) -> None:
        while not self._stopping:
            self._wake.clear()  # an incident raised from here on gives another push
            result = await self.beat()
            if self._stopping:
                break
            await self._pause(self.delay_after(result))

    async def _pause(self, seconds: float) -> None:
        """Sleep `seconds`, or until an incident (not sooner than `min_gap_s` after a push)."""
        waker = asyncio.ensure_future(self._wake.wait())
        sleeper = asyncio.ensure_future(self._clock.sleep(seconds))
        try:
            await asyncio.wait({sleeper, waker}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (sleeper, waker):
                task.cancel()
            await asyncio.gather(sleeper, waker, return_exceptions=True)
        if self._stopping or (sleeper.done() and not sleeper.cancelled()):
            return
        since = self._clock.monotonic() - (self._last_push or 0.0)
        if since < self.settings.min_gap_s:
            await self._clock.sleep(self.settings.min_gap_s - since)


# ----------------------------------------------------------------- the facts


class StoreHealthLike(Protocol):
    """`app.store.records.StoreHealth`, as far as the heartbeat reads it."""

    @property
    def unsent_sessions(self) -> int: ...

    @property
    def oldest_unsent_age(self) -> timedelta | None: ...

    @property
    def quarantined(self) -> int: ...

    @property
    def open_incidents(self) -> tuple[IncidentLike, ...]: ...


class IncidentLike(Protocol):
    @property
    def code(self) -> str: ...


class HealthSource(Protocol):
    """`app.store.AsyncStore.health` (counts and ages, no health data)."""

    async def health(self, now: datetime | None = None) -> StoreHealthLike: ...


class DriverLike(Protocol):
    """`drivers.base.Driver`, as far as the heartbeat reads it."""

    @property
    def device_id(self) -> str: ...

    @property
    def kind(self) -> str: ...

    @property
    def running(self) -> bool: ...


def device_states(drivers: Iterable[DriverLike]) -> tuple[DeviceState, ...]:
    """`running` (a read is in progress) or `idle`: all a driver tells from outside today.

    A device whose id is not a code is left out (and logged) rather than
    stopping every heartbeat: the site file's schema makes that impossible
    for configured devices, this is the belt to its braces.
    """
    states = []
    for d in drivers:
        try:
            states.append(DeviceState(d.device_id, str(d.kind), "running" if d.running else "idle"))
        except FactsError:
            log.warning("heartbeat: a device of kind %s is left out (its id is not a code)", d.kind)
    return tuple(states)


@dataclass(frozen=True, slots=True)
class FactSources:
    """Where each figure comes from: existing read methods of the other rooms' objects.

    `last_sync` is optional: nothing public tells the time of the last
    acknowledgement today (see docs/heartbeat.md); without it the figure is
    left out.
    """

    cabin_id: str
    version: str
    store: HealthSource
    data_dir: Path
    drivers: Callable[[], Iterable[DriverLike]] = tuple
    last_sync: Callable[[], Awaitable[datetime | None]] | None = None
    started_monotonic: float = 0.0


def _disk_free(path: Path) -> int | None:
    try:
        return shutil.disk_usage(path).free
    except OSError:
        return None


async def collect_facts(
    sources: FactSources, clock: MonotonicClock, interval_s: float
) -> HeartbeatFacts:
    """Read every figure now; a figure that cannot be read is left out, not invented."""
    now = clock.now()
    health = await sources.store.health(now)
    last_sync = await sources.last_sync() if sources.last_sync is not None else None
    age = health.oldest_unsent_age
    return HeartbeatFacts(
        cabin_id=sources.cabin_id,
        version=sources.version,
        observed_at=now,
        uptime_s=max(0.0, clock.monotonic() - sources.started_monotonic),
        interval_s=interval_s,
        devices=device_states(sources.drivers()),
        queue_depth=max(0, health.unsent_sessions - health.quarantined),
        oldest_unsent_age_s=None if age is None else max(0.0, age.total_seconds()),
        quarantined=health.quarantined,
        disk_free_bytes=_disk_free(sources.data_dir),
        last_sync_at=last_sync,
        open_incidents=tuple(str(i.code) for i in health.open_incidents),
    )


def kiosk_version() -> str:
    """The installed package's version (`telecabine-kiosk`), `0+unknown` from a bare tree."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("telecabine-kiosk")
    except PackageNotFoundError:
        return "0+unknown"


@dataclass
class HeartbeatService:
    """The loop and its HTTP session, started and stopped by the composition root."""

    heartbeat: Heartbeat
    http: aiohttp.ClientSession | LazySession
    task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.task = asyncio.create_task(self.heartbeat.run(), name="heartbeat")

    def incident_raised(self) -> None:
        self.heartbeat.incident_raised()

    async def stop(self) -> None:
        self.heartbeat.stop()
        if self.task is not None:
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)
            self.task = None
        await self.http.close()


def build_heartbeat(
    config: KioskConfig,
    store: HealthSource,
    *,
    drivers: Callable[[], Iterable[DriverLike]] = tuple,
    last_sync: Callable[[], Awaitable[datetime | None]] | None = None,
    settings: HeartbeatSettings | None = None,
    clock: MonotonicClock | None = None,
    started_monotonic: float | None = None,
) -> HeartbeatService:
    """Everything from the site configuration (call inside the running loop)."""
    settings = settings or HeartbeatSettings()
    clock = clock or SystemClock()
    platform = config.platform
    tls = ssl_context_for(platform) if platform.url.startswith("https:") else None
    http = LazySession()  # made at the first beat, after READY (docs/runtime.md, cold start)
    client = OtlpHttpClient(
        http,
        platform.url.rstrip("/") + settings.path,
        ssl_context=tls,
        request_timeout_s=settings.request_timeout_s,
        max_reply_bytes=settings.max_reply_bytes,
        auth=CabinAuth.for_config(config),
    )
    sources = FactSources(
        cabin_id=config.site.cabin_id,
        version=kiosk_version(),
        store=store,
        data_dir=Path(config.storage.data_dir),
        drivers=drivers,
        last_sync=last_sync,
        started_monotonic=clock.monotonic() if started_monotonic is None else started_monotonic,
    )
    interval_s = settings.interval_s
    used_clock = clock

    async def collect() -> HeartbeatFacts:
        return await collect_facts(sources, used_clock, interval_s)

    return HeartbeatService(Heartbeat(collect, client, settings=settings, clock=clock), http)
