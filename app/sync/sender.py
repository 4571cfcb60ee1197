"""The sender: drains the store's outbox to the platform, one session at a time.

Rules (docs/sync.md):
- the outbox is the only source: a session is sent once it is `ready`;
- one session at a time, oldest first, one request in flight; a session may
  take several requests (documents as Binary, bundles split to the server's
  limits: `app.sync.upload`), chosen from the server's CapabilityStatement
  read at start (update-create with client ids where allowed, else
  conditional create);
- a transient failure (network, 408/409/429/5xx, any 2xx that is not a bound
  acknowledgement, any reply that cannot be read) pauses the whole queue with
  exponential backoff and full jitter, or for the platform's Retry-After,
  measured on the **monotonic** clock: a wall clock that jumps a year changes
  neither the order nor the delay; the failed session stays at the head;
- an acknowledgement is recorded only when every entry of every request is
  200/201 and names the resource the kiosk sent (`responses`); a refusal that
  can never succeed — an HTTP 4xx, or one entry refused inside a 2xx — goes
  to quarantine with a value-free reason, and those bytes are never sent
  again; the sessions behind it go on;
- whatever happens while a session is in flight (any exception, a
  cancellation), it goes back to `ready` before anything else happens.
Every retry re-sends the same bytes (the mapping is deterministic) and every
entry is idempotent (conditional create or PUT to a client id).
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import hashlib
import logging
import random as _random
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any, Protocol

from app.store.records import StoreIncidentCode
from app.sync.clock import MonotonicClock, SystemClock
from app.sync.errors import CodeCheckError, MappingError, SyncError
from app.sync.fhir_bundle import session_bundle
from app.sync.identifiers import IdentifierMinter
from app.sync.outbox_port import OutboxEntry, OutboxPort
from app.sync.responses import (
    Acknowledge,
    Decision,
    Quarantine,
    ReplyParseError,
    Retry,
    binary_named,
    classify,
    outcome_text,
    parse_json,
)
from app.sync.retry_policy import BackoffPolicy
from app.sync.session_snapshot import SiteInfo
from app.sync.store_adapter import snapshot_from_record
from app.sync.transport import HttpReply, NetworkFailure
from app.sync.upload import (
    SENT_TYPES,
    ServerCapabilities,
    Strategy,
    UploadPlan,
    UploadSettings,
    choose_strategy,
    parse_capabilities,
    plan_upload,
)

log = logging.getLogger(__name__)

# The store's incident codes of the uplink (shown in maintenance).
INCIDENT_PLATFORM_UNREACHABLE: str = StoreIncidentCode.PLATFORM_UNREACHABLE
INCIDENT_PLATFORM_CREDENTIALS: str = StoreIncidentCode.PLATFORM_CREDENTIALS_REFUSED
INCIDENT_SESSION_QUARANTINED: str = StoreIncidentCode.SESSION_QUARANTINED
# With Binary uploads the mapping keeps the bytes of documents up to this size.
_BINARY_SOURCE_MAX = 64 * 1024 * 1024


class BundlePoster(Protocol):
    """The platform as the sender needs it (`transport.PlatformClient`). A client may also
    offer `capabilities()` and `put_binary(id, content_type, content)`; without them the
    sender uses conditional create and sends no Binary."""

    async def post_bundle(self, body: bytes, *, prefer: str | None = None) -> HttpReply: ...


class CapabilitiesUnavailable(SyncError):
    """The server's CapabilityStatement cannot be read now: try again later."""


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
    upload: UploadSettings = field(default_factory=UploadSettings)


