"""The FHIR mapping: every resource validates with the R4B models and says exactly what it must."""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest
from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle

from app.domain.consent import ConsentChoice, decide
from app.domain.identity import InsOid
from app.sync import fhir_codes as c
from app.sync.code_checks import check_codes
from app.sync.errors import MappingError, MappingErrorReason
from app.sync.fhir_bundle import session_bundle, session_bundle_bytes
from app.sync.fhir_json import loads
from app.sync.identifiers import FULL_URL_NAMESPACE, IdentifierMinter
from tests.sync.sessions import (
    NIR_TEXT,
    PROD_SITE,
    SHARING_TEXT,
    T0,
    TEST_SITE,
    full_session,
    provisional,
    qualified,
)


def resources(bundle: dict[str, Any], rtype: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == rtype]


def one(bundle: dict[str, Any], rtype: str) -> dict[str, Any]:
    (r,) = resources(bundle, rtype)
    return r


@pytest.fixture
def bundle() -> dict[str, Any]:
    return session_bundle(full_session(), TEST_SITE)


def test_every_outgoing_resource_validates_with_r4b_models(bundle: dict[str, Any]) -> None:
    Bundle.model_validate(bundle)
    for e in bundle["entry"]:
        model = get_fhir_model_class(e["resource"]["resourceType"])
        model.model_validate(e["resource"])
        assert check_codes(e["resource"]) == []
    counts: dict[str, int] = {}
    for e in bundle["entry"]:
        counts[e["resource"]["resourceType"]] = counts.get(e["resource"]["resourceType"], 0) + 1
    assert counts == {
        "Location": 1,
        "Device": 3,  # the kiosk, thermo-1, oxi-1
        "Patient": 1,
        "Encounter": 1,
        "Consent": 2,
        "Observation": 3,
        "Provenance": 6,  # patient, 2 consents, 3 observations
        "AuditEvent": 8,
    }


def test_every_entry_is_a_conditional_create_on_its_business_identifier(
    bundle: dict[str, Any],
) -> None:
    seen = set()
    for e in bundle["entry"]:
        r = e["resource"]
        tagged = r["resourceType"] in ("Provenance", "AuditEvent")
        token = r["meta"]["tag"][0] if tagged else r["identifier"][-1]
        system, value = token["system"], token.get("code", token.get("value"))
        assert system == "urn:telecabine:CAB-T1"
        assert value.startswith("CAB-T1/")
        param = "_tag" if tagged else "identifier"
        assert e["request"] == {
            "method": "POST",
            "url": r["resourceType"],
            "ifNoneExist": f"{param}=urn:telecabine:CAB-T1%7C{value}",
        }
        assert e["fullUrl"] == f"urn:uuid:{uuid.uuid5(FULL_URL_NAMESPACE, f'{system}|{value}')}"
        seen.add(value)
    assert len(seen) == len(bundle["entry"])
    assert "CAB-T1/S-0001/observation/S-0001-m1" in seen
    assert "CAB-T1/S-0001/audit/0004-incident" in seen
    assert "CAB-T1/location/29019" in seen


def test_the_same_session_gives_the_same_bytes() -> None:
    first = session_bundle_bytes(full_session(), TEST_SITE)
    assert session_bundle_bytes(full_session(), TEST_SITE) == first
    assert session_bundle_bytes(full_session("S-0002"), TEST_SITE) != first


