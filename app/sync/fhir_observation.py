"""Observation (vital signs): LOINC code, UCUM unit, the device's precision kept.

Why Decimal all the way: a thermometer that reports 36.60 °C (exponent −2)
says something a float cannot: the value travels as `36.60`, digit for digit
(see `fhir_json`). Blood pressure is one panel (85354-9) with systolic,
diastolic and mean as components, as FR Core's BP profile wants. Who
produced the value is said twice: in the Observation (`device`, or
`performer` for a value entered by hand) and in a Provenance.
"""

from __future__ import annotations

from collections.abc import Mapping

from app.domain.measurements import Component, DeviceSource, Measurement, MeasurementKind
from app.sync import fhir_codes as c
from app.sync.fhir_context import Json, MappingContext, fhir_datetime
from app.sync.identifiers import check_safe

_PROFILES: Mapping[MeasurementKind, str] = {
    MeasurementKind.BODY_TEMPERATURE: c.PROFILE_BODY_TEMPERATURE,
    MeasurementKind.HEART_RATE: c.PROFILE_HEART_RATE,
    MeasurementKind.SPO2: c.PROFILE_SPO2,
    MeasurementKind.BLOOD_PRESSURE: c.PROFILE_BP,
}


def observation_item(measurement: Measurement) -> str:
    return f"observation/{check_safe('measurement', measurement.id)}"


def observation_resource(measurement: Measurement, ctx: MappingContext) -> Json:
    business_id = ctx.session_id_for(observation_item(measurement))
    resource: Json = {
        "resourceType": "Observation",
        "meta": {"profile": [_PROFILES[measurement.kind], c.PROFILE_VITAL_SIGNS]},
        "identifier": [business_id.as_fhir()],
        "status": "final",
        "category": [
            {
                "coding": [
                    {
                        "system": c.CS_OBSERVATION_CATEGORY,
                        "code": "vital-signs",
                        "display": "Vital Signs",
                    }
                ]
            }
        ],
        "code": {"coding": [_loinc(code) for code in measurement.loinc_codes]},
        "subject": ctx.ref(ctx.patient_id, "Patient"),
        "encounter": ctx.ref(ctx.encounter_id, "Encounter"),
        "effectiveDateTime": fhir_datetime(measurement.taken_at),
    }
    if isinstance(measurement.source, DeviceSource):
        resource["device"] = ctx.ref(ctx.device_id(measurement.source.device_id), "Device")
    else:
        resource["performer"] = [ctx.staff_ref(measurement.source.professional_account_id)]
    flags = sorted(measurement.flags)
    if flags:
        # For the doctor only (the patient never sees them as a diagnosis).
        resource["interpretation"] = [
            {
                "coding": [
                    {"system": c.CS_INTERPRETATION, "code": c.FLAG_INTERPRETATION[flag.value]}
                ],
                "text": flag.value,
            }
            for flag in flags
        ]
    if measurement.device_flags:
        # What the device itself said of the reading (status bits), for the doctor: the
        # values are the device's, kept as given; "measure again" readings are marked so.
        resource["note"] = [
            {"text": "device: " + ", ".join(f.value for f in measurement.device_flags)}
        ]
    if measurement.kind is MeasurementKind.BLOOD_PRESSURE:
        resource["component"] = [
            {"code": {"coding": [_loinc(comp.loinc)]}, "valueQuantity": _quantity(comp)}
            for comp in measurement.components
        ]
    else:
        (only,) = measurement.components
        resource["valueQuantity"] = _quantity(only)
    return resource


def _loinc(code: str) -> Json:
    return {"system": c.LOINC, "code": code, "display": c.LOINC_UNITS[code][0]}


def _quantity(component: Component) -> Json:
    return {
        "value": component.value,  # Decimal: written with the device's digits
        "unit": c.UCUM_DISPLAY[component.unit],
        "system": c.UCUM,
        "code": component.unit,
    }


def device_resource(device_id: str, ctx: MappingContext, *, kiosk: bool = False) -> Json:
    """The cabin's device (or the kiosk itself): one per cabin on the platform."""
    business_id = ctx.kiosk_device_id if kiosk else ctx.device_id(check_safe("device", device_id))
    return {
        "resourceType": "Device",
        "identifier": [business_id.as_fhir()],
        "status": "active",
        "deviceName": [{"name": device_id, "type": "user-friendly-name"}],
        "location": ctx.ref(ctx.location_id, "Location"),
    }
