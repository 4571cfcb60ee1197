"""The doctor's stills become lines of the act's trace, and reach the platform as AuditEvents.

What the call reports (`ExamStillKept`, the call's `exam-still-failed`)
becomes the trace line "the doctor took a still with the otoscope" and, when
the still is not in the encrypted store, an incident naming it; the export
shows who, when, which still and which device — never the picture.
"""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.call import events as call
from app.call.exam_still import ExamDevice, ExamStill
from app.call.state import CallState
from app.controller.call_events import (
    still_not_kept,
    still_trace,
    trace_code,
    translate_call_event,
)
from app.domain import session_events as ev
from app.domain.session_context import State
from app.domain.trace import (
    Actor,
    ActorKind,
    IncidentCode,
    TraceEntry,
    TraceError,
    TraceKind,
    exam_still_not_kept,
    exam_still_taken,
)
from app.sync.fhir_bundle import session_bundle
from app.sync.identifiers import CS_INCIDENT, CS_TRACE_KIND
from tests.controller.conftest import Kiosk
from tests.controller.test_sessions import to_measurements
from tests.sync.sessions import TEST_SITE, full_session

AT = datetime(2026, 11, 23, 10, 42, tzinfo=UTC)
RPPS = "10101010101"
JPEG = b"\xff\xd8\xff\xe0" + b"the patient's ear canal" + bytes(range(200))


def still(still_id: str = "still-1") -> ExamStill:
    return ExamStill(still_id, ExamDevice.OTOSCOPE, JPEG, 640, 480, AT)


def test_a_still_of_the_act_is_the_doctor_s_line_with_its_id() -> None:
    event = call.ExamStillKept(still(), "S-1")
    assert still_trace(event, AT, doctor_rpps=RPPS, session_id="S-1") == [
        TraceEntry(
            AT,
            TraceKind.EXAM_STILL_TAKEN,
            Actor(ActorKind.DOCTOR, RPPS),
            "still-1",
            message="The doctor took a still with the otoscope.",
        )
    ]
    assert still_not_kept(event, AT, session_id="S-1") == [exam_still_not_kept(AT, "still-1")]
    # nothing the flow must hear: a still changes nothing in the patient's way
    assert translate_call_event(event, AT) == []


@given(
    n=st.integers(min_value=1, max_value=9999),
    ours=st.sampled_from(["S-1", "id0001"]),
    theirs=st.sampled_from(["S-1", "S-2", "id0001", ""]),
    current=st.none() | st.sampled_from(["S-1", "id0001"]),
    rpps=st.none() | st.just(RPPS),
)
def test_a_still_is_traced_in_its_own_act_only(
    n: int, ours: str, theirs: str, current: str | None, rpps: str | None
) -> None:
    """The rule: a still joins the act under way when it names it; one naming no session
    is never kept (the keeper needs its session), so its incident follows at once."""
    event = call.ExamStillKept(still(f"still-{n}"), theirs)
    lines = still_trace(event, AT, doctor_rpps=rpps, session_id=current)
    failed = still_not_kept(event, AT, session_id=current)
    taken = exam_still_taken(AT, Actor(ActorKind.DOCTOR, rpps), f"still-{n}", "otoscope")
    if current is None or (theirs and theirs != current):
        assert lines == [] and failed == []  # no act, or another act's still
    elif not theirs:
        assert lines == [taken, exam_still_not_kept(AT, f"still-{n}")]
        assert failed == []  # the keeper never tried: the incident is already there
    else:
        assert lines == [taken]
        assert failed == [exam_still_not_kept(AT, f"still-{n}")]
    for entry in lines + failed:
        assert entry.subject == f"still-{n}"
        assert "ear canal" not in entry.message


@pytest.mark.parametrize(
    "other",
    [
        call.StateChanged(CallState.IN_CALL),
        call.ExamDeviceChanged("otoscope", True),
        call.Incident(call.IncidentCode.EXAM_STILL_FAILED),
    ],
)
def test_other_call_events_make_no_still_line(other: object) -> None:
    assert still_trace(other, AT, doctor_rpps=RPPS, session_id="S-1") == []
    assert still_not_kept(other, AT, session_id="S-1") == []


