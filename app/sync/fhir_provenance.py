"""Provenance: who and what produced each resource the kiosk sends.

- an Observation read from a device: the device is the `performer`;
- an Observation entered by hand: the professional is the `enterer`;
- the Patient: the professional who checked the document is the `verifier`;
- a Consent: the patient is the `author` of the decision;
- a DocumentReference: the doctor who issued it is the `author`;
and always the kiosk itself as `assembler` (it built the record). R4
Provenance has no `identifier`: its business id is a `meta.tag`.
"""

from __future__ import annotations

from datetime import datetime

from app.domain.consent import ConsentDecision
from app.domain.identity import PatientIdentity
from app.domain.measurements import DeviceSource, Measurement
from app.sync import fhir_codes as c
from app.sync.fhir_context import Json, MappingContext, doctor_ref, fhir_datetime
from app.sync.identifiers import BusinessId
from app.sync.session_snapshot import SessionDocument


def provenance_item(target_item: str) -> str:
    return f"provenance/{target_item}"


def _agent(code: str, who: Json) -> Json:
    return {
        "type": {"coding": [{"system": c.CS_PROVENANCE_AGENT_TYPE, "code": code}]},
        "who": who,
    }


def _provenance(
    ctx: MappingContext,
    target_id: BusinessId,
    target_type: str,
    item: str,
    recorded: datetime,
    agents: list[Json],
) -> Json:
    return {
        "resourceType": "Provenance",
        "meta": {"tag": [ctx.session_id_for(provenance_item(item)).as_tag()]},
        "target": [ctx.ref(target_id, target_type)],
        "recorded": fhir_datetime(recorded),
        "location": ctx.ref(ctx.location_id, "Location"),
        "agent": [*agents, _agent("assembler", ctx.ref(ctx.kiosk_device_id, "Device"))],
    }


def observation_provenance(measurement: Measurement, item: str, ctx: MappingContext) -> Json:
    if isinstance(measurement.source, DeviceSource):
        producer = _agent(
            "performer", ctx.ref(ctx.device_id(measurement.source.device_id), "Device")
        )
    else:
        producer = _agent("enterer", ctx.staff_ref(measurement.source.professional_account_id))
    return _provenance(
        ctx, ctx.session_id_for(item), "Observation", item, measurement.taken_at, [producer]
    )


def patient_provenance(identity: PatientIdentity, recorded: datetime, ctx: MappingContext) -> Json:
    agents = []
    if identity.verified_by is not None:
        agents.append(_agent("verifier", ctx.staff_ref(identity.verified_by)))
    return _provenance(ctx, ctx.patient_id, "Patient", "patient", recorded, agents)


def consent_provenance(decision: ConsentDecision, item: str, ctx: MappingContext) -> Json:
    author = _agent("author", ctx.ref(ctx.patient_id, "Patient"))
    return _provenance(ctx, ctx.session_id_for(item), "Consent", item, decision.at, [author])


def document_provenance(
    document: SessionDocument, author_rpps: str | None, item: str, ctx: MappingContext
) -> Json:
    """The doctor who issued the document is its author (when the trace names them)."""
    agents = [] if author_rpps is None else [_agent("author", doctor_ref(author_rpps))]
    return _provenance(
        ctx, ctx.session_id_for(item), "DocumentReference", item, document.created_at, agents
    )
