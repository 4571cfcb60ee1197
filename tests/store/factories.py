"""Domain values for the store's tests (real domain constructors, fixed values)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from app.domain.consent import (
    ConsentChoice,
    ConsentDecision,
    ConsentItem,
    ConsentText,
    decide,
)
from app.domain.identity import (
    CollectionMethod,
    IdentifierKind,
    IdentityDocument,
    IdentityStatus,
    InsOid,
    InsTraits,
    PatientIdentity,
    Sex,
    parse_nir,
)
from app.domain.measurements import (
    DeviceSource,
    ManualSource,
    Measurement,
    MeasurementKind,
    Quantity,
    make_measurement,
)
from app.domain.nir import nir_key
from app.domain.trace import IncidentCode, TraceEntry, TraceKind, incident

T0 = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)
NIR_13 = "1840376451089"
NIR = NIR_13 + nir_key(NIR_13)


@dataclass
class FakeClock:
    """Time as a value the test moves; the store reads it, nothing sleeps."""

    now: datetime = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


def identity(name: str = "DUPONT", *, first: str = "MARIE") -> PatientIdentity:
    traits = InsTraits(
        birth_name=name,
        birth_first_names=(first, "LOUISE"),
        birth_date=date(1984, 3, 12),
        sex=Sex.FEMALE,
        birth_place_insee="76451",
        first_name_used=first,
        used_name=name,
    )
    return PatientIdentity(
        traits=traits,
        status=IdentityStatus.QUAL,
        method=CollectionMethod.CV,
        identifier=parse_nir(NIR),
        identifier_kind=IdentifierKind.NIR,
        ins_oid=InsOid.TEST,
        verified_by="marie.ph",
        verification_document=IdentityDocument.NATIONAL_ID_CARD,
        validation_date=date(2025, 3, 14),
        insi_queried_at=T0,
    )


def provisional_identity(name: str = "DUPONT") -> PatientIdentity:
    traits = InsTraits(
        birth_name=name,
        birth_first_names=("JEAN",),
        birth_date=date(1950, 1, 2),
        sex=Sex.MALE,
    )
    return PatientIdentity(traits=traits, status=IdentityStatus.PROV, method=CollectionMethod.CV)


def temperature(mid: str = "m-1", value: str = "38.4", at: datetime = T0) -> Measurement:
    return make_measurement(
        mid,
        MeasurementKind.BODY_TEMPERATURE,
        {Quantity.BODY_TEMPERATURE: Decimal(value)},
        DeviceSource("thermo-1"),
        at,
    )


def blood_pressure_manual(mid: str = "m-2", at: datetime = T0) -> Measurement:
    return make_measurement(
        mid,
        MeasurementKind.BLOOD_PRESSURE,
        {
            Quantity.SYSTOLIC: Decimal(142),
            Quantity.DIASTOLIC: Decimal(91),
            Quantity.MEAN: Decimal(108),
        },
        ManualSource("claire.inf"),
        at,
    )


def consent(
    item: ConsentItem = ConsentItem.TELECONSULTATION, text: str = "Je consens.", at: datetime = T0
) -> ConsentDecision:
    shown = ConsentText(f"consent-{item.value}", item, "2025-01", "fr", text)
    return decide(shown, ConsentChoice.GRANTED, at)


def trace(
    kind: TraceKind = TraceKind.SESSION_STARTED, at: datetime = T0, message: str = ""
) -> TraceEntry:
    return TraceEntry(at, kind, message=message)


def device_incident(at: datetime = T0) -> TraceEntry:
    return incident(at, IncidentCode.DEVICE_FAILED, subject="thermo-1")