def test_a_still_id_that_is_not_the_call_s_number_is_refused() -> None:
    event = call.ExamStillKept(still("still-1\nDUPONT Marie"), "S-1")
    with pytest.raises(TraceError):
        still_trace(event, AT, doctor_rpps=RPPS, session_id="S-1")


def test_a_still_the_kiosk_could_not_make_is_the_not_kept_incident() -> None:
    failed = call.Incident(call.IncidentCode.EXAM_STILL_FAILED, {"reason": "encode-failed"})
    assert trace_code(failed) is IncidentCode.EXAM_STILL_NOT_KEPT
    # an examination device that will not open is not a still: it stays in the log
    assert trace_code(call.Incident(call.IncidentCode.EXAM_DEVICE_UNAVAILABLE)) is None


def _audit_events(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "AuditEvent"]


def _codes(resource: dict[str, Any], system: str) -> list[str]:
    return [s["code"] for s in resource["subtype"] if s["system"] == system]


def test_the_platform_reads_the_still_and_its_failed_keep_with_the_act() -> None:
    snapshot = full_session()
    at = snapshot.started_at + timedelta(minutes=12)
    event = call.ExamStillKept(still("still-2"), snapshot.session_id)
    lines = still_trace(event, at, doctor_rpps=RPPS, session_id=snapshot.session_id)
    lines += still_not_kept(event, at + timedelta(seconds=1), session_id=snapshot.session_id)
    bundle = session_bundle(replace(snapshot, trace=(*snapshot.trace, *lines)), TEST_SITE)
    audits = _audit_events(bundle)
    taken = [a for a in audits if _codes(a, CS_TRACE_KIND) == ["exam-still-taken"]]
    failed = [a for a in audits if _codes(a, CS_INCIDENT) == ["exam-still-not-kept"]]
    assert len(taken) == 1 and len(failed) == 1
    line, incident = taken[0], failed[0]
    # who: the doctor by RPPS; when: the minute the still was taken; what: the still, the device
    (agent,) = line["agent"]
    assert agent["type"]["coding"][0]["code"] == "doctor"
    assert agent["who"]["identifier"]["value"] == RPPS
    assert line["recorded"].startswith(at.strftime("%Y-%m-%dT%H:%M"))
    assert line["outcome"] == "0"
    assert line["outcomeDesc"] == "The doctor took a still with the otoscope."
    assert {"type": "subject", "valueString": "still-2"} in line["entity"][1]["detail"]
    # the failed keep: a technical incident (outcome 4) naming the same still
    assert incident["outcome"] == "4"
    assert _codes(incident, CS_TRACE_KIND) == ["incident"]
    assert {"type": "subject", "valueString": "still-2"} in incident["entity"][1]["detail"]
    assert "encrypted store" in incident["outcomeDesc"]
    # never the picture: neither its bytes nor its base64 in what the trace sends
    sent = json.dumps([line, incident])
    assert base64.b64encode(JPEG).decode("ascii") not in sent
    assert "ear canal" not in sent


async def test_a_still_the_kiosk_could_not_make_joins_the_act_s_trace(kiosk: Kiosk) -> None:
    k, c = kiosk, kiosk.controller
    session_id = await to_measurements(k)
    assert (await c.submit(ev.MeasurementsDone)).accepted
    k.call.doctor_joins()
    await k.until(lambda v: v.state is State.CALL)
    k.call.reports(call.IncidentCode.EXAM_STILL_FAILED)
    k.call.doctor_hangs_up()
    await k.until(lambda v: v.state is State.END)
    record = await k.store.session_bundle_source(session_id)
    assert [(t.incident, t.subject) for t in record.trace if t.kind is TraceKind.INCIDENT] == [
        (IncidentCode.EXAM_STILL_NOT_KEPT, "exam-still-failed")
    ]