@dataclass
class SenderStats:
    acknowledged: int = 0
    quarantined: int = 0
    retries: int = 0
    consecutive_failures: int = 0
    last_error: str | None = None
    requests: int = 0
    strategy: str | None = None


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
        clock: MonotonicClock | None = None,
        random: Callable[[], float] = _random.random,
        settings: SenderSettings | None = None,
    ) -> None:
        self._outbox = outbox
        self._client = client
        self._site = site
        self._minter = IdentifierMinter(site.cabin_id)
        self._clock: MonotonicClock = clock or SystemClock()
        self._random = random
        self._settings = settings or SenderSettings()
        self._work = asyncio.Event()
        self._online = asyncio.Event()
        self._stopping = False
        self._hold_until: float | None = None  # monotonic seconds
        self._strategy: Strategy | None = None
        self.capabilities: ServerCapabilities | None = None
        self._refused: set[str] = set()  # SHA-256 of request bodies refused for good
        self._progress: _Progress | None = None
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
        """Send ready sessions in order until none is left or one fails transiently.

        While a pause is running (monotonic clock) nothing is sent and the time
        left is returned, unless `ignore_retry_times` (the network came back).
        """
        if self._hold_until is not None and not ignore_retry_times:
            remaining = self._hold_until - self._clock.monotonic()
            if remaining > 0:
                return DrainReport(0, 0, remaining)
        self._hold_until = None
        acknowledged = quarantined = 0
        while not self._stopping:
            items = await self._outbox.pending(self._settings.batch, None)
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

    async def strategy(self) -> Strategy:
        """The upload strategy for this server, from its CapabilityStatement (read once).

        The choice must never flip for a server that already holds sessions (a
        resource created by conditional create and then PUT under a client id
        would exist twice), so a server that cannot be asked now (network, 5xx,
        429, an unreadable 200) is asked again later: `CapabilitiesUnavailable`,
        a transient failure. A definite answer without a CapabilityStatement
        (404, 405...) means conditional create. The choice is logged (no
        health data in it).
        """
        if self._strategy is not None:
            return self._strategy
        upload = self._settings.upload
        caps: ServerCapabilities | None = None
        fetch = getattr(self._client, "capabilities", None)
        if upload.strategy == "auto" and fetch is not None:
            try:
                reply = await fetch()
            except NetworkFailure as exc:
                raise CapabilitiesUnavailable(exc.sentence) from exc
            if reply.status >= 500 or reply.status in (408, 425, 429, 401, 403):
                raise CapabilitiesUnavailable(
                    f"The platform's CapabilityStatement is not available (HTTP {reply.status})."
                )
            statement = None
            if reply.status == 200:
                try:
                    statement = parse_json(reply.body)
                except ReplyParseError as exc:
                    raise CapabilitiesUnavailable(
                        f"The platform's CapabilityStatement could not be read: {exc}."
                    ) from exc
            caps = parse_capabilities(statement)
        self.capabilities = caps or ServerCapabilities()
        chosen = choose_strategy(self.capabilities, upload, SENT_TYPES)
        self._strategy = chosen
        self.stats.strategy = chosen.value
        per = (
            upload.max_update_entries
            if chosen is Strategy.UPDATE_CREATE
            else upload.max_conditional_entries
        )
        log.info(
            "sync: server %r (FHIR %s): strategy %s, at most %d entries per transaction, "
            "documents inline up to %d bytes, larger ones %s",
            self.capabilities.software,
            self.capabilities.fhir_version,
            chosen.value,
            per,
            upload.inline_max_bytes,
            "as Binary" if self._binaries(chosen) else "by size and hashes only",
        )
        return chosen

    def _binaries(self, strategy: Strategy) -> bool:
        return (
            strategy is Strategy.UPDATE_CREATE
            and self._settings.upload.binary_documents
            and getattr(self._client, "put_binary", None) is not None
        )

    async def send(self, item: OutboxEntry) -> tuple[SendOutcome, float | None]:
        """One attempt for one session; the outbox entry moves accordingly.

        From `mark_in_flight` on, every way out settles the entry: acknowledged,
        quarantined, or back to `ready` (whatever the exception, cancellation
        included), so no session is ever left in flight.
        """
        outbox = self._outbox
        record = await outbox.read_session(item.session_id)
        await outbox.mark_in_flight(item.item_id, self._clock.now())
        try:
            decision = await self._attempt(item, record)
        except asyncio.CancelledError:
            await self._back_to_ready(item, "Sending was interrupted.")
            raise
        except Exception as exc:  # noqa: BLE001 - never leave a session in flight
            decision = Retry(f"Sending failed unexpectedly ({type(exc).__name__}).")
        except BaseException:
            await self._back_to_ready(item, "Sending was interrupted.")
            raise
        del record  # nothing of the patient is kept longer than the requests
        try:
            return await self._settle(item, decision)
        except BaseException:
            # The store could not record the outcome: back to ready (the bundle is
            # idempotent, resending it is harmless), then let the loop see the error.
            await self._back_to_ready(item, "The outcome of a send could not be recorded.")
            raise

    async def _attempt(self, item: OutboxEntry, record: Any) -> Decision:
        try:
            strategy = await self.strategy()
        except CapabilitiesUnavailable as exc:
            return Retry(exc.sentence)
        upload = self._settings.upload
        binaries = self._binaries(strategy)
        try:
            inline = _BINARY_SOURCE_MAX if binaries else upload.inline_max_bytes
            bundle = session_bundle(
                snapshot_from_record(record), self._site, self._minter, inline_max_bytes=inline
            )
            settings = upload if binaries else replace(upload, binary_documents=False)
            plan = plan_upload(bundle, strategy, settings)
        except (MappingError, CodeCheckError) as exc:
            return Quarantine(exc.sentence)
        except Exception as exc:  # noqa: BLE001 - one odd session must not block the rest
            return Quarantine(f"The session could not be converted to FHIR ({type(exc).__name__}).")
        del bundle
        return await self._transmit(item, plan, strategy)

    async def _back_to_ready(self, item: OutboxEntry, why: str) -> None:
        now = self._clock.now()
        with contextlib.suppress(Exception):
            await self._outbox.retry_later(item.item_id, why, now, now)

    async def _transmit(self, item: OutboxEntry, plan: UploadPlan, strategy: Strategy) -> Decision:
        """Every request of one session, in order; stops at the first non-acknowledgement.

        Progress is kept for the session at the head of the queue: a retry goes on
        from the first request not yet acknowledged (the same bytes: the ids the
        server gave earlier chunks do not change), so a pharmacy's flaky line
        does not have to carry a whole large session through in one go.
        """
        client: Any = self._client
        progress = self._progress
        if progress is None or progress.item_id != item.item_id:
            progress = self._progress = _Progress(item.item_id)
        digests = progress.digests
        for n, upload in enumerate(plan.binaries):
            if n < progress.binaries_done:
                continue
            try:
                self.stats.requests += 1
                reply = await client.put_binary(
                    upload.binary_id, upload.content_type, upload.content
                )
            except NetworkFailure as exc:
                return Retry(exc.sentence)
            decision = _binary_decision(reply, upload.binary_id)
            if not isinstance(decision, Acknowledge):
                return decision
            digests.append(decision.response_digest)
            progress.binaries_done = n + 1
        resolved = progress.resolved
        prefer = "return=minimal" if strategy is Strategy.UPDATE_CREATE else "return=representation"
        for n, chunk in enumerate(plan.chunks):
            if n < progress.chunks_done:
                continue
            body = chunk.body(resolved)
            digest = hashlib.sha256(body).hexdigest()
            if digest in self._refused:
                return Quarantine(
                    "The platform already refused these very bytes for good; they are not "
                    "sent again (a corrected session is sent after a technician re-queues it)."
                )
            try:
                self.stats.requests += 1
                reply = await self._client.post_bundle(body, prefer=prefer)
            except NetworkFailure as exc:
                return Retry(exc.sentence)
            decision = classify(
                reply.status, reply.headers, reply.body, chunk.expected, self._clock.now()
            )
            if isinstance(decision, Quarantine):
                self._refused.add(digest)
                return decision
            if isinstance(decision, Retry):
                return decision
            resolved.update(decision.resolved)
            digests.append(decision.response_digest)
            progress.chunks_done = n + 1
        self._progress = None
        combined = hashlib.sha256("".join(digests).encode("ascii")).hexdigest()
        return Acknowledge(combined, dict(resolved))

    async def _quarantine(self, item: OutboxEntry, reason: str) -> tuple[SendOutcome, None]:
        self._progress = None
        await self._outbox.quarantine(item.item_id, reason, self._clock.now())
        self.stats.quarantined += 1
        log.warning("sync: session item %s quarantined", item.item_id)
        await self._quarantine_incident(item)
        return SendOutcome.QUARANTINED, None

    async def _settle(
        self, item: OutboxEntry, decision: Decision
    ) -> tuple[SendOutcome, float | None]:
        outbox = self._outbox
        at = self._clock.now()
        if isinstance(decision, Acknowledge):
            await outbox.acknowledge(item.item_id, decision.response_digest, at)
            self.stats.acknowledged += 1
            self.stats.consecutive_failures = 0
            log.info("sync: session item %s acknowledged", item.item_id)
            return SendOutcome.ACKNOWLEDGED, None
        if isinstance(decision, Quarantine):
            self.stats.consecutive_failures = 0
            return await self._quarantine(item, decision.reason)
        self.stats.retries += 1
        self.stats.consecutive_failures += 1
        self.stats.last_error = decision.reason
        failures = self.stats.consecutive_failures
        delay = self._settings.backoff.delay(failures, self._random, decision.retry_after_s)
        self._hold_until = self._clock.monotonic() + delay
        # The wall clock only for the record (maintenance shows when it is due).
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


