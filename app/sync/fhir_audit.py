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

from app.domain.trace import ActorKind, TraceEntry, TraceKind
from app.sync import fhir_codes as c
from app.sync.fhir_context import Json, MappingContext, doctor_ref, fhir_datetime
from app.sync.identifiers import CS_ACTOR_KIND, CS_INCIDENT, CS_TRACE_KIND


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
        if observation_item is not None:
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
