"""What the store hands out: plain frozen values, no connection, no cache behind them.

Why no caches and no live objects: after a session ends nothing of that
patient may stay in memory because of the store. Every read builds fresh
values from the database and forgets them; the caller owns what it gets.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from app.domain.consent import ConsentDecision
from app.domain.identity import PatientIdentity
from app.domain.measurements import Measurement
from app.domain.orientation import OrientationResult
from app.domain.session_effects import PaymentRecord
from app.domain.trace import TraceEntry
from app.domain.visit_reason import VisitReasonAnswer


class OutboxState(enum.StrEnum):
    """Life of a session's outbox entry.

    open → ready (session ended) → in_flight (being sent) → acknowledged
    (the platform has it; purgeable after retention). in_flight → ready when an
    attempt fails (retry later). ready/in_flight → quarantined when the platform
    refuses it for good; quarantined → ready when a technician re-queues it.
    """

    OPEN = "open"
    READY = "ready"
    IN_FLIGHT = "in_flight"
    ACKNOWLEDGED = "acknowledged"
    QUARANTINED = "quarantined"


@dataclass(frozen=True)
class StoredDocument:
    """A document of the session: the doctor's report or prescription (content may be absent)."""

    document_id: str
    kind: str
    media_type: str | None
    title: str | None = field(repr=False)
    content: bytes | None = field(repr=False)
    created_at: datetime


@dataclass(frozen=True)
class SessionRecord:
    """Everything needed to build the one FHIR bundle of a session.

    `identity` is the latest identity recorded (its status may have risen during
    the session); `identity_history` holds every version in order, and
    `identity_recorded_at` when each was recorded. Lists are in
    the order the facts were recorded.
    """

    session_id: str
    cabin_id: str
    started_at: datetime
    ended_at: datetime | None
    end_reason: str | None
    identity: PatientIdentity | None = field(repr=False)
    identity_history: tuple[PatientIdentity, ...] = field(repr=False)
    # When each version of `identity_history` was recorded (the store's clock).
    identity_recorded_at: tuple[datetime, ...]
    consents: tuple[ConsentDecision, ...] = field(repr=False)
    measurements: tuple[Measurement, ...] = field(repr=False)
    trace: tuple[TraceEntry, ...] = field(repr=False)
    orientation: OrientationResult | None = field(repr=False)
    payments: tuple[PaymentRecord, ...] = field(repr=False)
    documents: tuple[StoredDocument, ...] = field(repr=False)
    # Why the patient came (their words: health data), when they said it; None if not asked.
    visit_reason: VisitReasonAnswer | None = field(default=None, repr=False)


@dataclass(frozen=True)
class OutboxItem:
    """One session ready to go to the platform. No health data: fetch it with the session id."""

    item_id: int
    session_id: str
    state: OutboxState
    ready_at: datetime | None
    attempts: int
    last_attempt_at: datetime | None
    last_error: str | None
    not_before: datetime | None


@dataclass(frozen=True)
class QuarantineItem:
    item_id: int
    session_id: str
    quarantined_at: datetime
    reason: str
    attempts: int


class AccountRole(enum.StrEnum):
    ASSISTANT = "assistant"
    ON_SITE_STAFF = "on-site-staff"  # prepares the cabin, answers help calls (issue 15)
    TECHNICIAN = "technician"


@dataclass(frozen=True)
class StoredAccount:
    """A professional's account with its secrets (never printed)."""

    username: str
    display_name: str
    role: AccountRole
    password_hash: str = field(repr=False)
    totp_secret: str = field(repr=False)
    created_at: datetime
    rpps: str | None = None
    adeli: str | None = None
    failed_attempts: int = 0
    locked_until: datetime | None = None
    last_totp_step: int | None = None
    disabled: bool = False


@dataclass(frozen=True)
class AccountListing:
    """An account as lists show it: no hash, no TOTP secret."""

    username: str
    display_name: str
    role: AccountRole
    rpps: str | None
    adeli: str | None
    created_at: datetime
    failed_attempts: int
    locked_until: datetime | None
    disabled: bool


@dataclass(frozen=True)
class RetentionPolicy:
    """From the site configuration's [storage] table."""

    retention: timedelta = timedelta(days=7)
    max_buffer_bytes: int = 512 * 1024 * 1024
    max_unsent_age: timedelta = timedelta(hours=48)

    @classmethod
    def from_config(
        cls, retention_days: int, max_buffer_mb: int, max_unsent_age_hours: int
    ) -> RetentionPolicy:
        return cls(
            retention=timedelta(days=retention_days),
            max_buffer_bytes=max_buffer_mb * 1024 * 1024,
            max_unsent_age=timedelta(hours=max_unsent_age_hours),
        )


class StoreIncidentCode(enum.StrEnum):
    """Incidents of the store itself, shown in maintenance (no health data)."""

    CORRUPT_MOVED_ASIDE = "store-corrupt-moved-aside"
    BUFFER_OVER_SIZE = "buffer-over-size"
    UNSENT_TOO_OLD = "unsent-too-old"
    SESSION_INTERRUPTED = "session-interrupted"
    REKEY_COMPLETED_AFTER_CRASH = "rekey-completed-after-crash"
    # Raised by the uplink (app.sync) through `Store.record_incident`.
    PLATFORM_UNREACHABLE = "platform-unreachable"
    PLATFORM_CREDENTIALS_REFUSED = "platform-credentials-refused"
    SESSION_QUARANTINED = "session-quarantined"


@dataclass(frozen=True)
class StoreIncident:
    incident_id: int
    at: datetime
    code: StoreIncidentCode
    message: str
    resolved_at: datetime | None


@dataclass(frozen=True)
class StoreHealth:
    """What the maintenance screen shows about the buffer."""

    unsent_sessions: int
    oldest_unsent_at: datetime | None
    oldest_unsent_age: timedelta | None
    buffer_bytes: int
    quarantined: int
    over_size: bool
    too_old: bool
    open_incidents: tuple[StoreIncident, ...]

    @property
    def needs_attention(self) -> bool:
        return self.over_size or self.too_old or self.quarantined > 0 or bool(self.open_incidents)


@dataclass(frozen=True)
class PurgeReport:
    sessions: int
    rows: int


@dataclass(frozen=True)
class OpenReport:
    """What happened while opening: a technician reads this in the log and in maintenance."""

    created: bool = False
    migrated_to: tuple[int, ...] = ()
    moved_aside: str | None = None
    interrupted_sessions: int = 0
    requeued_in_flight: int = 0
    rekey_completed: bool = False