def test_qualified_patient_carries_ins_profile_reliability_and_traits(
    bundle: dict[str, Any],
) -> None:
    p = one(bundle, "Patient")
    assert p["meta"]["profile"] == [c.PROFILE_PATIENT, c.PROFILE_PATIENT_INS]
    assert p["identifier"][0] == {
        "use": "official",
        "type": {"coding": [{"system": c.CS_IDENTIFIER_TYPE, "code": "INS-NIR-TEST"}]},
        "system": "urn:oid:1.2.250.1.213.1.4.10",
        "value": NIR_TEXT,
    }
    assert p["extension"][0] == {
        "url": "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-identity-reliability",
        "extension": [
            {
                "url": "identityStatus",
                "valueCoding": {
                    "system": "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-0445",
                    "code": "QUAL",
                },
            },
            {
                "url": "methodCollection",
                "valueCoding": {
                    "system": "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-method-collection",
                    "code": "CV",
                },
            },
            {
                "url": "validationMode",
                "valueCoding": {
                    "system": "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-mode-validation-identity",
                    "code": "CN",
                },
            },
            {"url": "validationDate", "valueDate": "2026-11-23"},
            {"url": "dateCollection", "valueDate": "2026-11-23"},
        ],
    }
    assert p["extension"][1]["url"] == "http://hl7.org/fhir/StructureDefinition/patient-birthPlace"
    assert p["extension"][1]["valueAddress"]["extension"][0]["valueCoding"] == {
        "system": c.CS_INSEE_COMMUNE,
        "code": "14168",
    }
    assert p["name"][0] == {
        "use": "official",
        "family": "DUPONT",
        "given": ["MARIE"],
        "extension": [
            {
                "url": "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-patient-birth-list-given-name",
                "valueString": "MARIE ANNE LOUISE",
            }
        ],
    }
    assert p["name"][1] == {"use": "usual", "family": "MARTIN", "given": ["Marie"]}
    assert (p["gender"], p["birthDate"]) == ("female", "1955-08-14")


@pytest.mark.parametrize(
    ("oid", "slice_code", "use"),
    [
        (InsOid.NIR, "INS-NIR", "official"),
        (InsOid.NIA, "INS-NIA", "temp"),
        (InsOid.DEMO, "INS-NIR-DEMO", "official"),
    ],
)
def test_ins_slice_follows_the_oid(oid: InsOid, slice_code: str, use: str) -> None:
    p = one(session_bundle(full_session(identity=qualified(oid)), TEST_SITE), "Patient")
    ins = p["identifier"][0]
    assert (ins["system"], ins["type"]["coding"][0]["code"], ins["use"]) == (
        f"urn:oid:{oid.value}",
        slice_code,
        use,
    )


def test_production_site_sends_production_oid_but_refuses_a_test_identity() -> None:
    p = one(session_bundle(full_session(identity=qualified(InsOid.NIR)), PROD_SITE), "Patient")
    assert p["identifier"][0]["system"] == "urn:oid:1.2.250.1.213.1.4.8"
    with pytest.raises(MappingError) as err:
        session_bundle(full_session(identity=qualified(InsOid.TEST)), PROD_SITE)
    assert err.value.reason is MappingErrorReason.TEST_IDENTITY_IN_PRODUCTION
    assert err.value.sentence == (
        "This identity comes from a test or demonstration card; a cabin in production "
        "cannot accept it."
    )


def test_provisional_identity_never_carries_the_nir_out() -> None:
    b = session_bundle(full_session(identity=provisional()), TEST_SITE)
    p = one(b, "Patient")
    assert p["meta"]["profile"] == [c.PROFILE_PATIENT]
    assert p["identifier"] == [
        {"use": "secondary", "system": "urn:telecabine:CAB-T1", "value": "CAB-T1/S-0001/patient"}
    ]
    assert NIR_TEXT.encode() not in session_bundle_bytes(
        full_session(identity=provisional()), TEST_SITE
    )
    status = p["extension"][0]["extension"][0]["valueCoding"]["code"]
    assert status == "PROV"


def test_temperature_keeps_the_device_precision_on_the_wire() -> None:
    raw = session_bundle_bytes(full_session(), TEST_SITE)
    assert (
        b'"valueQuantity":{"value":36.60,"unit":"\xc2\xb0C","system":"http://unitsofmeasure.org","code":"Cel"}'
        in raw
    )
    parsed = loads(raw)
    temp = next(
        r["resource"]
        for r in parsed["entry"]
        if r["resource"]["resourceType"] == "Observation"
        and r["resource"]["code"]["coding"][0]["code"] == "8310-5"
    )
    assert temp["valueQuantity"]["value"] == Decimal("36.60")
    assert str(temp["valueQuantity"]["value"]) == "36.60"
    assert temp["effectiveDateTime"] == "2026-11-23T09:35:00+00:00"
    assert temp["category"][0]["coding"][0]["code"] == "vital-signs"
    assert temp["device"]["type"] == "Device"
    assert json.loads(raw)  # still plain JSON for any parser


