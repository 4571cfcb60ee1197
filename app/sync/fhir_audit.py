"""The trace of the act (CSP R.6316-4) as AuditEvents: one per trace entry.

Why one per entry: each is an act or an incident with its own date and time
and its own actor, and the platform (or an inspector) can search them. The
four items the article requires map as: date and time → `recorded`; the
professionals → `agent` (assistant by account, doctor by RPPS); the acts →
`subtype` (the trace kind) and `entity` (the encounter and the act's subject);
technical incidents → `outcome` 4 (minor failure) with the incident code in
`subtype` and its plain message in `outcomeDesc`. No health value is in the
trace, only ids. R4 AuditEvent has no `identifier`: its business id is a tag.
"""

from __future__ import annotations

from app.domain.session_effects import PaymentRecord
from app.domain.trace import PATIENT, ActorKind, TraceEntry, TraceKind
from app.sync import fhir_codes as c
from app.sync.fhir_context import Json, MappingContext, doctor_ref, fhir_datetime
from app.sync.fhir_patient import InsProfileCheck
from app.sync.identifiers import CS_ACTOR_KIND, CS_IDENTITY_EVENT, CS_INCIDENT, CS_TRACE_KIND
from app.sync.session_snapshot import SessionSnapshot
from app.sync.vendor import IDENTITY_EVENTS, IDENTITY_RECORDED, INS_PROFILE_WITHHELD

INS_PROFILE_ITEM = "audit/identity/ins-profile"


def ins_profile_event(
    check: InsProfileCheck, snapshot: SessionSnapshot, ctx: MappingContext
) -> Json | None:
    """Why a qualified identity went out without the INS profile (codes only, no trait)."""
    if check.ins_profile or not check.applies:
        return None
    return {
        "resourceType": "AuditEvent",
        "meta": {"tag": [ctx.session_id_for(INS_PROFILE_ITEM).as_tag()]},
        "type": {
            "system": c.CS_DICOM,
            "code": c.AUDIT_TYPE_APPLICATION_ACTIVITY,
            "display": "Application Activity",
        },
        "subtype": [
            {
                "system": CS_IDENTITY_EVENT,
                "code": INS_PROFILE_WITHHELD,
                "display": IDENTITY_EVENTS[INS_PROFILE_WITHHELD],
            }
        ],
        "action": "E",
        "recorded": fhir_datetime(snapshot.ended_at or snapshot.started_at),
        "outcome": "4",
        "outcomeDesc": check.sentence,
        "agent": [
            {
                "type": {"coding": [{"system": CS_ACTOR_KIND, "code": "system"}]},
                "who": ctx.ref(ctx.kiosk_device_id, "Device"),
                "requestor": False,
            }
        ],
        "source": {
            "site": ctx.site.cabin_id,
            "observer": ctx.ref(ctx.kiosk_device_id, "Device"),
            "type": [{"system": c.CS_AUDIT_SOURCE_TYPE, "code": "1", "display": "User Device"}],
        },
        "entity": [
            {
                "what": ctx.ref(ctx.patient_id, "Patient"),
                "detail": [{"type": "gap", "valueString": gap.value} for gap in check.gaps],
            }
        ],
    }


def audit_item(index: int, trace_entry: TraceEntry) -> str:
    return f"audit/{index:04d}-{trace_entry.kind.value}"


def audit_event_resource(
    index: int,
    trace_entry: TraceEntry,
    ctx: MappingContext,
    *,
    has_patient: bool,
    observation_items: dict[str, str],
) -> Json:
    subtype = [{"system": CS_TRACE_KIND, "code": trace_entry.kind.value}]
    if trace_entry.incident is not None:
        subtype.append({"system": CS_INCIDENT, "code": trace_entry.incident.value})
    resource: Json = {
        "resourceType": "AuditEvent",
        "meta": {"tag": [ctx.session_id_for(audit_item(index, trace_entry)).as_tag()]},
        "type": {
            "system": c.CS_DICOM,
            "code": c.AUDIT_TYPE_APPLICATION_ACTIVITY,
            "display": "Application Activity",
        },
        "subtype": subtype,
        "action": "E",
        "recorded": fhir_datetime(trace_entry.at),
        "outcome": "4" if trace_entry.kind is TraceKind.INCIDENT else "0",
    }
    if trace_entry.message:
        resource["outcomeDesc"] = trace_entry.message
    resource["agent"] = [_agent(trace_entry, ctx, has_patient=has_patient)]
    resource["source"] = {
        "site": ctx.site.cabin_id,
        "observer": ctx.ref(ctx.kiosk_device_id, "Device"),
        "type": [{"system": c.CS_AUDIT_SOURCE_TYPE, "code": "1", "display": "User Device"}],
    }
    entities: list[Json] = [{"what": ctx.ref(ctx.encounter_id, "Encounter")}]
    if trace_entry.subject is not None:
        observation_item = observation_items.get(trace_entry.subject)
        if trace_entry.kind is TraceKind.PAYMENT:
            entities.append(payment_entity(trace_entry.subject, ctx))
        elif observation_item is not None:
            entities.append({"what": ctx.ref(ctx.session_id_for(observation_item), "Observation")})
        else:
            entities.append({"detail": [{"type": "subject", "valueString": trace_entry.subject}]})
    resource["entity"] = entities
    return resource


