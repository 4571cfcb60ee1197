"""`check_codes`: the coded values the FHIR models let through and the product refuses."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from app.domain.mode import RunMode
from app.sync.code_checks import check_codes, require_valid_codes
from app.sync.errors import CodeCheckError, CodeProblem
from app.sync.fhir_bundle import session_bundle
from app.sync.fhir_codes import PROFILE_PATIENT, PROFILE_PATIENT_INS
from tests.sync.sessions import TEST_SITE, full_session, provisional


def _resource(rtype: str, code: str | None = None) -> dict[str, Any]:
    bundle = session_bundle(full_session(), TEST_SITE)
    for e in bundle["entry"]:
        r = e["resource"]
        if r["resourceType"] == rtype and (code is None or r["code"]["coding"][0]["code"] == code):
            return copy.deepcopy(r)
    raise AssertionError(rtype)


def test_bogus_observation_status_is_refused() -> None:
    obs = _resource("Observation", "8310-5")
    obs["status"] = "bogus"
    assert check_codes(obs) == [
        CodeProblem(
            "Observation",
            "status",
            "text of 5 character(s)",
            "one of amended, cancelled, corrected, entered-in-error, final, preliminary, registered",
        )
    ]


def test_wrong_ucum_unit_for_the_loinc_code_is_refused() -> None:
    obs = _resource("Observation", "8310-5")
    obs["valueQuantity"]["code"] = "[degF]"
    (problem,) = check_codes(obs)
    assert problem.sentence() == (
        "Observation.valueQuantity.code has text of 6 character(s); expected Cel for LOINC 8310-5."
    )


def test_unknown_loinc_and_non_ucum_system_are_refused() -> None:
    obs = _resource("Observation", "2708-6")
    obs["code"]["coding"][0]["code"] = "1234-5"
    obs["valueQuantity"]["system"] = "http://example.org/units"
    paths = [p.path for p in check_codes(obs)]
    assert "code.coding[0].code" in paths
    assert "valueQuantity.system" in paths


def test_bp_panel_without_systolic_is_refused() -> None:
    bp = _resource("Observation", "85354-9")
    bp["component"] = bp["component"][1:]
    assert [p.sentence() for p in check_codes(bp)] == [
        "Observation.component has a list of 2 item(s); expected a component 8480-6."
    ]


def test_ins_identifier_on_an_unqualified_identity_is_refused() -> None:
    patient = _resource("Patient")
    patient["extension"][0]["extension"][0]["valueCoding"]["code"] = "RECUP"
    problems = [p.sentence() for p in check_codes(patient)]
    assert (
        "Patient.identifier(INS)[0] has text of 5 character(s); expected an INS only on a QUAL "
        "identity." in problems
    )
    assert (
        f"Patient.meta.profile has text of {len(PROFILE_PATIENT_INS)} character(s); expected only "
        "for a QUAL identity with its INS." in problems
    )


def test_test_oid_is_refused_for_a_production_cabin() -> None:
    patient = _resource("Patient")
    assert check_codes(patient, mode=RunMode.TEST) == []
    (problem,) = check_codes(patient, mode=RunMode.PRODUCTION)
    assert (problem.path, problem.found_kind) == (
        "identifier(INS)[0].system",
        f"text of {len('urn:oid:1.2.250.1.213.1.4.10')} character(s)",
    )


def test_unknown_identity_status_and_gender_are_refused() -> None:
    bundle = session_bundle(full_session(identity=provisional()), TEST_SITE)
    (patient,) = [
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient"
    ]
    assert patient["meta"]["profile"] == [PROFILE_PATIENT]
    patient["extension"][0]["extension"][0]["valueCoding"]["code"] = "SURE"
    patient["gender"] = "f"
    assert [p.path for p in check_codes(patient)] == ["gender", "identityStatus.code"]


@pytest.mark.parametrize(
    ("rtype", "field", "value"),
    [
        ("Consent", "status", "accepted"),
        ("Encounter", "status", "done"),
        ("Location", "status", "open"),
        ("Device", "status", "on"),
        ("AuditEvent", "action", "X"),
        ("AuditEvent", "outcome", "1"),
    ],
)
def test_status_like_codes_are_checked_on_every_type(rtype: str, field: str, value: str) -> None:
    r = _resource(rtype)
    r[field] = value
    assert [p.path for p in check_codes(r)] == [field]


def test_consent_status_and_provision_must_agree() -> None:
    consent = _resource("Consent")
    consent["provision"]["type"] = "deny"
    assert [p.sentence() for p in check_codes(consent)] == [
        "Consent.provision.type has text of 4 character(s); expected permit for active."
    ]


def test_require_valid_codes_raises_with_every_problem() -> None:
    enc = _resource("Encounter")
    enc["class"]["code"] = "AMB"
    with pytest.raises(CodeCheckError) as err:
        require_valid_codes([enc, {"resourceType": "Basic"}])
    assert [p.path for p in err.value.problems] == ["class.code", "resourceType"]
    assert str(err.value).startswith("2 coded value(s) refused:")
