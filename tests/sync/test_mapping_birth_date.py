"""Patient.birthDate says only what the civil status knows: '1950', '1950-06' or the whole date."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

import pytest
from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.patient import Patient

from app.domain.identity import BirthDatePrecision, PatientIdentity
from app.sync.code_checks import check_codes
from app.sync.fhir_bundle import session_bundle, session_bundle_bytes
from app.sync.fhir_json import loads
from tests.sync.sessions import TEST_SITE, full_session, provisional


def _born(born: date, precision: BirthDatePrecision) -> PatientIdentity:
    identity = provisional()
    traits = replace(identity.traits, birth_date=born, birth_date_precision=precision)
    return replace(identity, traits=traits)


def _patient(bundle: dict[str, Any]) -> dict[str, Any]:
    p: dict[str, Any]
    (p,) = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient"]
    return p


@pytest.mark.parametrize(
    ("born", "precision", "expected"),
    [
        (date(1950, 1, 1), BirthDatePrecision.YEAR, "1950"),
        (date(1950, 6, 1), BirthDatePrecision.MONTH, "1950-06"),
        (date(1950, 6, 14), BirthDatePrecision.DAY, "1950-06-14"),
        (date(1950, 1, 1), BirthDatePrecision.DAY, "1950-01-01"),  # a real 1 January stays whole
    ],
)
def test_birth_date_goes_out_with_only_its_known_part(
    born: date, precision: BirthDatePrecision, expected: str
) -> None:
    bundle = session_bundle(full_session(identity=_born(born, precision)), TEST_SITE)
    p = _patient(bundle)
    assert p["birthDate"] == expected
    # The R4B model accepts the reduced form and writes it back unchanged.
    assert Patient.model_validate(p).model_dump(mode="json")["birthDate"] == expected
    assert check_codes(p) == []
    Bundle.model_validate(bundle)
    for e in bundle["entry"]:
        get_fhir_model_class(e["resource"]["resourceType"]).model_validate(e["resource"])
        assert check_codes(e["resource"]) == []


def test_the_bytes_sent_carry_the_reduced_date_and_no_invented_day() -> None:
    snapshot = full_session(identity=_born(date(1950, 6, 1), BirthDatePrecision.MONTH))
    sent = session_bundle_bytes(snapshot, TEST_SITE)
    assert _patient(loads(sent))["birthDate"] == "1950-06"
    assert b"1950-06-01" not in sent
