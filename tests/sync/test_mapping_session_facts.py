"""What a session holds beyond identity, consents and measurements: documents, orientation,
payments, identity history, and how the session ended — mapped, validated, checked."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle

from app.domain.visit_reason import VisitReasonAnswer
from app.store import AsyncStore
from app.sync import fhir_codes as c
from app.sync.code_checks import check_codes
from app.sync.fhir_bundle import session_bundle
from app.sync.fhir_document import INLINE_MAX_BYTES
from app.sync.store_adapter import StoreOutbox, snapshot_from_record
from app.sync.vendor import CS_VISIT_REASON, code_system_resources
from tests.sync.conftest import put_sessions
from tests.sync.sessions import REPORT_PDF, T0, TEST_SITE, rich_session

SYSTEM = "urn:telecabine:CAB-T1"


def resources(bundle: dict[str, Any], rtype: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == rtype]


def by_identifier(bundle: dict[str, Any], value: str) -> dict[str, Any]:
    r: dict[str, Any]
    (r,) = [
        e["resource"]
        for e in bundle["entry"]
        if e["resource"].get("identifier", [{}])[-1].get("value") == value
    ]
    return r


def by_tag(bundle: dict[str, Any], code: str) -> dict[str, Any]:
    r: dict[str, Any]
    (r,) = [
        e["resource"]
        for e in bundle["entry"]
        if e["resource"].get("meta", {}).get("tag", [{}])[0].get("code") == code
    ]
    return r


@pytest.fixture
def bundle() -> dict[str, Any]:
    return session_bundle(rich_session(), TEST_SITE)


def test_every_resource_of_a_rich_session_validates_and_passes_the_code_checks(
    bundle: dict[str, Any],
) -> None:
    Bundle.model_validate(bundle)
    for e in bundle["entry"]:
        get_fhir_model_class(e["resource"]["resourceType"]).model_validate(e["resource"])
        assert check_codes(e["resource"]) == [], e["resource"]["resourceType"]
    counts: dict[str, int] = {}
    for e in bundle["entry"]:
        counts[e["resource"]["resourceType"]] = counts.get(e["resource"]["resourceType"], 0) + 1
    assert counts == {
        "Location": 1,
        "Device": 3,
        "Patient": 1,
        "Encounter": 1,
        "Consent": 2,
        "Observation": 4,  # three vital signs and the orientation
        "DocumentReference": 2,
        "Provenance": 8,  # patient, 2 consents, 3 observations, 2 documents
        "AuditEvent": 13,  # 12 trace entries and the earlier (PROV) identity
    }


def test_a_document_travels_inline_with_its_size_and_hashes_and_its_author(
    bundle: dict[str, Any],
) -> None:
    doc = by_identifier(bundle, "CAB-T1/S-R001/document/S-R001-d1")
    att = doc["content"][0]["attachment"]
    assert base64.b64decode(att["data"]) == REPORT_PDF
    assert att == {
        "contentType": "application/pdf",
        "extension": [
            {
                "url": "https://telecabine.example/fhir/StructureDefinition/attachment-sha256",
                "valueString": hashlib.sha256(REPORT_PDF).hexdigest(),
            }
        ],
        "data": att["data"],
        "size": len(REPORT_PDF),
        "hash": base64.b64encode(hashlib.sha1(REPORT_PDF).digest()).decode(),  # noqa: S324
        "title": "Compte rendu",
        "creation": "2026-11-23T09:54:00+00:00",
    }
    assert (doc["status"], doc["docStatus"], doc["date"]) == (
        "current",
        "final",
        "2026-11-23T09:54:00+00:00",
    )
    assert doc["type"] == {
        "coding": [
            {"system": "https://telecabine.example/fhir/CodeSystem/document-kind", "code": "report"}
        ],
        "text": "report",
    }
    assert doc["author"] == [
        {
            "type": "Practitioner",
            "identifier": {
                "use": "official",
                "type": {"coding": [{"system": c.CS_IDENTIFIER_TYPE, "code": "RPPS"}]},
                "system": c.SYSTEM_RPPS,
                "value": "10101010101",
            },
        }
    ]
    assert doc["subject"]["type"] == "Patient"
    assert doc["context"]["encounter"][0]["type"] == "Encounter"
    full_urls = {
        e["resource"]["identifier"][-1]["value"]: e["fullUrl"]
        for e in bundle["entry"]
        if "identifier" in e["resource"]
    }
    assert doc["subject"]["reference"] == full_urls["CAB-T1/S-R001/patient"]
    assert doc["context"]["encounter"][0]["reference"] == full_urls["CAB-T1/S-R001/encounter"]
    provenance = by_tag(bundle, "CAB-T1/S-R001/provenance/document/S-R001-d1")
    assert [a["type"]["coding"][0]["code"] for a in provenance["agent"]] == [
        "author",
        "assembler",
    ]
    # A document the kiosk only knows by id: an attachment with its title, no data.
    bare = by_identifier(bundle, "CAB-T1/S-R001/document/S-R001-d2")
    assert bare["content"] == [
        {"attachment": {"title": "prescription", "creation": "2026-11-23T09:54:00+00:00"}}
    ]


def test_a_large_document_travels_as_size_and_hashes_only() -> None:
    big = b"\x89PNG" + bytes(INLINE_MAX_BYTES)
    bundle = session_bundle(rich_session(big_document=big), TEST_SITE)
    att = by_identifier(bundle, "CAB-T1/S-R001/document/S-R001-d3")["content"][0]["attachment"]
    assert "data" not in att
    assert (att["size"], att["contentType"]) == (INLINE_MAX_BYTES + 4, "image/png")
    assert att["extension"][0]["valueString"] == hashlib.sha256(big).hexdigest()
    assert check_codes(by_identifier(bundle, "CAB-T1/S-R001/document/S-R001-d3")) == []


def test_the_orientation_is_a_kiosk_coded_survey_observation_never_a_loinc_one(
    bundle: dict[str, Any],
) -> None:
    obs = by_identifier(bundle, "CAB-T1/S-R001/orientation")
    assert "meta" not in obs
    assert obs["category"] == [
        {"coding": [{"system": c.CS_OBSERVATION_CATEGORY, "code": "survey"}]}
    ]
    assert obs["code"]["coding"] == [
        {
            "system": "https://telecabine.example/fhir/CodeSystem/observation-code",
            "code": "parcours-de-soins-orientation",
        }
    ]
    assert all(x["system"] != c.LOINC for x in obs["code"]["coding"])
    assert obs["effectiveDateTime"] == "2026-11-23T09:34:00+00:00"
    assert obs["valueCodeableConcept"] == {
        "coding": [
            {"system": "https://telecabine.example/fhir/CodeSystem/parcours", "code": "exception"}
        ],
        "text": "exception",
    }
    assert [
        (
            comp["code"]["coding"][0]["code"],
            comp.get("valueCodeableConcept", {}).get("coding", [{}])[0].get("code"),
            comp.get("valueBoolean"),
        )
        for comp in obs["component"]
    ] == [
        ("orientation-exception", "emergency", None),
        ("territoriality-waiver", "zip-residence", None),
        ("medecin-traitant-unknown", None, True),
    ]
    assert obs["note"][0]["text"].startswith("Votre situation fait partie des cas prévus")
    # Dressed as a vital sign, or with a LOINC code beside ours, it is refused.
    dressed = {
        **obs,
        "category": [{"coding": [{"system": c.CS_OBSERVATION_CATEGORY, "code": "vital-signs"}]}],
    }
    assert [p.path for p in check_codes(dressed)] == ["category"]
    loinc = {
        **obs,
        "code": {"coding": [*obs["code"]["coding"], {"system": c.LOINC, "code": "8310-5"}]},
    }
    assert [p.path for p in check_codes(loinc)] == ["code.coding"]


def test_earlier_identity_versions_become_audit_events_without_traits(
    bundle: dict[str, Any],
) -> None:
    patient = by_identifier(bundle, "CAB-T1/S-R001/patient")
    status = patient["extension"][0]["extension"][0]["valueCoding"]["code"]
    assert status == "QUAL"  # the Patient is the latest version
    event = by_tag(bundle, "CAB-T1/S-R001/audit/identity/00")
    assert (event["action"], event["recorded"], event["outcome"]) == (
        "C",
        "2026-11-23T09:30:40+00:00",
        "0",
    )
    assert event["subtype"] == [
        {
            "system": "https://telecabine.example/fhir/CodeSystem/identity-event",
            "code": "identity-recorded",
        }
    ]
    assert event["entity"][0]["detail"] == [
        {"type": "identityStatus", "valueString": "PROV"},
        {"type": "methodCollection", "valueString": "CV"},
    ]
    assert event["entity"][0]["what"]["type"] == "Patient"
    assert event["agent"][0]["type"]["coding"][0]["code"] == "system"
    text = str(event)
    assert "DUPONT" not in text and "255081416802538" not in text and "1955" not in text


def test_a_payment_is_named_by_its_reference_in_the_trace_event(bundle: dict[str, Any]) -> None:
    (event,) = [
        r
        for r in resources(bundle, "AuditEvent")
        if r["subtype"][0]
        == {"system": "https://telecabine.example/fhir/CodeSystem/trace-kind", "code": "payment"}
    ]
    assert event["entity"][1] == {
        "what": {
            "identifier": {"system": f"{SYSTEM}:payment", "value": "PAY-7781"},
            "display": "payment",
        }
    }
    assert event["recorded"] == "2026-11-23T09:55:30+00:00"


def test_a_payment_missing_from_the_trace_still_reaches_the_platform() -> None:
    from dataclasses import replace

    from app.domain.session_effects import PaymentRecord

    session = rich_session()
    session = replace(session, payments=(*session.payments, PaymentRecord("PAY-LOST")))
    bundle = session_bundle(session, TEST_SITE)
    event = by_tag(bundle, "CAB-T1/S-R001/audit/payment/01")
    assert event["recorded"] == "2026-11-23T09:56:00+00:00"  # the session's end
    assert event["entity"][1]["what"]["identifier"]["value"] == "PAY-LOST"
    assert check_codes(event) == []


@pytest.mark.parametrize(
    ("reason", "with_call", "status"),
    [
        ("completed", True, "finished"),
        ("completed", False, "cancelled"),  # the degraded path, then "Terminer": no consultation
        ("interrupted", True, "finished"),
        ("interrupted", False, "cancelled"),
        ("abandoned", False, "cancelled"),
        ("fault", False, "cancelled"),
        ("fault", True, "finished"),
        ("stopped", False, "cancelled"),
        ("emergency", False, "cancelled"),
    ],
)
def test_encounter_status_and_end_reason(reason: str, with_call: bool, status: str) -> None:
    bundle = session_bundle(rich_session(end_reason=reason, with_call=with_call), TEST_SITE)
    encounter = by_identifier(bundle, "CAB-T1/S-R001/encounter")
    assert encounter["status"] == status
    assert encounter["extension"][0] == {
        "url": "https://telecabine.example/fhir/StructureDefinition/encounter-end-reason",
        "valueCoding": {
            "system": "https://telecabine.example/fhir/CodeSystem/end-reason",
            "code": reason,
        },
    }
    # A call the doctor ended is a whole consultation; otherwise the reason it was cut or
    # never began (tests/sync/test_mapping_interruption.py has the cases).
    assert len(encounter["extension"]) == (1 if with_call else 2)
    assert encounter["period"]["end"] == "2026-11-23T09:56:00+00:00"
    assert check_codes(encounter) == []


def test_the_checks_refuse_an_unknown_end_reason_and_inconsistent_attachments(
    bundle: dict[str, Any],
) -> None:
    encounter = by_identifier(bundle, "CAB-T1/S-R001/encounter")
    odd = {
        **encounter,
        "extension": [
            {
                **encounter["extension"][0],
                "valueCoding": {
                    "system": "https://telecabine.example/fhir/CodeSystem/end-reason",
                    "code": "exploded",
                },
            }
        ],
    }
    assert [p.sentence() for p in check_codes(odd)] == [
        "Encounter.extension(end-reason).code has text of 8 character(s); expected one of "
        "abandoned, "
        "completed, emergency, fault, interrupted, stopped."
    ]
    doc = by_identifier(bundle, "CAB-T1/S-R001/document/S-R001-d1")
    att = doc["content"][0]["attachment"]
    untyped = {
        **doc,
        "content": [{"attachment": {k: v for k, v in att.items() if k != "contentType"}}],
    }
    assert [p.path for p in check_codes(untyped)] == ["content[0].attachment.contentType"]
    resized = {**doc, "content": [{"attachment": {**att, "size": 3}}]}
    assert [p.sentence() for p in check_codes(resized)] == [
        f"DocumentReference.content[0].attachment.size has a number; expected {len(REPORT_PDF)} "
        "(the data's)."
    ]


def test_the_reason_for_the_visit_is_the_encounters_reason_code(bundle: dict[str, Any]) -> None:
    encounter = by_identifier(bundle, "CAB-T1/S-R001/encounter")
    assert encounter["reasonCode"] == [
        {
            "coding": [{"system": CS_VISIT_REASON, "code": "fever", "display": "Fièvre"}],
            "text": "Fièvre",
        },
        {
            "coding": [
                {
                    "system": CS_VISIT_REASON,
                    "code": "cough-cold",
                    "display": "Toux, rhume, mal de gorge",
                }
            ],
            "text": "Toux, rhume, mal de gorge",
        },
        {"text": "depuis trois jours, fièvre à 39"},
    ]
    # Every code sent is one the published code system resolves.
    (published,) = [r for r in code_system_resources() if r["url"] == CS_VISIT_REASON]
    assert {"fever", "cough-cold"} <= {concept["code"] for concept in published["concept"]}


def test_i_would_rather_tell_the_doctor_sends_no_reason() -> None:
    quiet = replace(rich_session(), visit_reason=VisitReasonAnswer(T0, (), None))
    encounter = by_identifier(session_bundle(quiet, TEST_SITE), "CAB-T1/S-R001/encounter")
    assert "reasonCode" not in encounter
    assert check_codes(encounter) == []


async def test_a_rich_session_through_the_real_store_maps_the_same_facts(
    tmp_path: Path, store: AsyncStore
) -> None:
    await put_sessions(store, TEST_SITE.cabin_id, [rich_session(end_reason="interrupted")])
    record = await StoreOutbox(store).read_session("S-R001")
    snapshot = snapshot_from_record(record)
    assert [i.status.value for i in snapshot.identity_history] == ["PROV", "QUAL"]
    assert len(snapshot.identity_recorded_at) == 2
    bundle = session_bundle(snapshot, TEST_SITE)
    for e in bundle["entry"]:
        get_fhir_model_class(e["resource"]["resourceType"]).model_validate(e["resource"])
    doc = by_identifier(bundle, "CAB-T1/S-R001/document/S-R001-d1")
    assert base64.b64decode(doc["content"][0]["attachment"]["data"]) == REPORT_PDF
    encounter = by_identifier(bundle, "CAB-T1/S-R001/encounter")
    assert encounter["status"] == "finished"
    assert [r.get("text") for r in encounter["reasonCode"]] == [
        "Fièvre",
        "Toux, rhume, mal de gorge",
        "depuis trois jours, fièvre à 39",
    ]
    assert (
        by_identifier(bundle, "CAB-T1/S-R001/orientation")["valueCodeableConcept"]["coding"][0][
            "code"
        ]
        == "exception"
    )
    event = by_tag(bundle, "CAB-T1/S-R001/audit/identity/00")
    assert event["recorded"] == snapshot.identity_recorded_at[0].isoformat(
        timespec="milliseconds" if snapshot.identity_recorded_at[0].microsecond else "seconds"
    )