def _agent(trace_entry: TraceEntry, ctx: MappingContext, *, has_patient: bool) -> Json:
    actor = trace_entry.actor
    agent: Json = {
        "type": {"coding": [{"system": CS_ACTOR_KIND, "code": actor.kind.value}]},
    }
    match actor.kind:
        case ActorKind.PATIENT:
            if has_patient:
                agent["who"] = ctx.ref(ctx.patient_id, "Patient")
            else:
                agent["name"] = "patient (not identified yet)"
        case ActorKind.ASSISTANT if actor.id is not None:
            agent["who"] = ctx.staff_ref(actor.id)
        case ActorKind.DOCTOR if actor.id is not None:
            agent["who"] = doctor_ref(actor.id)
        case ActorKind.SYSTEM:
            agent["who"] = ctx.ref(ctx.kiosk_device_id, "Device")
        case _:
            agent["name"] = actor.kind.value
    agent["requestor"] = actor.kind is not ActorKind.SYSTEM
    return agent


def payment_entity(reference: str, ctx: MappingContext) -> Json:
    """The payment by its reference (the kiosk holds no amount, payer or payee)."""
    return {
        "what": {
            "identifier": {"system": f"{ctx.minter.system}:payment", "value": reference},
            "display": "payment",
        }
    }


def payment_item(index: int) -> str:
    return f"audit/payment/{index:02d}"


def untraced_payments(snapshot: SessionSnapshot) -> list[tuple[int, PaymentRecord]]:
    """Payments the trace does not name (the trace normally does: nothing to add)."""
    traced = {e.subject for e in snapshot.trace if e.kind is TraceKind.PAYMENT}
    return [(n, p) for n, p in enumerate(snapshot.payments) if p.reference not in traced]


def payment_event(
    index: int, payment: PaymentRecord, snapshot: SessionSnapshot, ctx: MappingContext
) -> Json:
    """A payment the trace lost: an AuditEvent at the session's end (its only known time)."""
    at = snapshot.ended_at or snapshot.started_at
    entry = TraceEntry(at, TraceKind.PAYMENT, PATIENT, payment.reference)
    resource = audit_event_resource(
        index, entry, ctx, has_patient=snapshot.identity is not None, observation_items={}
    )
    resource["meta"] = {"tag": [ctx.session_id_for(payment_item(index)).as_tag()]}
    return resource


def identity_item(index: int) -> str:
    return f"audit/identity/{index:02d}"


def identity_history_events(snapshot: SessionSnapshot, ctx: MappingContext) -> list[Json]:
    """Earlier identity versions of the session: the Patient carries only the latest.

    Each earlier version becomes an AuditEvent on the Patient naming its status,
    collection method, validation and the professional who verified it — no
    traits (names, NIR, birth date) of a superseded version leave the kiosk.
    """
    history = snapshot.identity_history
    if len(history) < 2:
        return []
    times = snapshot.identity_recorded_at
    events = []
    for n, version in enumerate(history[:-1]):
        at = times[n] if n < len(times) else snapshot.started_at
        details = [
            {"type": "identityStatus", "valueString": version.status.value},
            {"type": "methodCollection", "valueString": version.method.value},
        ]
        if version.verification_document is not None:
            details.append(
                {"type": "validationDocument", "valueString": version.verification_document.value}
            )
        if version.validation_date is not None:
            details.append(
                {"type": "validationDate", "valueString": version.validation_date.isoformat()}
            )
        if version.verified_by is not None:
            agent: Json = {
                "type": {"coding": [{"system": CS_ACTOR_KIND, "code": "assistant"}]},
                "who": ctx.staff_ref(version.verified_by),
                "requestor": True,
            }
        else:
            agent = {
                "type": {"coding": [{"system": CS_ACTOR_KIND, "code": "system"}]},
                "who": ctx.ref(ctx.kiosk_device_id, "Device"),
                "requestor": False,
            }
        events.append(
            {
                "resourceType": "AuditEvent",
                "meta": {"tag": [ctx.session_id_for(identity_item(n)).as_tag()]},
                "type": {
                    "system": c.CS_DICOM,
                    "code": c.AUDIT_TYPE_APPLICATION_ACTIVITY,
                    "display": "Application Activity",
                },
                "subtype": [{"system": CS_IDENTITY_EVENT, "code": IDENTITY_RECORDED}],
                "action": "C" if n == 0 else "U",
                "recorded": fhir_datetime(at),
                "outcome": "0",
                "agent": [agent],
                "source": {
                    "site": ctx.site.cabin_id,
                    "observer": ctx.ref(ctx.kiosk_device_id, "Device"),
                    "type": [
                        {"system": c.CS_AUDIT_SOURCE_TYPE, "code": "1", "display": "User Device"}
                    ],
                },
                "entity": [{"what": ctx.ref(ctx.patient_id, "Patient"), "detail": details}],
            }
        )
    return events
