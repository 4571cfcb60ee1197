"""The orientation result (parcours de soins) as an Observation with the kiosk's own codes.

Why an Observation and not part of the Encounter: it is an answer the patient
gave at a time, with a result the doctor must read before the call (is the
act reimbursed as a visit, which exception applies, did the patient not know
their médecin traitant); R4's Encounter has no place for that but free text.
Why kiosk codes: no LOINC or SNOMED code says "position in the French
parcours de soins"; the kiosk must not pretend one does, so the code, the
result and the components are in `urn:telecabine:` code systems and the
category is the generic `survey`. The sentence the patient was told about
reimbursement goes in `note`.
"""

from __future__ import annotations

from app.domain.orientation import OrientationResult
from app.domain.trace import TraceKind
from app.sync import fhir_codes as c
from app.sync.fhir_context import Json, MappingContext, fhir_datetime
from app.sync.identifiers import (
    CS_KIOSK_OBSERVATION,
    CS_ORIENTATION_EXCEPTION,
    CS_PARCOURS,
    CS_TERRITORIALITY_WAIVER,
)
from app.sync.session_snapshot import SessionSnapshot

ORIENTATION_ITEM = "orientation"


def _component(code: str, value: Json) -> Json:
    return {"code": {"coding": [{"system": CS_KIOSK_OBSERVATION, "code": code}]}, **value}


def _coded(system: str, code: str) -> Json:
    return {"valueCodeableConcept": {"coding": [{"system": system, "code": code}]}}


def orientation_resource(
    result: OrientationResult, snapshot: SessionSnapshot, ctx: MappingContext
) -> Json:
    resource: Json = {
        "resourceType": "Observation",
        "identifier": [ctx.session_id_for(ORIENTATION_ITEM).as_fhir()],
        "status": "final",
        "category": [
            {
                "coding": [
                    {
                        "system": c.CS_OBSERVATION_CATEGORY,
                        "code": c.OBSERVATION_CATEGORY_SURVEY,
                    }
                ]
            }
        ],
        "code": {
            "coding": [{"system": CS_KIOSK_OBSERVATION, "code": c.ORIENTATION_CODE}],
            "text": "Orientation in the parcours de soins (kiosk questionnaire)",
        },
        "subject": ctx.ref(ctx.patient_id, "Patient"),
        "encounter": ctx.ref(ctx.encounter_id, "Encounter"),
    }
    answered = next(
        (e.at for e in snapshot.trace if e.kind is TraceKind.ORIENTATION_ANSWERED), None
    )
    if answered is not None:  # no invented time: absent when the trace does not say
        resource["effectiveDateTime"] = fhir_datetime(answered)
    resource["performer"] = [ctx.ref(ctx.patient_id, "Patient")]
    resource["valueCodeableConcept"] = {
        "coding": [{"system": CS_PARCOURS, "code": result.parcours.value}],
        "text": result.parcours.value,
    }
    resource["note"] = [{"text": result.message.fr}]
    components = [
        _component(c.ORIENTATION_EXCEPTION_CODE, _coded(CS_ORIENTATION_EXCEPTION, e.value))
        for e in sorted(result.exceptions)
    ]
    components += [
        _component(c.TERRITORIALITY_WAIVER_CODE, _coded(CS_TERRITORIALITY_WAIVER, w.value))
        for w in sorted(result.waivers)
    ]
    components.append(
        _component(
            c.MEDECIN_TRAITANT_UNKNOWN_CODE, {"valueBoolean": result.unknown_medecin_traitant}
        )
    )
    resource["component"] = components
    return resource
