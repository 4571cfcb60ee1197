"""A generated corpus of varied sessions, built from real domain values (seeded, printed).

Each session draws one way in (card, appli carte Vitale QR, manual entry, NIA),
a date of birth (whole, month only, year only), names (with or without a
first name, with a used name), consents (granted, refused, withdrawn),
measurements (by device, by hand, skipped, refused), how the call went
(whole, dropped, none, degraded path, stop, emergency, restart), an
orientation, a payment and documents (small, or large enough to exceed a
server's 1 MB string limit). `invalid_session()` is one the kiosk's own
checks let through but a validating FHIR server refuses (a media type with a
trailing space is not a FHIR `code`).
"""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from app.domain.consent import ConsentChoice, ConsentItem, ConsentText, decide
from app.domain.identity import (
    BirthDatePrecision,
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
from app.domain.orientation import OrientationAnswers, assess
from app.domain.session_effects import PaymentRecord
from app.domain.trace import Actor, ActorKind, IncidentCode, TraceEntry, TraceKind, incident
from app.domain.visit_reason import VisitReason, VisitReasonAnswer
from app.sync.session_snapshot import SessionDocument, SessionSnapshot

SEED = 20261202
T0 = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
NIR = "255081416802538"
DOCTORS = ("10101010101", "10003456789", "10000000018")
ASSISTANTS = ("pharma-7", "nurse-3", "pharma-12")
TEXTS = {
    ConsentItem.TELECONSULTATION: ConsentText(
        "tlc-consent", ConsentItem.TELECONSULTATION, "2026-03", "fr", "J'accepte."
    ),
    ConsentItem.DATA_SHARING: ConsentText(
        "sharing-consent", ConsentItem.DATA_SHARING, "2026-03", "fr", "J'accepte le partage."
    ),
    ConsentItem.ASSISTANCE: ConsentText(
        "assist-consent", ConsentItem.ASSISTANCE, "2026-03", "en", "I accept assistance."
    ),
}
WAYS = ("card", "qr", "manual", "nia", "manual-checked", "card-insi")
CALLS = ("whole", "dropped", "none", "degraded", "stopped", "emergency", "restart", "media")


def _traits(rng: random.Random) -> InsTraits:
    precision = rng.choice(
        [BirthDatePrecision.DAY] * 4 + [BirthDatePrecision.MONTH, BirthDatePrecision.YEAR]
    )
    year = rng.randint(1925, 2015)
    month = 1 if precision is BirthDatePrecision.YEAR else rng.randint(1, 12)
    day = rng.randint(1, 28) if precision is BirthDatePrecision.DAY else 1
    first_names = rng.choice([(), ("MARIE",), ("JEAN", "PIERRE"), ("ANNE", "LOUISE", "ROSE")])
    return InsTraits(
        birth_name=rng.choice(["DUPONT", "MARTIN", "N'DIAYE", "LE GOFF", "ÉLOI-ÇA"]),
        birth_first_names=first_names,
        birth_date=date(year, month, day),
        sex=rng.choice(list(Sex)),
        birth_place_insee=rng.choice(["14168", "2A004", "97411", "29019", None]),
        first_name_used=rng.choice([None, None, "Marie-Jo", ""]),
        used_name=rng.choice([None, None, "MARTIN", ""]),
        birth_date_precision=precision,
    )


def _identity(way: str, rng: random.Random, at: datetime) -> PatientIdentity:
    traits = _traits(rng)
    nir = parse_nir(NIR)
    document = rng.choice(list(IdentityDocument))
    if way == "card":
        return PatientIdentity(traits, IdentityStatus.PROV, CollectionMethod.CV, nir)
    if way == "qr":
        return PatientIdentity(
            traits, IdentityStatus.QUAL, CollectionMethod.AV, nir, ins_oid=InsOid.TEST
        )
    if way == "manual":
        return PatientIdentity(traits, IdentityStatus.PROV, CollectionMethod.SM)
    if way == "manual-checked":
        return PatientIdentity(
            traits,
            IdentityStatus.VALI,
            CollectionMethod.SM,
            verified_by=rng.choice(ASSISTANTS),
            verification_document=document,
            validation_date=at.date(),
        )
    kind = IdentifierKind.NIA if way == "nia" else IdentifierKind.NIR
    return PatientIdentity(
        traits,
        IdentityStatus.QUAL,
        CollectionMethod.INSI if way == "nia" else CollectionMethod.CV,
        nir,
        identifier_kind=kind,
        ins_oid=InsOid.NIA if way == "nia" else rng.choice([InsOid.TEST, InsOid.DEMO]),
        verified_by=rng.choice(ASSISTANTS),
        verification_document=document,
        validation_date=at.date(),
        insi_queried_at=at + timedelta(seconds=30),
    )


def _measurements(
    sid: str, rng: random.Random, at: datetime
) -> tuple[list[Measurement], list[TraceEntry]]:
    out: list[Measurement] = []
    trace: list[TraceEntry] = []
    assistant = rng.choice(ASSISTANTS)
    plan = [
        (
            MeasurementKind.BODY_TEMPERATURE,
            {Quantity.BODY_TEMPERATURE: Decimal("36.60")},
            "thermo-1",
        ),
        (MeasurementKind.SPO2, {Quantity.SPO2: Decimal(rng.randint(88, 100))}, "oxi-1"),
        (MeasurementKind.HEART_RATE, {Quantity.HEART_RATE: Decimal(rng.randint(50, 120))}, "oxi-1"),
        (
            MeasurementKind.BLOOD_PRESSURE,
            {
                Quantity.SYSTOLIC: Decimal(sys_ := rng.randint(110, 170)),
                Quantity.DIASTOLIC: Decimal(dia := rng.randint(60, 100)),
                Quantity.MEAN: Decimal((sys_ + 2 * dia) // 3),
            },
            "bp-1",
        ),
    ]
    for n, (kind, values, device) in enumerate(plan):
        when = at + timedelta(minutes=5 + n)
        fate = rng.choice(["device", "device", "manual", "skipped", "refused"])
        mid = f"{sid}-m{n}"
        if fate in ("skipped", "refused"):
            kind_of = (
                TraceKind.MEASUREMENT_SKIPPED
                if fate == "skipped"
                else TraceKind.MEASUREMENT_REFUSED
            )
            trace.append(TraceEntry(when, kind_of, Actor(ActorKind.PATIENT), kind.value))
            continue
        source = DeviceSource(device) if fate == "device" else ManualSource(assistant)
        out.append(make_measurement(mid, kind, values, source, when))
        actor = (
            Actor(ActorKind.PATIENT) if fate == "device" else Actor(ActorKind.ASSISTANT, assistant)
        )
        trace.append(TraceEntry(when, TraceKind.MEASUREMENT_TAKEN, actor, mid))
    return out, trace


def session(n: int, rng: random.Random, *, big_document_bytes: int = 900_000) -> SessionSnapshot:
    sid = f"C-{n:04d}"
    at = T0 + timedelta(minutes=37 * n)
    way = WAYS[n % len(WAYS)]
    call = CALLS[(n // len(WAYS)) % len(CALLS)]
    identity = _identity(way, rng, at)
    trace: list[TraceEntry] = [
        TraceEntry(at, TraceKind.SESSION_STARTED),
        TraceEntry(at + timedelta(seconds=20), TraceKind.IDENTIFICATION, Actor(ActorKind.PATIENT)),
    ]
    consents = []
    for k, item in enumerate(ConsentItem):
        choice = rng.choice([ConsentChoice.GRANTED, ConsentChoice.GRANTED, ConsentChoice.REFUSED])
        if item is ConsentItem.TELECONSULTATION:
            choice = ConsentChoice.GRANTED
        when = at + timedelta(minutes=1, seconds=k)
        consents.append(decide(TEXTS[item], choice, when))
        if (
            rng.random() < 0.1
            and choice is ConsentChoice.GRANTED
            and item is not (ConsentItem.TELECONSULTATION)
        ):
            consents.append(
                decide(TEXTS[item], ConsentChoice.WITHDRAWN, when + timedelta(minutes=2), consents)
            )
        kind = (
            TraceKind.CONSENT_GRANTED
            if choice is ConsentChoice.GRANTED
            else TraceKind.CONSENT_REFUSED
        )
        trace.append(TraceEntry(when, kind, Actor(ActorKind.PATIENT), item.value))
    orientation = None
    if rng.random() < 0.6:
        orientation = assess(
            OrientationAnswers(
                has_medecin_traitant=rng.choice([True, False, None]),
                emergency=rng.choice([True, False]),
                lives_in_zip=rng.choice([True, False]),
            ),
            age_years=rng.randint(1, 95),
        )
        trace.append(
            TraceEntry(
                at + timedelta(minutes=3),
                TraceKind.ORIENTATION_ANSWERED,
                Actor(ActorKind.PATIENT),
                orientation.parcours.value,
            )
        )
    measurements, measured = _measurements(sid, rng, at)
    trace += measured
    if rng.random() < 0.2:
        trace.append(incident(at + timedelta(minutes=9), IncidentCode.DEVICE_FAILED, "bp-1"))
    documents: list[SessionDocument] = []
    payments: list[PaymentRecord] = []
    doctor = Actor(ActorKind.DOCTOR, rng.choice(DOCTORS))
    end_reason = "completed"
    call_at = at + timedelta(minutes=12)
    if call in ("whole", "dropped", "stopped", "restart"):
        trace.append(TraceEntry(call_at, TraceKind.CALL_STARTED, doctor))
        doc_at = call_at + timedelta(minutes=8)
        count = rng.choice([0, 1, 1, 2])
        for d in range(count):
            big = n % 25 == 3 and d == 0
            content = (
                bytes(rng.getrandbits(8) for _ in range(64)) * (big_document_bytes // 64)
                if big
                else b"%PDF-1.4 rapport " + bytes(range(200))
            )
            doc_kind = rng.choice(["report", "prescription", "sick-note", "imaging"])
            documents.append(
                SessionDocument(
                    f"{sid}-d{d}",
                    doc_kind,
                    "application/pdf" if not big else "image/png",
                    rng.choice(["Compte rendu", "Ordonnance", None]),
                    content if rng.random() < 0.9 or big else None,
                    doc_at,
                )
            )
            trace.append(TraceEntry(doc_at, TraceKind.DOCUMENT_RECEIVED, doctor, f"{sid}-d{d}"))
        if call == "whole":
            trace.append(TraceEntry(call_at + timedelta(minutes=15), TraceKind.CALL_ENDED, doctor))
            if rng.random() < 0.5:
                ref = f"PAY-{n:05d}"
                payments.append(PaymentRecord(ref))
                trace.append(
                    TraceEntry(
                        call_at + timedelta(minutes=16),
                        TraceKind.PAYMENT,
                        Actor(ActorKind.PATIENT),
                        ref,
                    )
                )
        elif call == "dropped":
            trace.append(incident(call_at + timedelta(minutes=4), IncidentCode.CALL_DROPPED))
            trace.append(
                TraceEntry(
                    call_at + timedelta(minutes=5),
                    TraceKind.CALL_ENDED,
                    Actor(ActorKind.SYSTEM),
                    "dropped",
                )
            )
        elif call == "stopped":
            end_reason = "stopped"
            trace.append(
                TraceEntry(call_at + timedelta(minutes=6), TraceKind.STOP, Actor(ActorKind.PATIENT))
            )
            trace.append(
                TraceEntry(
                    call_at + timedelta(minutes=6), TraceKind.CALL_ENDED, Actor(ActorKind.SYSTEM)
                )
            )
        else:
            end_reason = "interrupted"
            trace.append(incident(call_at + timedelta(minutes=7), IncidentCode.KIOSK_RESTARTED))
    elif call == "degraded":
        trace.append(incident(call_at, IncidentCode.PLATFORM_UNREACHABLE))
    elif call == "media":
        trace.append(incident(call_at, IncidentCode.CALL_MEDIA_CHECK_FAILED))
    elif call == "emergency":
        end_reason = "emergency"
        trace.append(TraceEntry(call_at, TraceKind.EMERGENCY_EXIT, Actor(ActorKind.PATIENT)))
    end = call_at + timedelta(minutes=20)
    trace.append(TraceEntry(end, TraceKind.WIPE))
    return SessionSnapshot(
        session_id=sid,
        started_at=at,
        ended_at=end,
        identity=identity,
        consents=tuple(consents),
        measurements=tuple(measurements),
        trace=tuple(sorted(trace, key=lambda e: e.at)),
        end_reason=end_reason,
        identity_history=(identity,),
        identity_recorded_at=(at + timedelta(seconds=25),),
        orientation=orientation,
        payments=tuple(payments),
        documents=tuple(documents),
        visit_reason=_visit_reason(n, rng, at),
    )


def _visit_reason(n: int, rng: random.Random, at: datetime) -> VisitReasonAnswer | None:
    """No answer (older sessions), "rather tell the doctor", choices, choices and words."""
    match n % 4:
        case 0:
            return None
        case 1:
            return VisitReasonAnswer(at, (), None)
        case 2:
            return VisitReasonAnswer(at, tuple(rng.sample(list(VisitReason), 2)), None)
        case _:
            return VisitReasonAnswer(
                at, (rng.choice(list(VisitReason)),), "mal au dos, depuis lundi"
            )


def corpus(count: int = 200, seed: int = SEED) -> list[SessionSnapshot]:
    rng = random.Random(seed)
    return [session(n, rng) for n in range(count)]


def invalid_session(n: int = 9999) -> SessionSnapshot:
    """Passes the kiosk's checks; a validating server refuses its DocumentReference."""
    base = session(n, random.Random(n))
    doc = SessionDocument(
        f"C-{n:04d}-bad",
        "report",
        "application/pdf ",
        "Compte rendu",
        b"%PDF-1.4 x",
        base.ended_at or T0,
    )
    doctor = Actor(ActorKind.DOCTOR, DOCTORS[0])
    trace = (
        *base.trace[:-1],
        TraceEntry(
            base.started_at + timedelta(minutes=20),
            TraceKind.DOCUMENT_RECEIVED,
            doctor,
            doc.document_id,
        ),
        base.trace[-1],
    )
    return replace(base, documents=(*base.documents, doc), trace=trace)
