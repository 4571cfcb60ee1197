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

FR Core 2.2.0 (docs/sync.md): the identity-reliability extension carries
identityStatus (fr-core-cs-v2-0445), methodCollection, dateCollection (the
INSi query), validationDate and validationMode — `AV` for an identity from
the appli carte Vitale. The INS profile is claimed only when every
requirement of `fr-core-patient-ins` holds (`ins_profile_check`); otherwise
the qualified identity goes out under `fr-core-patient` alone, with its INS
identifier and status, and the reason is traced (an AuditEvent in the
bundle, and the typed result the controller records).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from app.domain.identity import (
    CollectionMethod,
    PatientIdentity,
    TestIdentityRefused,
    ins_identifier_for_export,
)
from app.sync import fhir_codes as c
from app.sync.errors import MappingError, MappingErrorReason
from app.sync.fhir_context import Json, MappingContext, fhir_date


class InsProfileGap(enum.StrEnum):
    """A requirement of fr-core-patient-ins (FR Core 2.2.0) a qualified identity misses."""

    BIRTH_PLACE_MISSING = "birth-place-missing"
    BIRTH_NAME_MISSING = "birth-name-missing"
    BIRTH_FIRST_NAMES_MISSING = "birth-first-names-missing"
    VALIDATION_MODE_NOT_FOR_INS = "validation-mode-not-for-ins"


_GAP_SENTENCES: dict[InsProfileGap, str] = {
    InsProfileGap.BIRTH_PLACE_MISSING: "the place of birth (INSEE code) is missing",
    InsProfileGap.BIRTH_NAME_MISSING: "the birth name is missing",
    InsProfileGap.BIRTH_FIRST_NAMES_MISSING: "the list of birth first names is missing",
    InsProfileGap.VALIDATION_MODE_NOT_FOR_INS: (
        "the identity was checked in a way the INS profile does not list "
        "(fr-core-vs-mode-validation-identity-ins)"
    ),
}


@dataclass(frozen=True, slots=True)
class InsProfileCheck:
    """Whether a qualified identity may claim the INS profile, and if not, why.

    Holds codes only, never a trait: `sentence` may go to the trace, a log or
    maintenance as it is.
    """

    applies: bool  # a QUAL identity with an INS to send (else the question does not arise)
    gaps: tuple[InsProfileGap, ...] = ()

    @property
    def ins_profile(self) -> bool:
        return self.applies and not self.gaps

    @property
    def sentence(self) -> str:
        if not self.gaps:
            return "The qualified identity meets the FR Core INS profile."
        reasons = "; ".join(_GAP_SENTENCES[g] for g in self.gaps)
        return f"The qualified identity is sent without the FR Core INS profile: {reasons}."


def validation_mode(identity: PatientIdentity) -> str | None:
    """The FR Core validation mode: the document checked, or AV for the appli carte Vitale."""
    if identity.verification_document is not None:
        return c.VALIDATION_MODES[identity.verification_document.value]
    if identity.method is CollectionMethod.AV:
        return c.VALIDATION_MODE_APCV
    return None


def ins_profile_check(identity: PatientIdentity, ins_present: bool = True) -> InsProfileCheck:
    """Check a qualified identity against fr-core-patient-ins before it is queued.

    The controller calls this when an identity becomes qualified and records a
    trace entry with `sentence` when `gaps` is not empty (docs/sync.md); the
    mapping calls it again and sends the identity without the INS profile.
    """
    if not identity.is_qualified or not ins_present:
        return InsProfileCheck(applies=False)
    traits = identity.traits
    gaps: list[InsProfileGap] = []
    if not (traits.birth_name or "").strip():
        gaps.append(InsProfileGap.BIRTH_NAME_MISSING)
    if not any(name.strip() for name in traits.birth_first_names):
        gaps.append(InsProfileGap.BIRTH_FIRST_NAMES_MISSING)
    if not (traits.birth_place_insee or "").strip():
        gaps.append(InsProfileGap.BIRTH_PLACE_MISSING)
    mode = validation_mode(identity)
    if mode is not None and mode not in c.INS_VALIDATION_MODES:
        gaps.append(InsProfileGap.VALIDATION_MODE_NOT_FOR_INS)
    return InsProfileCheck(applies=True, gaps=tuple(gaps))


def patient_resource(identity: PatientIdentity, ctx: MappingContext) -> Json:
    traits = identity.traits
    try:
        ins = ins_identifier_for_export(identity, ctx.site.mode)
    except TestIdentityRefused as exc:
        raise MappingError(MappingErrorReason.TEST_IDENTITY_IN_PRODUCTION, exc.sentence) from exc

    check = ins_profile_check(identity, ins is not None)
    profiles = [c.PROFILE_PATIENT] + ([c.PROFILE_PATIENT_INS] if check.ins_profile else [])
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
    if (traits.birth_place_insee or "").strip():
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

    # Empty names are left out (`compact` removes what is left empty): a patient
    # with no first name has no `given`, never `given: [""]`.
    first_names = [name.strip() for name in traits.birth_first_names if name.strip()]
    official: Json = {"use": "official", "family": traits.birth_name}
    if first_names:
        official["given"] = [first_names[0]]
        official["extension"] = [
            {"url": c.EXT_BIRTH_LIST_GIVEN_NAME, "valueString": " ".join(first_names)}
        ]
    names = [official]
    used_name = (traits.used_name or "").strip()
    first_name_used = (traits.first_name_used or "").strip()
    if used_name or first_name_used:
        usual: Json = {"use": "usual", "family": used_name or traits.birth_name}
        if first_name_used:
            usual["given"] = [first_name_used]
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
    mode = validation_mode(identity)
    if mode is not None:
        parts.append(
            {"url": "validationMode", "valueCoding": {"system": c.CS_VALIDATION_MODE, "code": mode}}
        )
    if identity.validation_date is not None:
        parts.append({"url": "validationDate", "valueDate": fhir_date(identity.validation_date)})
    if identity.insi_queried_at is not None:
        # FR Core 2.2.0 names the date of the INSi query `dateCollection`.
        parts.append(
            {"url": "dateCollection", "valueDate": fhir_date(identity.insi_queried_at.date())}
        )
    return {"url": c.EXT_IDENTITY_RELIABILITY, "extension": parts}