def test_blood_pressure_is_a_panel_with_components_entered_by_hand(
    bundle: dict[str, Any],
) -> None:
    bp = next(
        r for r in resources(bundle, "Observation") if r["code"]["coding"][0]["code"] == "85354-9"
    )
    assert "valueQuantity" not in bp
    assert [
        (
            comp["code"]["coding"][0]["code"],
            comp["valueQuantity"]["value"],
            comp["valueQuantity"]["code"],
        )
        for comp in bp["component"]
    ] == [
        ("8480-6", Decimal(142), "mm[Hg]"),
        ("8462-4", Decimal(91), "mm[Hg]"),
        ("8478-0", Decimal(108), "mm[Hg]"),
    ]
    assert bp["performer"] == [
        {
            "type": "Practitioner",
            "identifier": {"system": "urn:telecabine:CAB-T1:staff", "value": "nurse-3"},
        }
    ]
    assert "device" not in bp
    assert bp["interpretation"][0]["coding"][0]["code"] == "H"  # hypertension, for the doctor
    assert bp["meta"]["profile"] == [c.PROFILE_BP, c.PROFILE_VITAL_SIGNS]


def test_spo2_carries_both_loinc_codes(bundle: dict[str, Any]) -> None:
    spo2 = next(
        r for r in resources(bundle, "Observation") if r["code"]["coding"][0]["code"] == "2708-6"
    )
    assert [x["code"] for x in spo2["code"]["coding"]] == ["2708-6", "59408-5"]
    assert spo2["valueQuantity"]["code"] == "%"


def test_provenance_names_the_device_or_the_professional(bundle: dict[str, Any]) -> None:
    provs = resources(bundle, "Provenance")
    by_target = {p["meta"]["tag"][0]["code"].split("provenance/")[1]: p for p in provs}
    thermo = by_target["observation/S-0001-m1"]
    assert thermo["agent"][0]["type"]["coding"][0]["code"] == "performer"
    assert thermo["agent"][0]["who"]["type"] == "Device"
    manual = by_target["observation/S-0001-m2"]
    assert manual["agent"][0] == {
        "type": {"coding": [{"system": c.CS_PROVENANCE_AGENT_TYPE, "code": "enterer"}]},
        "who": {
            "type": "Practitioner",
            "identifier": {"system": "urn:telecabine:CAB-T1:staff", "value": "nurse-3"},
        },
    }
    assert by_target["patient"]["agent"][0]["type"]["coding"][0]["code"] == "verifier"
    assert all(p["agent"][-1]["type"]["coding"][0]["code"] == "assembler" for p in provs)


def test_consents_record_grant_and_refusal_with_text_version_hash_and_language(
    bundle: dict[str, Any],
) -> None:
    granted, refused = resources(bundle, "Consent")
    assert (granted["status"], granted["provision"]["type"]) == ("active", "permit")
    assert (refused["status"], refused["provision"]["type"]) == ("rejected", "deny")
    assert granted["scope"]["coding"][0]["code"] == "treatment"
    assert refused["scope"]["coding"][0]["code"] == "patient-privacy"
    assert granted["language"] == "fr"
    assert granted["dateTime"] == "2026-11-23T09:32:00+00:00"
    assert granted["policy"] == [
        {"uri": "https://telecabine.example/fhir/consent-text/tlc-consent/2026-03/fr"}
    ]
    assert refused["sourceAttachment"]["extension"][0]["valueString"] == SHARING_TEXT.sha256


def test_withdrawal_is_inactive_and_deny() -> None:
    s = full_session()
    withdrawn = decide(
        SHARING_TEXT,
        ConsentChoice.WITHDRAWN,
        T0,
        earlier=[decide(SHARING_TEXT, ConsentChoice.GRANTED, T0)],
    )
    b = session_bundle(replace(s, consents=(withdrawn,)), TEST_SITE)
    consent = one(b, "Consent")
    assert (consent["status"], consent["provision"]["type"]) == ("inactive", "deny")


