"""Encounter (a virtual consultation) and the cabin's Location: the place of the patient.

Why the Location matters: the doctor must know where the patient sits (the
pharmacy or town hall, its address and INSEE code), e.g. to send help or to
name a nearby place for an in-person visit. The Location is cabin-wide (one
per cabin and commune on the platform), the Encounter is one per session.
"""

from __future__ import annotations

from app.domain.trace import ActorKind, TraceKind
from app.sync import fhir_codes as c
from app.sync.fhir_context import Json, MappingContext, doctor_ref, fhir_datetime
from app.sync.identifiers import CS_END_REASON, EXT_ENCOUNTER_END_REASON
from app.sync.session_snapshot import SessionSnapshot


def location_resource(ctx: MappingContext) -> Json:
    site = ctx.site
    return {
        "resourceType": "Location",
        "meta": {"profile": [c.PROFILE_LOCATION]},
        "identifier": [ctx.location_id.as_fhir()],
        "status": "active",
        "name": site.site_name,
        "description": f"Teleconsultation cabin {site.cabin_id}",
        "mode": "instance",
        "address": {
            "extension": [
                {
                    "url": c.EXT_ADDRESS_INSEE_CODE,
                    "valueCoding": {"system": c.CS_INSEE_COMMUNE, "code": site.insee_code},
                }
            ],
            "use": "work",
            "type": "physical",
            "line": [site.street],
            "city": site.city,
            "postalCode": site.postal_code,
            "country": "FR",
        },
    }


def encounter_status(snapshot: SessionSnapshot) -> str:
    """`finished` when the session ended normally or the doctor saw the patient.

    R4 `cancelled` means "ended before it had begun": a session stopped,
    abandoned, cut by a restart or a fault before any call is one, even with
    measurements taken (the consultation itself never happened). A session
    with a call is `finished` whatever cut it afterwards; the end reason says
    how it ended. Still running → `in-progress`.
    """
    if snapshot.ended_at is None:
        return "in-progress"
    if snapshot.end_reason in (None, "completed"):
        return "finished"
    called = any(e.kind is TraceKind.CALL_STARTED for e in snapshot.trace)
    return "finished" if called else "cancelled"


def encounter_resource(snapshot: SessionSnapshot, ctx: MappingContext) -> Json:
    finished = snapshot.ended_at is not None
    period: Json = {"start": fhir_datetime(snapshot.started_at)}
    if snapshot.ended_at is not None:
        period["end"] = fhir_datetime(snapshot.ended_at)
    resource: Json = {"resourceType": "Encounter", "meta": {"profile": [c.PROFILE_ENCOUNTER]}}
    if snapshot.ended_at is not None and snapshot.end_reason is not None:
        # R4 has no Encounter.statusReason: how the session ended, in the kiosk's terms.
        resource["extension"] = [
            {
                "url": EXT_ENCOUNTER_END_REASON,
                "valueCoding": {"system": CS_END_REASON, "code": snapshot.end_reason},
            }
        ]
    resource |= {
        "identifier": [ctx.encounter_id.as_fhir()],
        "status": encounter_status(snapshot),
        "class": {"system": c.CS_ACT_CODE, "code": c.ENCOUNTER_CLASS_VIRTUAL, "display": "virtual"},
        "type": [{"text": "Teleconsultation in a cabin"}],
    }
    if snapshot.identity is not None:
        resource["subject"] = ctx.ref(ctx.patient_id, "Patient")
    participants = _participants(snapshot, ctx)
    if participants:
        resource["participant"] = participants
    resource["period"] = period
    resource["location"] = [
        {
            "location": ctx.ref(ctx.location_id, "Location"),
            "status": "completed" if finished else "active",
        }
    ]
    return resource


def professionals(snapshot: SessionSnapshot) -> tuple[list[str], list[str]]:
    """(doctors' RPPS, assistants' accounts) in order of first appearance, each once."""
    doctors: list[str] = []
    assistants: list[str] = []
    for trace_entry in snapshot.trace:
        actor = trace_entry.actor
        if actor.id is None:
            continue
        if actor.kind is ActorKind.DOCTOR and actor.id not in doctors:
            doctors.append(actor.id)
        elif actor.kind is ActorKind.ASSISTANT and actor.id not in assistants:
            assistants.append(actor.id)
    for measurement in snapshot.measurements:
        account = getattr(measurement.source, "professional_account_id", None)
        if account is not None and account not in assistants:
            assistants.append(account)
    if snapshot.identity is not None and snapshot.identity.verified_by is not None:
        if snapshot.identity.verified_by not in assistants:
            assistants.append(snapshot.identity.verified_by)
    return doctors, assistants


def _participants(snapshot: SessionSnapshot, ctx: MappingContext) -> list[Json]:
    doctors, assistants = professionals(snapshot)
    out: list[Json] = []
    for rpps in doctors:
        out.append({"type": [_participation("PPRF")], "individual": doctor_ref(rpps)})
    for account in assistants:
        out.append({"type": [_participation("PART")], "individual": ctx.staff_ref(account)})
    return out


def _participation(code: str) -> Json:
    return {"coding": [{"system": c.CS_PARTICIPATION_TYPE, "code": code}]}
