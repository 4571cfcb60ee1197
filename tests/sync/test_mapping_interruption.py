"""Interrupted sessions reach the platform as interrupted (Encounter status + statusReason).

R4 Encounter.status has no "interrupted": `cancelled` is "ended before it had
begun" (no doctor took the call), `finished` "has ended". A consultation cut
short is `finished` with the core extension event-statusReason saying why;
one that never began is `cancelled` with the reason too. Codes only: how the
session went, never what the patient has.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from fhir.resources.R4B import get_fhir_model_class

from app.domain.trace import SYSTEM, Actor, ActorKind, IncidentCode, TraceEntry, TraceKind
from app.sync.code_checks import check_codes
from app.sync.fhir_bundle import session_bundle
from app.sync.fhir_encounter import encounter_status, interruption
from app.sync.session_snapshot import SessionSnapshot
from tests.sync.sessions import TEST_SITE, rich_session

STATUS_REASON = "http://hl7.org/fhir/StructureDefinition/event-statusReason"
DOCTOR = Actor(ActorKind.DOCTOR, "10101010101")


def with_trace(session: SessionSnapshot, *entries: TraceEntry) -> SessionSnapshot:
    calls = (TraceKind.CALL_STARTED, TraceKind.CALL_ENDED)
    kept = tuple(e for e in session.trace if e.kind not in calls)
    return replace(session, trace=kept + entries)


def encounter_of(session: SessionSnapshot) -> dict[str, Any]:
    bundle = session_bundle(session, TEST_SITE)
    (entry,) = [e for e in bundle["entry"] if e["resource"]["resourceType"] == "Encounter"]
    resource: dict[str, Any] = entry["resource"]
    get_fhir_model_class("Encounter").model_validate(resource)
    assert check_codes(resource) == []
    return resource


def status_reason(encounter: dict[str, Any]) -> str | None:
    for ext in encounter.get("extension", []):
        if ext["url"] == STATUS_REASON:
            coding = ext["valueCodeableConcept"]["coding"][0]
            assert (
                coding["system"]
                == "https://telecabine.example/fhir/CodeSystem/encounter-interruption"
            )
            assert coding["display"] == ext["valueCodeableConcept"]["text"]
            code: str = coding["code"]
            return code
    return None


def at(minutes: float) -> Any:
    return rich_session().started_at + timedelta(minutes=minutes)


STARTED = TraceEntry(at(10), TraceKind.CALL_STARTED, DOCTOR)


def test_a_call_the_doctor_ended_is_a_whole_consultation() -> None:
    session = with_trace(rich_session(), STARTED, TraceEntry(at(25), TraceKind.CALL_ENDED, DOCTOR))
    encounter = encounter_of(session)
    assert encounter["status"] == "finished"
    assert status_reason(encounter) is None


def test_a_dropped_call_then_finish_on_the_degraded_screen_is_interrupted() -> None:
    """The patient touched "Terminer" after the drop: the end reason says completed, the
    consultation was still cut."""
    session = with_trace(
        rich_session(end_reason="completed"),
        STARTED,
        TraceEntry(at(12), TraceKind.CALL_ENDED, SYSTEM, "dropped"),
        TraceEntry(at(12), TraceKind.INCIDENT, SYSTEM, incident=IncidentCode.CALL_DROPPED),
    )
    encounter = encounter_of(session)
    assert encounter["status"] == "finished"
    assert status_reason(encounter) == "call-dropped"
    assert "connexion avec le médecin a été perdue" in str(encounter["extension"])


def test_a_retry_after_a_drop_that_ends_normally_is_whole() -> None:
    session = with_trace(
        rich_session(),
        STARTED,
        TraceEntry(at(12), TraceKind.CALL_ENDED, SYSTEM, "dropped"),
        TraceEntry(at(14), TraceKind.CALL_STARTED, DOCTOR),
        TraceEntry(at(25), TraceKind.CALL_ENDED, DOCTOR),
    )
    assert interruption(session) is None


@pytest.mark.parametrize("reason", ["stopped", "abandoned", "emergency", "fault"])
def test_a_call_the_kiosk_ended_carries_the_session_end(reason: str) -> None:
    session = with_trace(
        rich_session(end_reason=reason), STARTED, TraceEntry(at(15), TraceKind.CALL_ENDED, SYSTEM)
    )
    encounter = encounter_of(session)
    assert encounter["status"] == "finished"
    assert status_reason(encounter) == reason


def test_a_restart_during_the_call_is_interrupted() -> None:
    session = with_trace(rich_session(end_reason="interrupted"), STARTED)
    assert encounter_of(session)["status"] == "finished"
    assert status_reason(encounter_of(session)) == "interrupted"


@pytest.mark.parametrize(
    ("incident", "expected"),
    [
        (IncidentCode.PLATFORM_UNREACHABLE, "platform-unreachable"),
        (IncidentCode.CALL_MEDIA_CHECK_FAILED, "cabin-media-failed"),
        (None, "no-call"),
    ],
)
def test_no_doctor_ever_took_the_call_is_cancelled_with_why(
    incident: IncidentCode | None, expected: str
) -> None:
    entries = (
        ()
        if incident is None
        else (TraceEntry(at(9), TraceKind.INCIDENT, SYSTEM, incident=incident),)
    )
    session = with_trace(rich_session(end_reason="completed", with_call=False), *entries)
    encounter = encounter_of(session)
    assert encounter["status"] == "cancelled"
    assert status_reason(encounter) == expected


@pytest.mark.parametrize("reason", ["stopped", "abandoned", "emergency", "interrupted", "fault"])
def test_a_session_ended_before_any_call_is_cancelled_with_its_end(reason: str) -> None:
    session = with_trace(rich_session(end_reason=reason, with_call=False))
    encounter = encounter_of(session)
    assert encounter["status"] == "cancelled"
    assert status_reason(encounter) == reason


def test_a_running_session_says_nothing_yet() -> None:
    session = replace(with_trace(rich_session(), STARTED), ended_at=None)
    assert encounter_status(session) == "in-progress"
    assert interruption(session) is None
    assert status_reason(encounter_of(session)) is None


def test_the_checks_refuse_an_unknown_interruption() -> None:
    session = with_trace(rich_session(end_reason="stopped", with_call=False))
    encounter = encounter_of(session)
    odd = {
        **encounter,
        "extension": [
            encounter["extension"][0],
            {
                "url": STATUS_REASON,
                "valueCodeableConcept": {
                    "coding": [
                        {
                            "system": "https://telecabine.example/fhir/CodeSystem/encounter-interruption",
                            "code": "x",
                        }
                    ]
                },
            },
        ],
    }
    assert [p.path for p in check_codes(odd)] == ["extension(statusReason).code"]
