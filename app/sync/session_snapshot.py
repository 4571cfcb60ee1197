"""What the mapping reads: one session, as domain values, plus the cabin's site.

Why a snapshot of its own: the mapping must be pure and deterministic (same
session → same bytes), so it takes frozen values and nothing that can change
under it. The store's session read is converted to this once, at the edge
(`app.sync.store_adapter`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from app.domain.consent import ConsentDecision
from app.domain.identity import PatientIdentity
from app.domain.measurements import Measurement
from app.domain.mode import RunMode
from app.domain.orientation import OrientationResult
from app.domain.session_effects import PaymentRecord
from app.domain.trace import TraceEntry
from app.domain.visit_reason import VisitReasonAnswer
from kiosk_config import KioskConfig


@dataclass(frozen=True, slots=True)
class SessionDocument:
    """A document the doctor issued during the call (content may be absent)."""

    document_id: str
    kind: str
    media_type: str | None
    title: str | None = field(repr=False)
    content: bytes | None = field(repr=False)
    created_at: datetime


@dataclass(frozen=True, slots=True)
class SessionSnapshot:
    """Everything the platform must receive about one session.

    `trace` is in the order the events happened (append order); `ended_at` is
    None while the session is still running (its Encounter is then
    in-progress). `identity` is the latest version; `identity_history` holds
    every version in order (the last one is `identity`) and
    `identity_recorded_at` when each was recorded.
    """

    session_id: str
    started_at: datetime
    ended_at: datetime | None
    identity: PatientIdentity | None
    consents: tuple[ConsentDecision, ...] = ()
    measurements: tuple[Measurement, ...] = ()
    trace: tuple[TraceEntry, ...] = ()
    end_reason: str | None = None
    identity_history: tuple[PatientIdentity, ...] = ()
    identity_recorded_at: tuple[datetime, ...] = ()
    orientation: OrientationResult | None = None
    payments: tuple[PaymentRecord, ...] = ()
    documents: tuple[SessionDocument, ...] = ()
    visit_reason: VisitReasonAnswer | None = None


@dataclass(frozen=True, slots=True)
class SiteInfo:
    """The cabin and the place it stands: the patient's location sent to the doctor."""

    cabin_id: str
    site_name: str
    street: str
    postal_code: str
    city: str
    insee_code: str
    mode: RunMode
    complement: str | None = None
    phone: str | None = None

    @classmethod
    def from_config(cls, config: KioskConfig) -> SiteInfo:
        site = config.site
        return cls(
            cabin_id=site.cabin_id,
            site_name=site.name,
            street=site.address.street,
            postal_code=site.address.postal_code,
            city=site.address.city,
            insee_code=site.insee_code,
            mode=RunMode(site.mode.value),
            complement=site.address.complement,
            phone=site.phone,
        )
