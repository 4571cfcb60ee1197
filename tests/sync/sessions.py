"""Sessions built from real domain values, shared by the sync and platform tests."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from app.domain.consent import ConsentChoice, ConsentItem, ConsentText, decide
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
from app.domain.mode import RunMode
from app.domain.orientation import OrientationAnswers, assess
from app.domain.session_effects import PaymentRecord
from app.domain.trace import Actor, ActorKind, IncidentCode, TraceEntry, TraceKind, incident
from app.domain.visit_reason import VisitReason, VisitReasonAnswer
from app.sync.session_snapshot import SessionDocument, SessionSnapshot, SiteInfo

T0 = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
NIR_TEXT = "255081416802538"  # key 38 is 97 - (2550814168025 mod 97)

TEST_SITE = SiteInfo(
    cabin_id="CAB-T1",
    site_name="Pharmacie des Tests",
    street="3 rue du Port",
    postal_code="29200",
    city="Brest",
    insee_code="29019",
    mode=RunMode.TEST,
)
PROD_SITE = SiteInfo(
    cabin_id="CAB-P1",
    site_name="Pharmacie de la Gare",
    street="1 avenue de la Gare",
    postal_code="35000",
    city="Rennes",
    insee_code="35238",
    mode=RunMode.PRODUCTION,
)

TRAITS = InsTraits(
    birth_name="DUPONT",
    birth_first_names=("MARIE", "ANNE", "LOUISE"),
    birth_date=date(1955, 8, 14),
    sex=Sex.FEMALE,
    birth_place_insee="14168",
    first_name_used="Marie",
    used_name="MARTIN",
)


def qualified(oid: InsOid = InsOid.TEST) -> PatientIdentity:
    kind = IdentifierKind.NIA if oid is InsOid.NIA else IdentifierKind.NIR
    return PatientIdentity(
        traits=TRAITS,
        status=IdentityStatus.QUAL,
        method=CollectionMethod.CV,
        identifier=parse_nir(NIR_TEXT),
        identifier_kind=kind,
        ins_oid=oid,
        verified_by="pharma-7",
        verification_document=IdentityDocument.NATIONAL_ID_CARD,
        validation_date=date(2026, 11, 23),
        insi_queried_at=T0 + timedelta(minutes=1),
    )


def provisional() -> PatientIdentity:
    return PatientIdentity(
        traits=TRAITS,
        status=IdentityStatus.PROV,
        method=CollectionMethod.CV,
        identifier=parse_nir(NIR_TEXT),
    )


def temperature(mid: str = "m1", value: str = "36.60") -> Measurement:
    return make_measurement(
        mid,
        MeasurementKind.BODY_TEMPERATURE,
        {Quantity.BODY_TEMPERATURE: Decimal(value)},
        DeviceSource("thermo-1"),
        T0 + timedelta(minutes=5),
    )


def blood_pressure(mid: str = "m2") -> Measurement:
    return make_measurement(
        mid,
        MeasurementKind.BLOOD_PRESSURE,
        {
            Quantity.SYSTOLIC: Decimal(142),
            Quantity.DIASTOLIC: Decimal(91),
            Quantity.MEAN: Decimal(108),
        },
        ManualSource("nurse-3"),
        T0 + timedelta(minutes=7),
    )


def spo2(mid: str = "m3") -> Measurement:
    return make_measurement(
        mid,
        MeasurementKind.SPO2,
        {Quantity.SPO2: Decimal("97")},
        DeviceSource("oxi-1"),
        T0 + timedelta(minutes=6),
    )


TELECONSULTATION_TEXT = ConsentText(
    "tlc-consent", ConsentItem.TELECONSULTATION, "2026-03", "fr", "J'accepte la téléconsultation."
)
SHARING_TEXT = ConsentText(
    "sharing-consent", ConsentItem.DATA_SHARING, "2026-03", "fr", "J'accepte le partage."
)


def full_session(
    session_id: str = "S-0001", identity: PatientIdentity | None = None
) -> SessionSnapshot:
    """A session with every kind of item: identity, a grant and a refusal, three
    measurements (device and manual), acts with professionals and an incident."""
    identity = identity or qualified()
    granted = decide(TELECONSULTATION_TEXT, ConsentChoice.GRANTED, T0 + timedelta(minutes=2))
    refused = decide(SHARING_TEXT, ConsentChoice.REFUSED, T0 + timedelta(minutes=3))
    trace = (
        TraceEntry(T0, TraceKind.SESSION_STARTED),
        TraceEntry(
            T0 + timedelta(minutes=1),
            TraceKind.IDENTIFICATION,
            Actor(ActorKind.ASSISTANT, "pharma-7"),
        ),
        TraceEntry(
            T0 + timedelta(minutes=2),
            TraceKind.CONSENT_GRANTED,
            Actor(ActorKind.PATIENT),
            "teleconsultation",
        ),
        TraceEntry(
            T0 + timedelta(minutes=5),
            TraceKind.MEASUREMENT_TAKEN,
            Actor(ActorKind.PATIENT),
            f"{session_id}-m1",
        ),
        incident(T0 + timedelta(minutes=6), IncidentCode.DEVICE_FAILED, "bp-1"),
        TraceEntry(
            T0 + timedelta(minutes=7),
            TraceKind.MEASUREMENT_TAKEN,
            Actor(ActorKind.ASSISTANT, "nurse-3"),
            f"{session_id}-m2",
        ),
        TraceEntry(
            T0 + timedelta(minutes=10),
            TraceKind.CALL_STARTED,
            Actor(ActorKind.DOCTOR, "10101010101"),
        ),
        TraceEntry(
            T0 + timedelta(minutes=25), TraceKind.CALL_ENDED, Actor(ActorKind.DOCTOR, "10101010101")
        ),
    )
    return SessionSnapshot(
        session_id=session_id,
        started_at=T0,
        ended_at=T0 + timedelta(minutes=26),
        identity=identity,
        consents=(granted, refused),
        measurements=(
            temperature(f"{session_id}-m1"),
            blood_pressure(f"{session_id}-m2"),
            spo2(f"{session_id}-m3"),
        ),
        trace=trace,
    )


def small_session(session_id: str) -> SessionSnapshot:
    """A small session (patient, one consent, one measurement, two acts) for bulk tests."""
    granted = decide(TELECONSULTATION_TEXT, ConsentChoice.GRANTED, T0 + timedelta(minutes=2))
    return SessionSnapshot(
        session_id=session_id,
        started_at=T0,
        ended_at=T0 + timedelta(minutes=20),
        identity=provisional(),
        consents=(granted,),
        measurements=(temperature(f"{session_id}-t1"),),
        trace=(
            TraceEntry(T0, TraceKind.SESSION_STARTED),
            TraceEntry(T0 + timedelta(minutes=20), TraceKind.WIPE),
        ),
    )


DOCTOR = Actor(ActorKind.DOCTOR, "10101010101")
REPORT_PDF = b"%PDF-1.4\n% compte rendu de teleconsultation\n" + bytes(range(256))


def rich_session(
    session_id: str = "S-R001",
    *,
    end_reason: str = "completed",
    with_call: bool = True,
    big_document: bytes | None = None,
) -> SessionSnapshot:
    """A session with what the full one lacks: an identity that rose from PROV to QUAL,
    an orientation, a payment, the doctor's documents, an end reason."""
    base = full_session(session_id)
    answers = OrientationAnswers(has_medecin_traitant=None, emergency=True, lives_in_zip=True)
    orientation = assess(answers, age_years=71)
    doc_at = T0 + timedelta(minutes=24)
    documents: tuple[SessionDocument, ...] = (
        SessionDocument(
            f"{session_id}-d1", "report", "application/pdf", "Compte rendu", REPORT_PDF, doc_at
        ),
        SessionDocument(f"{session_id}-d2", "prescription", None, None, None, doc_at),
    )
    if big_document is not None:
        documents += (
            SessionDocument(
                f"{session_id}-d3", "imaging", "image/png", "Image", big_document, doc_at
            ),
        )
    trace = [e for e in base.trace if with_call or e.kind not in CALL_KINDS]
    trace.insert(
        3,
        TraceEntry(
            T0 + timedelta(minutes=4),
            TraceKind.ORIENTATION_ANSWERED,
            Actor(ActorKind.PATIENT),
            orientation.parcours.value,
        ),
    )
    if with_call:
        trace += [
            TraceEntry(doc_at, TraceKind.DOCUMENT_RECEIVED, DOCTOR, d.document_id)
            for d in documents
        ]
        trace.append(
            TraceEntry(
                T0 + timedelta(minutes=25, seconds=30),
                TraceKind.PAYMENT,
                Actor(ActorKind.PATIENT),
                "PAY-7781",
            )
        )
    first = provisional()
    return replace(
        base,
        trace=tuple(trace),
        end_reason=end_reason,
        identity_history=(first, base.identity),  # type: ignore[arg-type]
        identity_recorded_at=(T0 + timedelta(seconds=40), T0 + timedelta(minutes=1)),
        orientation=orientation,
        payments=(PaymentRecord("PAY-7781"),) if with_call else (),
        documents=documents if with_call else (),
        visit_reason=VisitReasonAnswer(
            T0 + timedelta(minutes=5),
            (VisitReason.FEVER, VisitReason.COUGH_COLD),
            "depuis trois jours, fièvre à 39",
        ),
    )


CALL_KINDS = frozenset({TraceKind.CALL_STARTED, TraceKind.CALL_ENDED})
