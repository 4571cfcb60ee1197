"""What the sender needs from the store: the narrow port it is written against.

Why a Protocol: the sender must be testable against the real SQLCipher store
and must not reach into its tables. `app.store`'s outbox (one entry per
session, states open → ready → in_flight → acknowledged | quarantined)
satisfies it through `app.sync.store_adapter.StoreOutbox`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from app.domain.consent import ConsentDecision
from app.domain.identity import PatientIdentity
from app.domain.measurements import Measurement
from app.domain.orientation import OrientationResult
from app.domain.session_effects import PaymentRecord
from app.domain.trace import TraceEntry
from app.domain.visit_reason import VisitReasonAnswer


class OutboxEntry(Protocol):
    """One session ready to go (no health data in it)."""

    @property
    def item_id(self) -> int: ...

    @property
    def session_id(self) -> str: ...

    @property
    def attempts(self) -> int: ...


class DocumentLike(Protocol):
    """A document of the session (`app.store.records.StoredDocument`)."""

    @property
    def document_id(self) -> str: ...

    @property
    def kind(self) -> str: ...

    @property
    def media_type(self) -> str | None: ...

    @property
    def title(self) -> str | None: ...

    @property
    def content(self) -> bytes | None: ...

    @property
    def created_at(self) -> datetime: ...


class SessionRecordLike(Protocol):
    """The store's read of one whole session (`app.store.records.SessionRecord`)."""

    @property
    def session_id(self) -> str: ...

    @property
    def started_at(self) -> datetime: ...

    @property
    def ended_at(self) -> datetime | None: ...

    @property
    def identity(self) -> PatientIdentity | None: ...

    @property
    def consents(self) -> tuple[ConsentDecision, ...]: ...

    @property
    def measurements(self) -> tuple[Measurement, ...]: ...

    @property
    def trace(self) -> tuple[TraceEntry, ...]: ...

    @property
    def end_reason(self) -> str | None: ...

    @property
    def identity_history(self) -> tuple[PatientIdentity, ...]: ...

    @property
    def identity_recorded_at(self) -> tuple[datetime, ...]: ...

    @property
    def orientation(self) -> OrientationResult | None: ...

    @property
    def payments(self) -> tuple[PaymentRecord, ...]: ...

    @property
    def documents(self) -> Sequence[DocumentLike]: ...

    @property
    def visit_reason(self) -> VisitReasonAnswer | None: ...


class OutboxPort(Protocol):
    async def pending(self, limit: int, now: datetime | None) -> Sequence[OutboxEntry]:
        """Ready entries, oldest session first; `now` hides those whose retry time is
        not reached (None: all of them, e.g. right after the network came back)."""
        ...

    async def read_session(self, session_id: str) -> SessionRecordLike: ...

    async def mark_in_flight(self, item_id: int, at: datetime) -> None: ...

    async def retry_later(
        self, item_id: int, error: str, at: datetime, not_before: datetime
    ) -> None: ...

    async def acknowledge(self, item_id: int, response_digest: str, at: datetime) -> None: ...

    async def quarantine(self, item_id: int, reason: str, at: datetime) -> None: ...

    async def record_incident(self, code: str, message: str, at: datetime) -> None:
        """A technical incident of the uplink (no health data), shown in maintenance."""
        ...
