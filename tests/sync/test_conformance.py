"""FR Core 2.2.0 conformance of the mapping, enforced by code_checks (docs/sync.md).

- no empty or whitespace-only string, empty list or empty object anywhere, from
  any mapper (a property test over whole sessions with empty optional texts);
- Encounter and Location identifiers typed; doctors by RPPS (FR Core RPPS slice);
- the identity-reliability extension as released (v2-0445 status, dateCollection,
  AV for the appli carte Vitale);
- the INS profile only when its requirements hold, else the typed reason, and
  an AuditEvent saying why;
- every local code in a published CodeSystem, served by the reference platform.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.domain.identity import (
    BirthDatePrecision,
    CollectionMethod,
    IdentityDocument,
    IdentityStatus,
    InsOid,
    InsTraits,
    PatientIdentity,
    Sex,
    parse_nir,
)
from app.domain.trace import Actor, ActorKind, TraceEntry, TraceKind
from app.sync import fhir_codes as c
from app.sync import vendor
from app.sync.code_checks import check_codes
from app.sync.errors import CodeCheckError, MappingError
from app.sync.fhir_bundle import session_bundle
from app.sync.fhir_json import dumps
from app.sync.fhir_patient import InsProfileGap, ins_profile_check
from app.sync.session_snapshot import SessionDocument
from devtools.platform.testing import running_platform
from tests.sync.sessions import (
    DOCTOR,
    NIR_TEXT,
    T0,
    TEST_SITE,
    TRAITS,
    full_session,
    qualified,
    rich_session,
)

ROOT = Path(__file__).resolve().parents[2]


def empties(value: Any, path: str = "") -> list[str]:
    if isinstance(value, str):
        return [path] if not value.strip() else []
    if isinstance(value, list):
        return ([path] if not value else []) + [
            p for i, v in enumerate(value) for p in empties(v, f"{path}[{i}]")
        ]
    if isinstance(value, dict):
        return ([path] if not value else []) + [
            p for k, v in value.items() for p in empties(v, f"{path}.{k}")
        ]
    return []


maybe_text = st.sampled_from(["", " ", "\t", "Marie", "JEAN-LUC", "É"])
traits = st.builds(
    InsTraits,
    birth_name=maybe_text,
    birth_first_names=st.lists(maybe_text, max_size=3).map(tuple),
    birth_date=st.just(date(1950, 1, 1)),
    sex=st.sampled_from(list(Sex)),
    birth_place_insee=st.sampled_from([None, "", " ", "14168", "2A004"]),
    first_name_used=st.sampled_from([None, "", " ", "Jo"]),
    used_name=st.sampled_from([None, "", "MARTIN"]),
    birth_date_precision=st.sampled_from(list(BirthDatePrecision)),
)


def identity_from(t: InsTraits, way: str) -> PatientIdentity:
    nir = parse_nir(NIR_TEXT)
    if way == "card":
        return PatientIdentity(t, IdentityStatus.PROV, CollectionMethod.CV, nir)
    if way == "qr":
        return PatientIdentity(
            t, IdentityStatus.QUAL, CollectionMethod.AV, nir, ins_oid=InsOid.TEST
        )
    return replace(qualified(), traits=t)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    t=traits,
    way=st.sampled_from(["card", "qr", "qualified"]),
    title=st.sampled_from([None, "", " ", "Ordonnance"]),
    media=st.sampled_from([None, "", "application/pdf"]),
    site_text=st.sampled_from(["", " ", "Pharmacie"]),
)
def test_no_mapper_writes_an_empty_string_list_or_object(
    t: InsTraits, way: str, title: str | None, media: str | None, site_text: str
) -> None:
    base = rich_session("S-P1")
    document = SessionDocument("S-P1-dx", "report", media, title, b"%PDF x", base.started_at)
    trace = (
        *base.trace,
        TraceEntry(
            base.started_at + timedelta(minutes=24), TraceKind.DOCUMENT_RECEIVED, DOCTOR, "S-P1-dx"
        ),
    )
    snap = replace(
        base,
        identity=identity_from(t, way),
        identity_history=(),
        documents=(*base.documents, document),
        trace=trace,
    )
    site = replace(TEST_SITE, site_name=site_text, street=site_text, city=site_text)
    bundle = session_bundle(snap, site)  # must not raise for empty optional texts
    assert empties(bundle) == []
    patient = next(
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient"
    )
    for name in patient.get("name", []):
        assert all(g.strip() for g in name.get("given", []))


def test_code_checks_refuse_any_empty_text_list_or_object() -> None:
    bundle = session_bundle(full_session(), TEST_SITE)
    patient = next(
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient"
    )
    patient["name"][0]["given"] = [""]
    patient["telecom"] = []
    problems = [p.sentence() for p in check_codes(patient)]
    assert (
        "Patient.name[0].given[0] has empty text; expected non-empty text (FHIR forbids empty strings)."
        in problems
    )
    assert (
        "Patient.telecom has a list of 0 item(s); expected at least one item (FHIR forbids empty arrays)."
        in problems
    )


def resource(bundle: dict[str, Any], rtype: str) -> dict[str, Any]:
    return next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == rtype)


def test_encounter_and_location_identifiers_are_typed_and_checked() -> None:
    bundle = session_bundle(full_session(), TEST_SITE)
    encounter, location = resource(bundle, "Encounter"), resource(bundle, "Location")
    assert encounter["identifier"][0]["type"] == {
        "coding": [{"system": f"{c.FR_CORE_CS}/fr-core-cs-identifier-type", "code": "VN"}]
    }
    assert location["identifier"][0]["type"] == {
        "coding": [
            {"system": f"{c.FR_CORE_CS}/fr-core-cs-location-identifier-type", "code": "INTRN"}
        ]
    }
    del encounter["identifier"][0]["type"]
    assert [p.sentence() for p in check_codes(encounter)] == [
        "Encounter.identifier[0].type has nothing; expected a coding from "
        f"{c.FR_CORE_CS}/fr-core-cs-identifier-type."
    ]


def test_doctors_go_by_rpps_and_a_bad_rpps_is_refused() -> None:
    bundle = session_bundle(full_session(), TEST_SITE)
    participant = resource(bundle, "Encounter")["participant"][0]["individual"]
    assert participant["identifier"] == {
        "use": "official",
        "type": {"coding": [{"system": f"{c.FR_CORE_CS}/fr-core-cs-v2-0203", "code": "RPPS"}]},
        "system": "https://rpps.esante.gouv.fr",
        "value": "10101010101",
    }
    # A bare RPPS under the IDNPS OID (what the kiosk used to send) is refused.
    participant["identifier"] |= {"system": "urn:oid:1.2.250.1.71.4.2.1"}
    encounter = resource(bundle, "Encounter")
    assert [p.sentence() for p in check_codes(encounter)] == [
        "Encounter.participant[0].individual.identifier.value has text of 11 character(s); "
        'expected "8" followed by the 11-digit RPPS.',
        "Encounter.participant[0].individual.identifier.type.code has text of 4 character(s); "
        "expected one of IDNPS.",
    ]
    odd = replace(
        full_session(),
        trace=(TraceEntry(T0, TraceKind.CALL_STARTED, Actor(ActorKind.DOCTOR, "12345")),),
    )
    with pytest.raises(MappingError) as caught:
        session_bundle(odd, TEST_SITE)
    assert caught.value.sentence == (
        "A doctor's RPPS must be 11 digits; the trace holds one of 5 character(s)."
    )


def reliability(patient: dict[str, Any]) -> dict[str, Any]:
    ext = next(e for e in patient["extension"] if e["url"] == c.EXT_IDENTITY_RELIABILITY)
    return {x["url"]: x.get("valueCoding", x.get("valueDate")) for x in ext["extension"]}


def test_the_appli_carte_vitale_has_its_validation_mode_and_no_ins_profile_in_2_2_0() -> None:
    apcv = PatientIdentity(
        TRAITS, IdentityStatus.QUAL, CollectionMethod.AV, parse_nir(NIR_TEXT), ins_oid=InsOid.TEST
    )
    bundle = session_bundle(replace(full_session(), identity=apcv), TEST_SITE)
    patient = resource(bundle, "Patient")
    parts = reliability(patient)
    assert parts["identityStatus"] == {
        "system": f"{c.FR_CORE_CS}/fr-core-cs-v2-0445",
        "code": "QUAL",
    }
    assert parts["validationMode"] == {"system": c.CS_VALIDATION_MODE, "code": "AV"}
    # FR Core 2.2.0's INS value set of validation modes has no AV: INS kept, profile not claimed.
    assert patient["meta"]["profile"] == [c.PROFILE_PATIENT]
    assert patient["identifier"][0]["system"] == "urn:oid:1.2.250.1.213.1.4.10"
    check = ins_profile_check(apcv)
    assert check.gaps == (InsProfileGap.VALIDATION_MODE_NOT_FOR_INS,)
    event = next(
        e["resource"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "AuditEvent"
        and e["resource"]["subtype"][0]["code"] == vendor.INS_PROFILE_WITHHELD
    )
    assert event["outcomeDesc"] == check.sentence
    assert "DUPONT" not in json.dumps(event)


@pytest.mark.parametrize(
    ("change", "gaps"),
    [
        ({"birth_place_insee": None}, (InsProfileGap.BIRTH_PLACE_MISSING,)),
        ({"birth_first_names": ()}, (InsProfileGap.BIRTH_FIRST_NAMES_MISSING,)),
        ({"birth_name": " "}, (InsProfileGap.BIRTH_NAME_MISSING,)),
    ],
)
def test_a_qualified_identity_missing_an_ins_requirement_goes_without_the_profile(
    change: dict[str, Any], gaps: tuple[InsProfileGap, ...]
) -> None:
    identity = replace(qualified(), traits=replace(TRAITS, **change))
    check = ins_profile_check(identity)
    assert (check.applies, check.gaps, check.ins_profile) == (True, gaps, False)
    assert check.sentence.startswith(
        "The qualified identity is sent without the FR Core INS profile: "
    )
    patient = resource(
        session_bundle(replace(full_session(), identity=identity), TEST_SITE), "Patient"
    )
    assert c.PROFILE_PATIENT_INS not in patient["meta"]["profile"]


def test_a_residence_permit_is_a_validation_mode_outside_the_ins_set() -> None:
    identity = replace(qualified(), verification_document=IdentityDocument.RESIDENCE_PERMIT)
    assert ins_profile_check(identity).gaps == (InsProfileGap.VALIDATION_MODE_NOT_FOR_INS,)
    assert ins_profile_check(qualified()).ins_profile
    assert not ins_profile_check(replace(qualified(), status=IdentityStatus.QUAL)).gaps


def test_the_code_checks_refuse_the_ins_profile_without_its_requirements() -> None:
    patient = resource(session_bundle(full_session(), TEST_SITE), "Patient")
    patient["extension"] = [e for e in patient["extension"] if e["url"] != c.EXT_BIRTH_PLACE]
    assert [p.sentence() for p in check_codes(patient)] == [
        "Patient.extension(birthPlace) has nothing; expected a place of birth under the INS profile."
    ]


def test_every_local_code_sent_is_in_a_published_code_system() -> None:
    bundle = session_bundle(rich_session(), TEST_SITE)
    text = dumps(bundle)
    # Only identifier systems (the cabin's, its staff's, its payments') keep the URN.
    assert "urn:telecabine:" not in text.replace("urn:telecabine:CAB-T1", "")
    published = {
        cs["url"]: {x["code"] for x in cs["concept"]} for cs in vendor.code_system_resources()
    }

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            system = value.get("system")
            if isinstance(system, str) and system.startswith(vendor.CS_BASE):
                assert value.get("code") in published[system], (system, value.get("code"))
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(bundle)


def test_the_platform_publishes_the_code_systems_the_kiosk_defines(tmp_path: Path) -> None:
    shipped = json.loads((ROOT / "devtools/platform/codesystems.json").read_text(encoding="utf-8"))
    assert shipped == vendor.code_system_resources(), (
        "regenerate devtools/platform/codesystems.json"
    )


async def test_the_reference_platform_serves_them(tmp_path: Path) -> None:
    async with running_platform(tmp_path) as (url, _platform):
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{url}/CodeSystem", params={"url": vendor.CS_END_REASON}) as r:
                found = await r.json(content_type=None)
            assert found["total"] == 1
            assert {x["code"] for x in found["entry"][0]["resource"]["concept"]} == set(
                c.END_REASONS
            )
            async with http.get(f"{url}/CodeSystem/telecabine-trace-kind") as r:
                assert r.status == 200


def test_code_check_errors_name_paths_never_values() -> None:
    bundle = session_bundle(full_session(), TEST_SITE)
    patient = resource(bundle, "Patient")
    patient["name"][0]["family"] = " "
    with pytest.raises(CodeCheckError) as caught:
        from app.sync.code_checks import require_valid_codes

        require_valid_codes([patient])
    assert "DUPONT" not in caught.value.sentence
