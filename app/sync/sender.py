"""The sender: drains the store's outbox to the platform, one session at a time.

Rules (docs/sync.md):
- the outbox is the only source: a session is sent once it is `ready`;
- one bundle per session, oldest session first, one request in flight;
- a transient failure (network, 408/409/429/5xx, a 2xx without a matching
  transaction-response) pauses the whole queue with exponential backoff and
  full jitter, or for the platform's Retry-After; the failed session stays at
  the head, so order holds; the pause ends early when the network monitor
  sees the platform come back;
- an acknowledgement is recorded only for a 2xx with a matching
  transaction-response; a refusal that can never succeed (or a session that
  cannot be mapped) goes to quarantine, never deleted, never retried
  blindly.
Every retry re-sends the same bytes (the mapping is deterministic) and every
entry is a conditional create: a session the platform already committed
creates nothing the second time.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import random as _random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Protocol

from app.store.records import StoreIncidentCode
from app.sync.clock import Clock, SystemClock
from app.sync.errors import CodeCheckError, MappingError
from app.sync.fhir_bundle import session_bundle
from app.sync.fhir_json import dump_bytes
from app.sync.identifiers import IdentifierMinter
from app.sync.outbox_port import OutboxEntry, OutboxPort
from app.sync.responses import Acknowledge, Quarantine, Retry, classify
from app.sync.retry_policy import BackoffPolicy
from app.sync.session_snapshot import SiteInfo
from app.sync.store_adapter import snapshot_from_record
from app.sync.transport import HttpReply, NetworkFailure

log = logging.getLogger(__name__)

# The store's incident codes of the uplink (shown in maintenance).
INCIDENT_PLATFORM_UNREACHABLE: str = StoreIncidentCode.PLATFORM_UNREACHABLE
INCIDENT_PLATFORM_CREDENTIALS: str = StoreIncidentCode.PLATFORM_CREDENTIALS_REFUSED
INCIDENT_SESSION_QUARANTINED: str = StoreIncidentCode.SESSION_QUARANTINED


class BundlePoster(Protocol):
    async def post_bundle(self, body: bytes) -> HttpReply: ...


class SendOutcome(enum.StrEnum):
    ACKNOWLEDGED = "acknowledged"
    RETRY = "retry"
    QUARANTINED = "quarantined"


@dataclass(frozen=True, slots=True)
class SenderSettings:
    batch: int = 50  # entries read from the outbox at a time
    idle_poll_s: float = 30.0  # look at the outbox at least this often when idle
    backoff: BackoffPolicy = field(default_factory=BackoffPolicy)
    incident_after_failures: int = 5  # consecutive failures before an incident is traced


@dataclass
class SenderStats:
    acknowledged: int = 0
    quarantined: int = 0
    retries: int = 0
    consecutive_failures: int = 0
    last_error: str | None = None


@dataclass(frozen=True, slots=True)
class DrainReport:
    acknowledged: int
    quarantined: int
    retry_in_s: float | None  # set when a transient failure paused the queue


class Sender:
    def __init__(
        self,
        outbox: OutboxPort,
        client: BundlePoster,
        site: SiteInfo,
        *,
        clock: Clock | None = None,
        random: Callable[[], float] = _random.random,
        settings: SenderSettings | None = None,
    ) -> None:
        self._outbox = outbox
        self._client = client
        self._site = site
        self._minter = IdentifierMinter(site.cabin_id)
        self._clock: Clock = clock or SystemClock()
        self._random = random
        self._settings = settings or SenderSettings()
        self._work = asyncio.Event()
        self._online = asyncio.Event()
        self._stopping = False
        self.stats = SenderStats()

    # Signals from the outside (session controller, network monitor)

    def notify(self) -> None:
        """A session became ready: send it soon (does not cut a backoff short)."""
        self._work.set()

    def network_online(self) -> None:
        """The platform is reachable again: end any pause and send everything now."""
        self._online.set()

    def stop(self) -> None:
        self._stopping = True
        self._online.set()
        self._work.set()

    # The loop

    async def run(self) -> None:
        """Drain, pause, drain... until `stop()`. Store errors pause, never kill, the loop."""
        force = False
        while not self._stopping:
            try:
                report = await self.drain_once(ignore_retry_times=force)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a store failure: logged by type, retried later
                log.warning("sync: outbox pass failed (%s)", type(exc).__name__)
                report = DrainReport(0, 0, self._settings.idle_poll_s)
            if self._stopping:
                break
            if report.retry_in_s is not None:
                force = await self._pause(report.retry_in_s, wake_on_work=False)
            else:
                force = await self._pause(self._settings.idle_poll_s, wake_on_work=True)

    async def drain_once(self, *, ignore_retry_times: bool = False) -> DrainReport:
        """Send ready sessions in order until none is left or one fails transiently."""
        acknowledged = quarantined = 0
        first = True
        while not self._stopping:
            now = None if (ignore_retry_times and first) else self._clock.now()
            first = False
            items = await self._outbox.pending(self._settings.batch, now)
            if not items:
                break
            for item in items:
                outcome, delay = await self.send(item)
                if outcome is SendOutcome.ACKNOWLEDGED:
                    acknowledged += 1
                elif outcome is SendOutcome.QUARANTINED:
                    quarantined += 1
                else:
                    return DrainReport(acknowledged, quarantined, delay)
                if self._stopping:
                    break
        return DrainReport(acknowledged, quarantined, None)

    async def send(self, item: OutboxEntry) -> tuple[SendOutcome, float | None]:
        """One attempt for one session; the outbox entry moves accordingly."""
        outbox = self._outbox
        try:
            record = await outbox.read_session(item.session_id)
            bundle = session_bundle(snapshot_from_record(record), self._site, self._minter)
        except (MappingError, CodeCheckError) as exc:
            await outbox.quarantine(item.item_id, exc.sentence, self._clock.now())
            await self._quarantine_incident(item)
            return SendOutcome.QUARANTINED, None
        body = dump_bytes(bundle)
        types = [e["resource"]["resourceType"] for e in bundle["entry"]]
        del bundle, record  # nothing of the patient is kept longer than the request
        await outbox.mark_in_flight(item.item_id, self._clock.now())
        try:
            reply = await self._client.post_bundle(body)
            decision = classify(reply.status, reply.headers, reply.body, types, self._clock.now())
        except NetworkFailure as exc:
            decision = Retry(exc.sentence)
        except asyncio.CancelledError:
            now = self._clock.now()
            with contextlib.suppress(Exception):
                await outbox.retry_later(item.item_id, "Sending was interrupted.", now, now)
            raise
        at = self._clock.now()
        if isinstance(decision, Acknowledge):
            await outbox.acknowledge(item.item_id, decision.response_digest, at)
            self.stats.acknowledged += 1
            self.stats.consecutive_failures = 0
            log.info("sync: session item %s acknowledged", item.item_id)
            return SendOutcome.ACKNOWLEDGED, None
        if isinstance(decision, Quarantine):
            await outbox.quarantine(item.item_id, decision.reason, at)
            self.stats.quarantined += 1
            self.stats.consecutive_failures = 0
            log.warning("sync: session item %s quarantined", item.item_id)
            await self._quarantine_incident(item)
            return SendOutcome.QUARANTINED, None
        self.stats.retries += 1
        self.stats.consecutive_failures += 1
        self.stats.last_error = decision.reason
        failures = self.stats.consecutive_failures
        delay = self._settings.backoff.delay(failures, self._random, decision.retry_after_s)
        await outbox.retry_later(item.item_id, decision.reason, at, at + timedelta(seconds=delay))
        log.info("sync: item %s retry in %.1f s (failure %d)", item.item_id, delay, failures)
        if decision.credentials and failures == 1:
            await outbox.record_incident(INCIDENT_PLATFORM_CREDENTIALS, decision.reason, at)
        elif failures == self._settings.incident_after_failures:
            await outbox.record_incident(
                INCIDENT_PLATFORM_UNREACHABLE,
                f"The platform could not be reached {failures} times in a row; "
                "sessions are kept encrypted and will be sent when it answers.",
                at,
            )
        return SendOutcome.RETRY, delay

    async def _quarantine_incident(self, item: OutboxEntry) -> None:
        await self._outbox.record_incident(
            INCIDENT_SESSION_QUARANTINED,
            f"Outbox item {item.item_id} was refused by the platform or could not be "
            "converted; it is in quarantine for a technician.",
            self._clock.now(),
        )

    async def _pause(self, seconds: float, *, wake_on_work: bool) -> bool:
        """Wait `seconds`, or less if woken; True when woken by the network coming back."""
        if self._online.is_set():
            self._online.clear()
            return True
        waiters = {asyncio.ensure_future(self._online.wait())}
        if wake_on_work:
            waiters.add(asyncio.ensure_future(self._work.wait()))
        sleeper = asyncio.ensure_future(self._clock.sleep(seconds))
        try:
            await asyncio.wait({sleeper, *waiters}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (sleeper, *waiters):
                task.cancel()
            await asyncio.gather(sleeper, *waiters, return_exceptions=True)
        woke_online = self._online.is_set()
        self._online.clear()
        if wake_on_work:
            self._work.clear()
        return woke_online
