"""Domain values to stored JSON and back.

Why JSON payloads next to a few plain columns: the columns are what the
store queries (session, kind, time, status); the payload keeps the value
exactly as the domain built it (Decimal as text, enums by value) so that the
bundle the platform receives says what the device said, digit for digit.
Decoding goes through the domain constructors, so a stored value that no
longer passes the domain's rules fails loudly instead of travelling.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from app.domain.consent import ConsentChoice, ConsentDecision, ConsentItem
from app.domain.identity import (
    BirthDatePrecision,
    CollectionMethod,
    IdentifierKind,
    IdentityDocument,
    IdentityStatus,
    InsOid,
    InsTraits,
    Nir,
    PatientIdentity,
    Sex,
)
from app.domain.measurements import (
    Component,
    DeviceSource,
    ManualSource,
    Measurement,
    MeasurementKind,
    Quantity,
    device_flags,
)
from app.domain.messages import Message
from app.domain.orientation import (
    OrientationException,
    OrientationResult,
    Parcours,
    TerritorialityWaiver,
)
from app.domain.session_effects import PaymentRecord
from app.domain.trace import Actor, ActorKind, IncidentCode, TraceEntry, TraceKind
from app.domain.visit_reason import VisitReason, VisitReasonAnswer
from app.store.timeutil import from_text, opt_from_text, opt_to_text, to_text


def dumps(payload: Mapping[str, Any]) -> str:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def loads(text: str) -> dict[str, Any]:
    value = json.loads(text)
    assert isinstance(value, dict)
    return value


def _opt_date(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def _opt_parse_date(value: str | None) -> date | None:
    return None if value is None else date.fromisoformat(value)


def identity_to_payload(identity: PatientIdentity) -> str:
    t = identity.traits
    return dumps(
        {
            "traits": {
                "birth_name": t.birth_name,
                "birth_first_names": list(t.birth_first_names),
                "birth_date": t.birth_date.isoformat(),
                "birth_date_precision": t.birth_date_precision.value,
                "sex": t.sex.value,
                "birth_place_insee": t.birth_place_insee,
                "first_name_used": t.first_name_used,
                "used_name": t.used_name,
            },
            "status": identity.status.value,
            "method": identity.method.value,
            "identifier": None if identity.identifier is None else identity.identifier.value,
            "identifier_kind": identity.identifier_kind.value,
            "ins_oid": None if identity.ins_oid is None else identity.ins_oid.value,
            "verified_by": identity.verified_by,
            "verification_document": (
                None
                if identity.verification_document is None
                else identity.verification_document.value
            ),
            "validation_date": _opt_date(identity.validation_date),
            "insi_queried_at": opt_to_text(identity.insi_queried_at),
        }
    )


def identity_from_payload(text: str) -> PatientIdentity:
    p = loads(text)
    t = p["traits"]
    traits = InsTraits(
        birth_name=t["birth_name"],
        birth_first_names=tuple(t["birth_first_names"]),
        birth_date=date.fromisoformat(t["birth_date"]),
        sex=Sex(t["sex"]),
        birth_place_insee=t["birth_place_insee"],
        first_name_used=t["first_name_used"],
        used_name=t["used_name"],
        # Rows written before the precision was kept only ever held whole dates.
        birth_date_precision=BirthDatePrecision(
            t.get("birth_date_precision", BirthDatePrecision.DAY.value)
        ),
    )
    return PatientIdentity(
        traits=traits,
        status=IdentityStatus(p["status"]),
        method=CollectionMethod(p["method"]),
        identifier=None if p["identifier"] is None else Nir(p["identifier"]),
        identifier_kind=IdentifierKind(p["identifier_kind"]),
        ins_oid=None if p["ins_oid"] is None else InsOid(p["ins_oid"]),
        verified_by=p["verified_by"],
        verification_document=(
            None
            if p["verification_document"] is None
            else IdentityDocument(p["verification_document"])
        ),
        validation_date=_opt_parse_date(p["validation_date"]),
        insi_queried_at=opt_from_text(p["insi_queried_at"]),
    )


def measurement_to_payload(measurement: Measurement) -> str:
    source = measurement.source
    return dumps(
        {
            "kind": measurement.kind.value,
            "components": [
                [c.quantity.value, str(c.value), c.unit] for c in measurement.components
            ],
            "source": (
                {"device": source.device_id}
                if isinstance(source, DeviceSource)
                else {"manual": source.professional_account_id}
            ),
            "taken_at": to_text(measurement.taken_at),
            "device_flags": [f.value for f in measurement.device_flags],
        }
    )


def measurement_from_payload(measurement_id: str, text: str) -> Measurement:
    p = loads(text)
    src = p["source"]
    source: DeviceSource | ManualSource = (
        DeviceSource(src["device"]) if "device" in src else ManualSource(src["manual"])
    )
    components = tuple(Component(Quantity(q), Decimal(v), u) for q, v, u in p["components"])
    return Measurement(
        id=measurement_id,
        kind=MeasurementKind(p["kind"]),
        components=components,
        source=source,
        taken_at=from_text(p["taken_at"]),
        # Older rows have no device flags; a flag this version does not know is dropped.
        device_flags=device_flags(p.get("device_flags", ())),
    )


def consent_from_row(row: tuple[Any, ...]) -> ConsentDecision:
    item, choice, text_id, version, sha, language, decided_at = row
    return ConsentDecision(
        item=ConsentItem(item),
        choice=ConsentChoice(choice),
        text_id=text_id,
        text_version=version,
        text_sha256=sha,
        language=language,
        at=from_text(decided_at),
    )


def trace_to_payload(entry: TraceEntry) -> str:
    return dumps(
        {
            "actor_kind": entry.actor.kind.value,
            "actor_id": entry.actor.id,
            "subject": entry.subject,
            "incident": None if entry.incident is None else entry.incident.value,
            "message": entry.message,
        }
    )


def trace_from_row(at: str, kind: str, payload: str) -> TraceEntry:
    p = loads(payload)
    return TraceEntry(
        at=from_text(at),
        kind=TraceKind(kind),
        actor=Actor(ActorKind(p["actor_kind"]), p["actor_id"]),
        subject=p["subject"],
        incident=None if p["incident"] is None else IncidentCode(p["incident"]),
        message=p["message"],
    )


def orientation_to_payload(result: OrientationResult) -> str:
    return dumps(
        {
            "parcours": result.parcours.value,
            "exceptions": sorted(e.value for e in result.exceptions),
            "waivers": sorted(w.value for w in result.waivers),
            "message": {
                "id": result.message.id,
                "fr": result.message.fr,
                "easy_read": result.message.easy_read,
            },
            "unknown_medecin_traitant": result.unknown_medecin_traitant,
        }
    )


def orientation_from_payload(text: str) -> OrientationResult:
    p = loads(text)
    m = p["message"]
    return OrientationResult(
        parcours=Parcours(p["parcours"]),
        exceptions=frozenset(OrientationException(e) for e in p["exceptions"]),
        waivers=frozenset(TerritorialityWaiver(w) for w in p["waivers"]),
        message=Message(m["id"], m["fr"], m["easy_read"]),
        unknown_medecin_traitant=bool(p["unknown_medecin_traitant"]),
    )


def payment_to_payload(payment: PaymentRecord) -> str:
    return dumps({"reference": payment.reference})


def payment_from_payload(text: str) -> PaymentRecord:
    return PaymentRecord(loads(text)["reference"])


def visit_reason_to_payload(answer: VisitReasonAnswer) -> str:
    return dumps(
        {
            "at": to_text(answer.at),
            "reasons": [r.value for r in answer.reasons],
            "text": answer.text,
        }
    )


def visit_reason_from_payload(text: str) -> VisitReasonAnswer:
    p = loads(text)
    return VisitReasonAnswer(
        at=from_text(p["at"]),
        reasons=tuple(VisitReason(r) for r in p["reasons"]),
        text=p["text"],
    )
