"""Patient (FR Core): traits, identity reliability, and the INS only when qualified.

Rules (PROTOCOLS.md, RNIV): every identity goes out with its status and how it
was collected, so the doctor knows how far to trust it. The INS identifier
(and the `fr-core-patient-ins` profile) go out only for a QUAL identity; the
test/demo OIDs only from a cabin in test mode (the domain refuses them in
production and so does the mapping). A NIR read from a card without INSi is
not an INS and stays in the cabin.

A date of birth known only in part (civil-status "00") goes out in FHIR's
reduced form ('1950', '1950-06'): a made-up day would be a false trait in
the doctor's record.
"""

from __future__ import annotations

from app.domain.identity import PatientIdentity, TestIdentityRefused, ins_identifier_for_export
from app.sync import fhir_codes as c
from app.sync.errors import MappingError, MappingErrorReason
from app.sync.fhir_context import Json, MappingContext, fhir_date


def patient_resource(identity: PatientIdentity, ctx: MappingContext) -> Json:
    traits = identity.traits
    try:
        ins = ins_identifier_for_export(identity, ctx.site.mode)
    except TestIdentityRefused as exc:
        raise MappingError(MappingErrorReason.TEST_IDENTITY_IN_PRODUCTION, exc.sentence) from exc

    profiles = [c.PROFILE_PATIENT] + ([c.PROFILE_PATIENT_INS] if ins is not None else [])
    identifiers: list[Json] = []
    if ins is not None:
        oid, value = ins
        system = f"urn:oid:{oid}"
        slice_code, use, _test_only = c.INS_SLICES[system]
        identifiers.append(
            {
                "use": use,
                "type": {"coding": [{"system": c.CS_IDENTIFIER_TYPE, "code": slice_code}]},
                "system": system,
                "value": value,
            }
        )
    identifiers.append({"use": "secondary", **ctx.patient_id.as_fhir()})

    extensions: list[Json] = [_reliability(identity)]
    if traits.birth_place_insee is not None:
        extensions.append(
            {
                "url": c.EXT_BIRTH_PLACE,
                "valueAddress": {
                    "extension": [
                        {
                            "url": c.EXT_ADDRESS_INSEE_CODE,
                            "valueCoding": {
                                "system": c.CS_INSEE_COMMUNE,
                                "code": traits.birth_place_insee,
                            },
                        }
                    ],
                    "district": traits.birth_place_insee,
                },
            }
        )

    official: Json = {"use": "official", "family": traits.birth_name}
    if traits.birth_first_names:
        official["given"] = [traits.birth_first_names[0]]
        official["extension"] = [
            {
                "url": c.EXT_BIRTH_LIST_GIVEN_NAME,
                "valueString": " ".join(traits.birth_first_names),
            }
        ]
    names = [official]
    if traits.used_name is not None or traits.first_name_used is not None:
        usual: Json = {"use": "usual", "family": traits.used_name or traits.birth_name}
        if traits.first_name_used is not None:
            usual["given"] = [traits.first_name_used]
        names.append(usual)

    return {
        "resourceType": "Patient",
        "meta": {"profile": profiles},
        "extension": extensions,
        "identifier": identifiers,
        "name": names,
        "gender": traits.sex.value,
        # FHIR `date` allows YYYY and YYYY-MM: send only what the civil status
        # knows, never the first day the domain keeps as a placeholder.
        "birthDate": traits.birth_date_known,
    }


def _reliability(identity: PatientIdentity) -> Json:
    parts: list[Json] = [
        {
            "url": "identityStatus",
            "valueCoding": {"system": c.CS_IDENTITY_STATUS, "code": identity.status.value},
        },
        {
            "url": "methodCollection",
            "valueCoding": {"system": c.CS_METHOD_COLLECTION, "code": identity.method.value},
        },
    ]
    if identity.verification_document is not None:
        parts.append(
            {
                "url": "validationMode",
                "valueCoding": {
                    "system": c.CS_VALIDATION_MODE,
                    "code": c.VALIDATION_MODES[identity.verification_document.value],
                },
            }
        )
    if identity.validation_date is not None:
        parts.append({"url": "validationDate", "valueDate": fhir_date(identity.validation_date)})
    if identity.insi_queried_at is not None:
        parts.append(
            {
                "url": "dateInterrogationINSi",
                "valueDate": fhir_date(identity.insi_queried_at.date()),
            }
        )
    return {"url": c.EXT_IDENTITY_RELIABILITY, "extension": parts}
