"""The product's own checks of coded values and profiles.

Why: the FHIR models check structure and types, not codes (they accept
`status: "bogus"`), and a platform may store what it does not understand.
Before a bundle leaves the kiosk every resource goes through `check_codes`:
unknown status codes, a LOINC code with the wrong UCUM unit, an INS
identifier on an identity that is not qualified, a test OID from a cabin in
production... are refused here, with a sentence naming the path.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from app.domain.mode import RunMode
from app.domain.orientation import OrientationException, Parcours, TerritorialityWaiver
from app.sync import fhir_codes as c
from app.sync import vendor
from app.sync.errors import CodeCheckError, CodeProblem, describe_kind
from app.sync.identifiers import (
    CS_DOCUMENT_KIND,
    CS_END_REASON,
    CS_INTERRUPTION,
    CS_KIOSK_OBSERVATION,
    CS_ORIENTATION_EXCEPTION,
    CS_PARCOURS,
    CS_TERRITORIALITY_WAIVER,
    EXT_ENCOUNTER_END_REASON,
    EXT_EVENT_STATUS_REASON,
    KIOSK_URN,
)

Json = Mapping[str, Any]
_INSEE = re.compile(r"^(\d{5}|2[AB]\d{3})$")
PARCOURS_CODES = frozenset(p.value for p in Parcours)
EXCEPTION_CODES = frozenset(e.value for e in OrientationException)
WAIVER_CODES = frozenset(w.value for w in TerritorialityWaiver)


class _Checker:
    def __init__(self, resource: Json) -> None:
        self.type = str(resource.get("resourceType", "?"))
        self.problems: list[CodeProblem] = []

    def bad(self, path: str, found: object, expected: str) -> None:
        # Only the kind of what was found: the value may be a patient's (see CodeProblem).
        self.problems.append(CodeProblem(self.type, path, describe_kind(found), expected))

    def member(self, path: str, value: object, allowed: Iterable[str]) -> None:
        allowed = frozenset(allowed)
        if value not in allowed:
            self.bad(path, value, "one of " + ", ".join(sorted(allowed)))

    def coding(
        self, path: str, coding: Json | None, system: str, allowed: Iterable[str] | None = None
    ) -> None:
        if coding is None:
            self.bad(path, None, f"a coding from {system}")
            return
        if coding.get("system") != system:
            self.bad(f"{path}.system", coding.get("system"), system)
        if allowed is not None:
            self.member(f"{path}.code", coding.get("code"), allowed)


def _walk(ck: _Checker, value: object, path: str) -> None:
    """Anywhere in a resource: no empty text, list or object (FHIR forbids them); local
    codes and extensions only from the published vendor namespace; IDNPS identifiers
    well formed."""
    if isinstance(value, str):
        if not value.strip():
            ck.bad(path, value, "non-empty text (FHIR forbids empty strings)")
        return
    if isinstance(value, list):
        if not value:
            ck.bad(path, value, "at least one item (FHIR forbids empty arrays)")
        for i, item in enumerate(value):
            _walk(ck, item, f"{path}[{i}]")
        return
    if not isinstance(value, Mapping):
        return
    if not value:
        ck.bad(path, value, "at least one field (FHIR forbids empty objects)")
    system = value.get("system")
    if isinstance(system, str) and "code" in value:
        if system.startswith(f"{KIOSK_URN}:") and "value" not in value and path.find("tag") < 0:
            ck.bad(f"{path}.system", system, f"a code system under {vendor.VENDOR_BASE}")
        known = None if system in _CHECKED_ELSEWHERE else vendor.known_codes(system)
        if known is not None and value.get("code") not in known:
            ck.bad(f"{path}.code", value.get("code"), f"a code published in {system}")
    if isinstance(system, str) and system == c.SYSTEM_IDNPS:
        _idnps(ck, value, path)
    if isinstance(system, str) and system == c.SYSTEM_RPPS and "value" in value:
        _rpps(ck, value, path)
    url = value.get("url")
    if isinstance(url, str) and "value" not in value and path.endswith("]"):
        if url.startswith(f"{KIOSK_URN}:") or (
            url.startswith(vendor.SD_BASE)
            and url
            not in (
                vendor.EXT_CONSENT_TEXT_SHA256,
                vendor.EXT_ENCOUNTER_END_REASON,
                vendor.EXT_ATTACHMENT_SHA256,
            )
        ):
            ck.bad(f"{path}.url", url, "an extension the kiosk defines")
    for key, item in value.items():
        _walk(ck, item, f"{path}.{key}" if path else str(key))


# Local code systems whose codes a resource check already names with a better sentence.
_CHECKED_ELSEWHERE = frozenset(
    {
        CS_END_REASON,
        CS_INTERRUPTION,
        CS_PARCOURS,
        CS_ORIENTATION_EXCEPTION,
        CS_TERRITORIALITY_WAIVER,
        CS_KIOSK_OBSERVATION,
    }
)
_IDNPS_VALUE = re.compile(r"^8[0-9]{11}$")


def _idnps(ck: _Checker, identifier: Json, path: str) -> None:
    if not _IDNPS_VALUE.fullmatch(str(identifier.get("value", ""))):
        ck.bad(f"{path}.value", identifier.get("value"), '"8" followed by the 11-digit RPPS')
    codings = identifier.get("type", {}).get("coding", [None]) or [None]
    ck.coding(f"{path}.type", codings[0], c.CS_IDENTIFIER_TYPE, {c.IDNPS_TYPE})


_RPPS_VALUE = re.compile(r"^[0-9]{11}$")


def _rpps(ck: _Checker, identifier: Json, path: str) -> None:
    if not _RPPS_VALUE.fullmatch(str(identifier.get("value", ""))):
        ck.bad(f"{path}.value", identifier.get("value"), "an 11-digit RPPS")
    codings = identifier.get("type", {}).get("coding", [None]) or [None]
    ck.coding(f"{path}.type", codings[0], c.CS_IDENTIFIER_TYPE, {c.RPPS_TYPE})


def _typed_identifier(ck: _Checker, r: Json, system: str, code: str) -> None:
    """FR Core 2.2.0: Encounter and Location identifiers carry a type."""
    identifiers = r.get("identifier", [])
    if not identifiers:
        ck.bad("identifier", None, "the kiosk's business identifier")
    for i, identifier in enumerate(identifiers):
        codings = identifier.get("type", {}).get("coding", [None]) or [None]
        ck.coding(f"identifier[{i}].type", codings[0], system, {code})


def check_codes(resource: Json, *, mode: RunMode | None = None) -> list[CodeProblem]:
    """Every problem found in one resource (empty when it may be sent)."""
    checker = _Checker(resource)
    _walk(checker, resource, "")
    for i, profile in enumerate(resource.get("meta", {}).get("profile", [])):
        if profile not in c.KNOWN_PROFILES:
            checker.bad(f"meta.profile[{i}]", profile, "a profile the kiosk knows")
    check = _CHECKS.get(checker.type)
    if check is None:
        checker.bad("resourceType", checker.type, "a resource type the kiosk sends")
    else:
        check(checker, resource, mode)
    return checker.problems


def require_valid_codes(resources: Iterable[Json], *, mode: RunMode | None = None) -> None:
    problems = [p for r in resources for p in check_codes(r, mode=mode)]
    if problems:
        raise CodeCheckError(problems)


def _sub(ext: Json, url: str) -> Json | None:
    return next((e for e in ext.get("extension", []) if e.get("url") == url), None)


def _patient(ck: _Checker, r: Json, mode: RunMode | None) -> None:
    ck.member("gender", r.get("gender"), {"male", "female", "unknown"})
    profiles = r.get("meta", {}).get("profile", [])
    if c.PROFILE_PATIENT not in profiles:
        ck.bad("meta.profile", profiles, c.PROFILE_PATIENT)
    reliability = [e for e in r.get("extension", []) if e.get("url") == c.EXT_IDENTITY_RELIABILITY]
    status = None
    validation = None
    if len(reliability) != 1:
        ck.bad("extension(identity-reliability)", len(reliability), "exactly one")
    else:
        ext = reliability[0]
        status_ext = _sub(ext, "identityStatus")
        status_coding = status_ext.get("valueCoding") if status_ext else None
        ck.coding("identityStatus", status_coding, c.CS_IDENTITY_STATUS, c.IDENTITY_STATUSES)
        status = status_coding.get("code") if status_coding else None
        method = _sub(ext, "methodCollection")
        ck.coding(
            "methodCollection",
            method.get("valueCoding") if method else None,
            c.CS_METHOD_COLLECTION,
            c.COLLECTION_METHODS,
        )
        mode_ext = _sub(ext, "validationMode")
        method_code = (method.get("valueCoding") or {}).get("code") if method else None
        validation = (mode_ext.get("valueCoding") or {}).get("code") if mode_ext else None
        if mode_ext is not None:
            ck.coding(
                "validationMode",
                mode_ext.get("valueCoding"),
                c.CS_VALIDATION_MODE,
                c.ALL_VALIDATION_MODES,
            )
        if method_code == "AV" and validation != c.VALIDATION_MODE_APCV:
            ck.bad("validationMode", validation, "AV for an identity from the appli carte Vitale")
        if _sub(ext, "dateInterrogationINSi") is not None:
            ck.bad("dateInterrogationINSi", "present", "dateCollection (FR Core 2.2.0)")
    ins = [i for i in r.get("identifier", []) if i.get("system") in c.INS_SLICES]
    for n, identifier in enumerate(ins):
        code, use, test_only = c.INS_SLICES[identifier["system"]]
        path = f"identifier(INS)[{n}]"
        codings = identifier.get("type", {}).get("coding", [{}])
        ck.coding(f"{path}.type", codings[0] if codings else None, c.CS_IDENTIFIER_TYPE, {code})
        ck.member(f"{path}.use", identifier.get("use"), {use})
        if test_only and mode is RunMode.PRODUCTION:
            ck.bad(f"{path}.system", identifier["system"], "a production OID (.8 or .9)")
        if status != "QUAL":
            ck.bad(f"{path}", status, "an INS only on a QUAL identity")
    if c.PROFILE_PATIENT_INS in profiles:
        if not ins or status != "QUAL":
            ck.bad("meta.profile", c.PROFILE_PATIENT_INS, "only for a QUAL identity with its INS")
        if not any(e.get("url") == c.EXT_BIRTH_PLACE for e in r.get("extension", [])):
            ck.bad("extension(birthPlace)", None, "a place of birth under the INS profile")
        if validation is not None and validation not in c.INS_VALIDATION_MODES:
            ck.bad(
                "validationMode",
                validation,
                "a mode of fr-core-vs-mode-validation-identity-ins under the INS profile",
            )
    for ext in r.get("extension", []):
        if ext.get("url") == c.EXT_BIRTH_PLACE:
            insee = _sub(ext.get("valueAddress", {}), c.EXT_ADDRESS_INSEE_CODE)
            coding = insee.get("valueCoding") if insee else None
            ck.coding("birthPlace.inseeCode", coding, c.CS_INSEE_COMMUNE)
            if coding is not None and not _INSEE.fullmatch(str(coding.get("code"))):
                ck.bad("birthPlace.inseeCode.code", coding.get("code"), "a 5-character INSEE code")


def _quantity(ck: _Checker, path: str, quantity: Json | None, loinc: str) -> None:
    expected = c.LOINC_UNITS.get(loinc, ("", None))[1]
    if quantity is None:
        ck.bad(path, None, f"a quantity in {expected}")
        return
    if quantity.get("system") != c.UCUM:
        ck.bad(f"{path}.system", quantity.get("system"), c.UCUM)
    if quantity.get("code") != expected:
        ck.bad(f"{path}.code", quantity.get("code"), f"{expected} for LOINC {loinc}")


def _orientation(ck: _Checker, r: Json) -> None:
    """The kiosk-coded orientation Observation: never dressed as a vital sign or LOINC."""
    categories = [coding for cat in r.get("category", []) for coding in cat.get("coding", [])]
    if [(x.get("system"), x.get("code")) for x in categories] != [
        (c.CS_OBSERVATION_CATEGORY, c.OBSERVATION_CATEGORY_SURVEY)
    ]:
        ck.bad("category", [x.get("code") for x in categories], "survey only")
    if r.get("meta", {}).get("profile"):
        ck.bad(
            "meta.profile", r["meta"]["profile"], "no profile (no FR Core or vital-signs one fits)"
        )
    codes = r.get("code", {}).get("coding", [])
    if len(codes) != 1:
        ck.bad("code.coding", len(codes), "exactly the kiosk's orientation code")
    value = r.get("valueCodeableConcept", {}).get("coding", [None])
    ck.coding("valueCodeableConcept", value[0] if value else None, CS_PARCOURS, PARCOURS_CODES)
    if "valueQuantity" in r:
        ck.bad("valueQuantity", "present", "a coded result")
    systems = {
        c.ORIENTATION_EXCEPTION_CODE: (CS_ORIENTATION_EXCEPTION, EXCEPTION_CODES),
        c.TERRITORIALITY_WAIVER_CODE: (CS_TERRITORIALITY_WAIVER, WAIVER_CODES),
    }
    for i, comp in enumerate(r.get("component", [])):
        comp_codes = comp.get("code", {}).get("coding", [None])
        coding = comp_codes[0] if comp_codes else None
        ck.coding(
            f"component[{i}].code", coding, CS_KIOSK_OBSERVATION, c.ORIENTATION_COMPONENT_CODES
        )
        code = coding.get("code") if coding else None
        if code in systems:
            system, allowed = systems[code]
            values = comp.get("valueCodeableConcept", {}).get("coding", [None])
            ck.coding(f"component[{i}].value", values[0] if values else None, system, allowed)
        elif code == c.MEDECIN_TRAITANT_UNKNOWN_CODE and not isinstance(
            comp.get("valueBoolean"), bool
        ):
            ck.bad(f"component[{i}].valueBoolean", comp.get("valueBoolean"), "true or false")


def _observation(ck: _Checker, r: Json, mode: RunMode | None) -> None:
    ck.member("status", r.get("status"), c.OBSERVATION_STATUSES)
    own = [
        x for x in r.get("code", {}).get("coding", []) if x.get("system") == CS_KIOSK_OBSERVATION
    ]
    if own:
        ck.member("code.coding[0].code", own[0].get("code"), {c.ORIENTATION_CODE})
        _orientation(ck, r)
        return
    categories = [
        coding
        for cat in r.get("category", [])
        for coding in cat.get("coding", [])
        if coding.get("system") == c.CS_OBSERVATION_CATEGORY
    ]
    if not any(coding.get("code") == "vital-signs" for coding in categories):
        ck.bad("category", [x.get("code") for x in categories], "vital-signs")
    codes = [x for x in r.get("code", {}).get("coding", [])]
    for i, coding in enumerate(codes):
        ck.coding(f"code.coding[{i}]", coding, c.LOINC, c.LOINC_UNITS.keys())
    loincs = [x.get("code") for x in codes]
    if not loincs:
        ck.bad("code", None, "a LOINC code")
        return
    if "effectiveDateTime" not in r:
        ck.bad("effectiveDateTime", None, "the time of the measurement")
    for i, interp in enumerate(r.get("interpretation", [])):
        for coding in interp.get("coding", []):
            ck.coding(f"interpretation[{i}]", coding, c.CS_INTERPRETATION, c.INTERPRETATION_CODES)
    if loincs[0] == c.BP_PANEL:
        if "valueQuantity" in r:
            ck.bad("valueQuantity", "present", "values in components for a BP panel")
        seen = set()
        for i, comp in enumerate(r.get("component", [])):
            comp_codes = comp.get("code", {}).get("coding", [])
            code = comp_codes[0].get("code") if comp_codes else None
            ck.coding(
                f"component[{i}].code",
                comp_codes[0] if comp_codes else None,
                c.LOINC,
                c.BP_COMPONENTS,
            )
            if code in c.BP_COMPONENTS:
                seen.add(code)
                _quantity(ck, f"component[{i}].valueQuantity", comp.get("valueQuantity"), code)
        for required in ("8480-6", "8462-4"):
            if required not in seen:
                ck.bad("component", sorted(seen), f"a component {required}")
    else:
        if "component" in r:
            ck.bad("component", "present", "no components outside a BP panel")
        if loincs[0] in c.LOINC_UNITS:
            units = {c.LOINC_UNITS[x][1] for x in loincs if x in c.LOINC_UNITS}
            if len(units) != 1:
                ck.bad("code", loincs, "LOINC codes of one quantity")
            _quantity(ck, "valueQuantity", r.get("valueQuantity"), loincs[0])
        elif r.get("valueQuantity", {}).get("system") != c.UCUM:
            ck.bad("valueQuantity.system", r.get("valueQuantity", {}).get("system"), c.UCUM)


def _consent(ck: _Checker, r: Json, mode: RunMode | None) -> None:
    ck.member("status", r.get("status"), c.CONSENT_STATUSES)
    scope = r.get("scope", {}).get("coding", [None])
    ck.coding("scope", scope[0] if scope else None, c.CS_CONSENT_SCOPE, c.CONSENT_SCOPES)
    ck.member("provision.type", r.get("provision", {}).get("type"), c.PROVISION_TYPES)
    expected = {"active": "permit", "rejected": "deny", "inactive": "deny"}.get(r.get("status", ""))
    if expected is not None and r.get("provision", {}).get("type") != expected:
        ck.bad(
            "provision.type", r.get("provision", {}).get("type"), f"{expected} for {r['status']}"
        )


def _encounter(ck: _Checker, r: Json, mode: RunMode | None) -> None:
    ck.member("status", r.get("status"), c.ENCOUNTER_STATUSES)
    _typed_identifier(ck, r, c.CS_ENCOUNTER_IDENTIFIER_TYPE, c.ENCOUNTER_IDENTIFIER_TYPE)
    for ext in r.get("extension", []):
        if ext.get("url") == EXT_ENCOUNTER_END_REASON:
            ck.coding("extension(end-reason)", ext.get("valueCoding"), CS_END_REASON, c.END_REASONS)
        elif ext.get("url") == EXT_EVENT_STATUS_REASON:
            codings = ext.get("valueCodeableConcept", {}).get("coding", [None])
            ck.coding(
                "extension(statusReason)",
                codings[0] if codings else None,
                CS_INTERRUPTION,
                frozenset(c.INTERRUPTIONS),
            )
        else:
            ck.bad("extension.url", ext.get("url"), "an extension the kiosk knows")
    if r.get("status") == "cancelled" and not r.get("period", {}).get("end"):
        ck.bad("period.end", None, "an end time for a cancelled encounter")
    ck.coding("class", r.get("class"), c.CS_ACT_CODE, {c.ENCOUNTER_CLASS_VIRTUAL})
    for i, participant in enumerate(r.get("participant", [])):
        for t in participant.get("type", []):
            for coding in t.get("coding", []):
                ck.coding(
                    f"participant[{i}].type", coding, c.CS_PARTICIPATION_TYPE, c.PARTICIPATION_TYPES
                )
    for i, loc in enumerate(r.get("location", [])):
        ck.member(f"location[{i}].status", loc.get("status"), c.ENCOUNTER_LOCATION_STATUSES)


def _location(ck: _Checker, r: Json, mode: RunMode | None) -> None:
    ck.member("status", r.get("status"), c.LOCATION_STATUSES)
    _typed_identifier(ck, r, c.CS_LOCATION_IDENTIFIER_TYPE, c.LOCATION_IDENTIFIER_TYPE)
    ck.member("mode", r.get("mode"), c.LOCATION_MODES)
    insee = _sub(r.get("address", {}), c.EXT_ADDRESS_INSEE_CODE)
    coding = insee.get("valueCoding") if insee else None
    ck.coding("address.inseeCode", coding, c.CS_INSEE_COMMUNE)
    if coding is not None and not _INSEE.fullmatch(str(coding.get("code"))):
        ck.bad("address.inseeCode.code", coding.get("code"), "a 5-character INSEE code")


def _device(ck: _Checker, r: Json, mode: RunMode | None) -> None:
    ck.member("status", r.get("status"), c.DEVICE_STATUSES)
    for i, name in enumerate(r.get("deviceName", [])):
        ck.member(f"deviceName[{i}].type", name.get("type"), c.DEVICE_NAME_TYPES)


def _provenance(ck: _Checker, r: Json, mode: RunMode | None) -> None:
    if not r.get("meta", {}).get("tag"):
        ck.bad("meta.tag", None, "the business identifier as a tag")
    for i, agent in enumerate(r.get("agent", [])):
        codings = agent.get("type", {}).get("coding", [None])
        ck.coding(
            f"agent[{i}].type",
            codings[0] if codings else None,
            c.CS_PROVENANCE_AGENT_TYPE,
            c.PROVENANCE_AGENT_TYPES,
        )


def _audit_event(ck: _Checker, r: Json, mode: RunMode | None) -> None:
    if not r.get("meta", {}).get("tag"):
        ck.bad("meta.tag", None, "the business identifier as a tag")
    ck.coding("type", r.get("type"), c.CS_DICOM, {c.AUDIT_TYPE_APPLICATION_ACTIVITY})
    ck.member("action", r.get("action"), c.AUDIT_ACTIONS)
    ck.member("outcome", r.get("outcome"), c.AUDIT_OUTCOMES)


def _document_reference(ck: _Checker, r: Json, mode: RunMode | None) -> None:
    ck.member("status", r.get("status"), c.DOCUMENT_REFERENCE_STATUSES)
    if "docStatus" in r:
        ck.member("docStatus", r.get("docStatus"), c.DOCUMENT_DOC_STATUSES)
    codings = r.get("type", {}).get("coding", [None])
    ck.coding("type", codings[0] if codings else None, CS_DOCUMENT_KIND)
    contents = r.get("content", [])
    if not contents:
        ck.bad("content", None, "at least one attachment")
    for i, content in enumerate(contents):
        att = content.get("attachment", {})
        if "data" in att:
            if not att.get("contentType"):
                ck.bad(f"content[{i}].attachment.contentType", None, "a media type with data")
            try:
                size = len(base64.b64decode(att["data"], validate=True))
            except (ValueError, TypeError):
                ck.bad(f"content[{i}].attachment.data", "not base64", "base64 content")
                continue
            if att.get("size") != size:
                ck.bad(f"content[{i}].attachment.size", att.get("size"), f"{size} (the data's)")


_CHECKS: Mapping[str, Callable[[_Checker, Json, RunMode | None], None]] = {
    "Patient": _patient,
    "Observation": _observation,
    "Consent": _consent,
    "Encounter": _encounter,
    "Location": _location,
    "Device": _device,
    "Provenance": _provenance,
    "AuditEvent": _audit_event,
    "DocumentReference": _document_reference,
}