def test_encounter_is_virtual_at_the_cabin_with_the_professionals(bundle: dict[str, Any]) -> None:
    enc = one(bundle, "Encounter")
    assert enc["class"] == {"system": c.CS_ACT_CODE, "code": "VR", "display": "virtual"}
    assert enc["status"] == "finished"
    assert enc["period"] == {
        "start": "2026-11-23T09:30:00+00:00",
        "end": "2026-11-23T09:56:00+00:00",
    }
    assert [
        (p["type"][0]["coding"][0]["code"], p["individual"]["identifier"]["value"])
        for p in enc["participant"]
    ] == [
        ("PPRF", "10101010101"),
        ("PART", "pharma-7"),
        ("PART", "nurse-3"),
    ]
    loc = one(bundle, "Location")
    assert enc["location"][0]["location"]["reference"] == next(
        e["fullUrl"] for e in bundle["entry"] if e["resource"] is loc
    )
    assert loc["address"]["city"] == "Brest"
    assert loc["address"]["postalCode"] == "29200"
    assert loc["address"]["extension"][0]["valueCoding"]["code"] == "29019"
    assert loc["address"]["line"] == ["3 rue du Port"]
    assert "telecom" not in loc


def test_the_location_carries_the_address_complement_and_the_sites_phone() -> None:
    site = replace(TEST_SITE, complement="Bâtiment B, 1er étage", phone="02 98 00 11 22")
    loc = one(session_bundle(full_session(), site), "Location")
    assert loc["address"]["line"] == ["3 rue du Port", "Bâtiment B, 1er étage"]
    assert loc["telecom"] == [{"system": "phone", "value": "02 98 00 11 22", "use": "work"}]
    get_fhir_model_class("Location").model_validate(loc)
    assert check_codes(loc) == []


def test_trace_becomes_audit_events_with_times_professionals_acts_and_incidents(
    bundle: dict[str, Any],
) -> None:
    events = resources(bundle, "AuditEvent")
    assert [e["subtype"][0]["code"] for e in events] == [
        "session-started",
        "identification",
        "consent-granted",
        "measurement-taken",
        "incident",
        "measurement-taken",
        "call-started",
        "call-ended",
    ]
    incident = events[4]
    assert incident["outcome"] == "4"
    assert incident["subtype"][1] == {
        "system": "https://telecabine.example/fhir/CodeSystem/incident",
        "code": "device-failed",
    }
    assert incident["outcomeDesc"] == "A measuring device failed or did not answer."
    assert incident["recorded"] == "2026-11-23T09:36:00+00:00"
    doctor = events[6]["agent"][0]["who"]
    assert doctor == {
        "type": "Practitioner",
        "identifier": {
            "use": "official",
            "type": {"coding": [{"system": c.CS_IDENTIFIER_TYPE, "code": "RPPS"}]},
            "system": c.SYSTEM_RPPS,
            "value": "10101010101",
        },
    }
    assert events[1]["agent"][0]["who"]["identifier"]["value"] == "pharma-7"
    measured = events[3]["entity"][1]["what"]
    obs_url = next(
        e["fullUrl"]
        for e in bundle["entry"]
        if e["resource"].get("identifier", [{}])[0].get("value")
        == "CAB-T1/S-0001/observation/S-0001-m1"
    )
    assert measured == {"reference": obs_url, "type": "Observation"}


def test_unsafe_session_id_is_refused_with_a_reason() -> None:
    with pytest.raises(MappingError) as err:
        session_bundle(full_session("S 1|x"), TEST_SITE)
    assert err.value.reason is MappingErrorReason.UNSAFE_IDENTIFIER
    assert err.value.sentence == (
        "The session id must be 1 to 100 letters, digits, '.', '_', ':' or '-' "
        "(it goes into FHIR identifiers); it has 5 character(s)."
    )


def test_consents_without_a_patient_cannot_be_mapped() -> None:
    with pytest.raises(MappingError) as err:
        session_bundle(replace(full_session(), identity=None), TEST_SITE)
    assert err.value.reason is MappingErrorReason.NO_PATIENT


def test_minter_scopes_values_to_cabin_and_session() -> None:
    minter = IdentifierMinter("CAB-9")
    bid = minter.session_item("S-1", "observation/m1")
    assert (bid.system, bid.value) == ("urn:telecabine:CAB-9", "CAB-9/S-1/observation/m1")
    assert bid.if_none_exist() == "identifier=urn:telecabine:CAB-9%7CCAB-9/S-1/observation/m1"
    assert minter.cabin_item("device/kiosk").value == "CAB-9/device/kiosk"
