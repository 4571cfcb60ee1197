"""A still the doctor takes is a line of the act's trace, and a still not kept an incident.

CSP R.6316-4 (issue 17): the auditor reads "the doctor took a still with the
otoscope at 10:42", by the still's id; the picture never enters the trace.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.trace import (
    EXAM_STILL_DEVICES,
    INCIDENT_MESSAGES,
    PATIENT,
    SYSTEM,
    Actor,
    ActorKind,
    IncidentCode,
    TraceError,
    TraceKind,
    exam_still_not_kept,
    exam_still_taken,
)

AT = datetime(2026, 11, 23, 10, 42, tzinfo=UTC)
DOCTOR = Actor(ActorKind.DOCTOR, "10003456789")

still_ids = st.integers(min_value=1, max_value=9999).map(lambda n: f"still-{n}")
rpps = st.none() | st.from_regex(r"[0-9]{11}", fullmatch=True)
times = st.datetimes(
    min_value=datetime(2020, 1, 1),
    max_value=datetime(2040, 1, 1),
    timezones=st.sampled_from([UTC, timezone(timedelta(hours=1)), timezone(timedelta(hours=2))]),
)
not_still_ids = st.text(max_size=30).filter(
    lambda s: not (s.startswith("still-") and s[6:].isascii() and s[6:].isdigit())
) | st.sampled_from(
    ["still-0", "still-01", "still-10000", "still-1\n", " still-1", "still-", "STILL-1"]
)


def test_the_auditor_reads_who_took_which_still_with_what_and_when() -> None:
    entry = exam_still_taken(AT, DOCTOR, "still-1", "otoscope")
    assert entry.kind is TraceKind.EXAM_STILL_TAKEN
    assert entry.actor == DOCTOR  # the doctor by RPPS: the export names them
    assert entry.at == AT
    assert entry.subject == "still-1"
    assert entry.incident is None
    assert entry.message == "The doctor took a still with the otoscope."


@given(at=times, rpps=rpps, still_id=still_ids, device=st.sampled_from(sorted(EXAM_STILL_DEVICES)))
def test_a_still_s_line_holds_its_id_and_a_fixed_sentence_only(
    at: datetime, rpps: str | None, still_id: str, device: str
) -> None:
    doctor = Actor(ActorKind.DOCTOR, rpps)
    entry = exam_still_taken(at, doctor, still_id, device)
    assert (entry.at, entry.kind, entry.actor, entry.subject) == (
        at,
        TraceKind.EXAM_STILL_TAKEN,
        doctor,
        still_id,
    )
    # one sentence per device, whatever the still: nothing else can ride in the message
    assert entry.message == f"The doctor took a still with the {EXAM_STILL_DEVICES[device]}."
    assert still_id not in entry.message


@given(still_id=not_still_ids)
def test_anything_but_the_call_s_still_number_is_refused(still_id: str) -> None:
    with pytest.raises(TraceError):
        exam_still_taken(AT, DOCTOR, still_id, "otoscope")
    with pytest.raises(TraceError):
        exam_still_not_kept(AT, still_id)


@given(device=st.text(max_size=20).filter(lambda d: d not in EXAM_STILL_DEVICES))
def test_a_still_comes_from_an_examination_camera_only(device: str) -> None:
    with pytest.raises(TraceError, match="otoscope or the dermatoscope"):
        exam_still_taken(AT, DOCTOR, "still-1", device)


def test_the_stethoscope_gives_no_still() -> None:
    with pytest.raises(TraceError):
        exam_still_taken(AT, DOCTOR, "still-1", "stethoscope")


@pytest.mark.parametrize("actor", [PATIENT, SYSTEM, Actor(ActorKind.ASSISTANT, "pharma-7")])
def test_only_the_doctor_takes_a_still(actor: Actor) -> None:
    with pytest.raises(TraceError, match="Only the doctor"):
        exam_still_taken(AT, actor, "still-1", "otoscope")


@given(at=times, still_id=still_ids)
def test_a_still_not_kept_is_an_incident_naming_the_still(at: datetime, still_id: str) -> None:
    entry = exam_still_not_kept(at, still_id)
    assert entry.kind is TraceKind.INCIDENT
    assert entry.incident is IncidentCode.EXAM_STILL_NOT_KEPT
    assert entry.subject == still_id  # the same id as the still's own line
    assert entry.actor == SYSTEM
    assert entry.message == INCIDENT_MESSAGES[IncidentCode.EXAM_STILL_NOT_KEPT]
    assert entry.at == at


def test_a_still_s_line_needs_a_time_zone() -> None:
    with pytest.raises(TraceError, match="time zone"):
        exam_still_taken(AT.replace(tzinfo=None), DOCTOR, "still-1", "otoscope")