@dataclass
class _Progress:
    """What the platform already acknowledged of the head session (memory only)."""

    item_id: int
    binaries_done: int = 0
    chunks_done: int = 0
    resolved: dict[str, str] = field(default_factory=dict)
    digests: list[str] = field(default_factory=list)


def _binary_decision(reply: HttpReply, binary_id: str) -> Decision:
    """A Binary PUT: 200/201 naming this Binary (Location or the resource returned) is
    stored; any other 2xx is retried (a replayed or foreign reply is no acknowledgement);
    4xx for good; else retry."""
    status = reply.status
    if status in (200, 201) and binary_named(reply.headers, reply.body, binary_id):
        return Acknowledge(hashlib.sha256(reply.body).hexdigest())
    if 200 <= status < 300:
        return Retry(
            f"The platform answered {status} to a document but did not name the Binary "
            "the kiosk sent."
        )
    if 400 <= status < 500 and status not in (401, 403, 408, 409, 425, 429):
        try:
            text = outcome_text(parse_json(reply.body))
        except ReplyParseError:
            text = ""
        detail = f" ({text})" if text else ""
        return Quarantine(
            f"The platform refused a document of this session with HTTP {status}{detail}; "
            "it is kept here until a technician looks at it."
        )
    return Retry(f"The platform did not store a document (HTTP {status}).")
