"""Encounter (a virtual consultation) and the cabin's Location: the place of the patient.

Why the Location matters: the doctor must know where the patient sits (the
pharmacy or town hall, its address and INSEE code), e.g. to send help or to
name a nearby place for an in-person visit. The Location is cabin-wide (one
per cabin and commune on the platform), the Encounter is one per session.
"""

from __future__ import annotations

from app.domain.trace import ActorKind, IncidentCode, TraceKind
from app.domain.visit_reason import FRENCH_WORDS
from app.sync import fhir_codes as c
from app.sync.fhir_context import Json, MappingContext, doctor_ref, fhir_datetime
from app.sync.identifiers import (
    CS_END_REASON,
    CS_INTERRUPTION,
    CS_VISIT_REASON,
    EXT_ENCOUNTER_END_REASON,
    EXT_EVENT_STATUS_REASON,
)
from app.sync.session_snapshot import SessionSnapshot


def _type(system: str, code: str) -> Json:
    """An identifier type (FR Core 2.2.0 requires one on Encounter and Location identifiers)."""
    return {"coding": [{"system": system, "code": code}]}


def location_resource(ctx: MappingContext) -> Json:
    site = ctx.site
    return {
        "resourceType": "Location",
        "meta": {"profile": [c.PROFILE_LOCATION]},
        "identifier": [
            {
                "use": "usual",
                "type": _type(c.CS_LOCATION_IDENTIFIER_TYPE, c.LOCATION_IDENTIFIER_TYPE),
                **ctx.location_id.as_fhir(),
            }
        ],
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
            # The complement (building, floor) is the second line: how help finds the cabin.
            "line": [site.street, *([site.complement] if site.complement else [])],
            "city": site.city,
            "postalCode": site.postal_code,
            "country": "FR",
        },
        # The hosting site's phone, to reach someone beside the patient.
        **(
            {"telecom": [{"system": "phone", "value": site.phone, "use": "work"}]}
            if site.phone
            else {}
        ),
    }


# Incidents that send a session down the degraded path before any call, latest wins.
_NO_CALL_INCIDENTS: dict[IncidentCode, str] = {
    IncidentCode.PLATFORM_UNREACHABLE: "platform-unreachable",
    IncidentCode.CALL_MEDIA_CHECK_FAILED: "cabin-media-failed",
}


def interruption(snapshot: SessionSnapshot) -> str | None:
    """Why the consultation did not happen or was cut short (`c.INTERRUPTIONS`), or None.

    Read from the trace and the store's end reason, never from health data:
    - the last call ended normally (the doctor or the patient hung up): None,
      whatever happened afterwards on the end screen;
    - the last call ended "dropped" (the call module gave up after the
      reconnection window): `call-dropped`, even if the patient then finished
      the degraded screen normally;
    - the last call was ended by the kiosk (stop, inactivity, emergency exit,
      fault) or never ended (restart): the session's end reason;
    - no call at all: the session's end reason when it is not `completed`,
      else the latest degraded-path incident (platform unreachable, cabin
      media failed), else `no-call`.
    Still running: None.
    """
    if snapshot.ended_at is None:
        return None
    calls = [e for e in snapshot.trace if e.kind in (TraceKind.CALL_STARTED, TraceKind.CALL_ENDED)]
    reason = snapshot.end_reason or "completed"
    if any(e.kind is TraceKind.CALL_STARTED for e in calls):
        last = calls[-1]
        if last.kind is TraceKind.CALL_ENDED and last.subject == "dropped":
            return "call-dropped"
        if last.kind is TraceKind.CALL_ENDED and last.actor.kind is not ActorKind.SYSTEM:
            return None
        return reason if reason != "completed" else "call-dropped"
    if reason != "completed":
        return reason
    for entry in reversed(snapshot.trace):
        if entry.incident in _NO_CALL_INCIDENTS:
            return _NO_CALL_INCIDENTS[entry.incident]
    return "no-call"


def encounter_status(snapshot: SessionSnapshot) -> str:
    """R4 status of the consultation (docs/sync.md, "Interrupted sessions").

    `cancelled` is R4's "ended before it had begun": no doctor ever took the
    call (measurements alone are not the consultation), whatever ended the
    session. A consultation that began is `finished` even when cut short: R4
    has no "interrupted" status; the cut is said by `event-statusReason`
    (see `interruption`). Still running → `in-progress`.
    """
    if snapshot.ended_at is None:
        return "in-progress"
    called = any(e.kind is TraceKind.CALL_STARTED for e in snapshot.trace)
    return "finished" if called else "cancelled"


def _status_reason(code: str) -> Json:
    display = c.INTERRUPTIONS.get(code, code)
    return {
        "url": EXT_EVENT_STATUS_REASON,
        "valueCodeableConcept": {
            "coding": [{"system": CS_INTERRUPTION, "code": code, "display": display}],
            "text": display,
        },
    }


def encounter_resource(snapshot: SessionSnapshot, ctx: MappingContext) -> Json:
    finished = snapshot.ended_at is not None
    period: Json = {"start": fhir_datetime(snapshot.started_at)}
    if snapshot.ended_at is not None:
        period["end"] = fhir_datetime(snapshot.ended_at)
    resource: Json = {"resourceType": "Encounter", "meta": {"profile": [c.PROFILE_ENCOUNTER]}}
    extensions: list[Json] = []
    if snapshot.ended_at is not None and snapshot.end_reason is not None:
        # How the session ended, in the kiosk's terms (the store's end reason).
        extensions.append(
            {
                "url": EXT_ENCOUNTER_END_REASON,
                "valueCoding": {"system": CS_END_REASON, "code": snapshot.end_reason},
            }
        )
    cut = interruption(snapshot)
    if cut is not None:
        # Why the consultation was cancelled or cut short: R4 Encounter has no
        # statusReason element, the core extension event-statusReason carries it.
        extensions.append(_status_reason(cut))
    if extensions:
        resource["extension"] = extensions
    resource |= {
        "identifier": [
            {
                "use": "usual",
                "type": _type(c.CS_ENCOUNTER_IDENTIFIER_TYPE, c.ENCOUNTER_IDENTIFIER_TYPE),
                **ctx.encounter_id.as_fhir(),
            }
        ],
        "status": encounter_status(snapshot),
        "class": {"system": c.CS_ACT_CODE, "code": c.ENCOUNTER_CLASS_VIRTUAL, "display": "virtual"},
        "type": [{"text": "Teleconsultation in a cabin"}],
    }
    if snapshot.identity is not None:
        resource["subject"] = ctx.ref(ctx.patient_id, "Patient")
    reasons = reason_codes(snapshot)
    if reasons:
        resource["reasonCode"] = reasons
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


def reason_codes(snapshot: SessionSnapshot) -> list[Json]:
    """Why the patient came (Encounter.reasonCode): one concept per choice, the words apart.

    The choices are the kiosk's own codes (published with French displays);
    the patient's few words, when given, are a concept of their own with only
    `text`. "I'd rather tell the doctor" (nothing chosen, nothing written)
    sends nothing: no empty element leaves the kiosk.
    """
    answer = snapshot.visit_reason
    if answer is None:
        return []
    out: list[Json] = [
        {
            "coding": [
                {"system": CS_VISIT_REASON, "code": str(r.value), "display": FRENCH_WORDS[r]}
            ],
            "text": FRENCH_WORDS[r],
        }
        for r in answer.reasons
    ]
    if answer.text:
        out.append({"text": answer.text})
    return out


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
