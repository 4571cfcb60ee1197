"""Trace entries: aware times, incidents with codes and plain messages, no health values."""

from __future__ import annotations

from datetime import datetime

import pytest

from app.domain.trace import (
    INCIDENT_MESSAGES,
    SYSTEM,
    Actor,
    ActorKind,
    IncidentCode,
    TraceEntry,
    TraceError,
    TraceKind,
    incident,
)
from tests.domain.builders import at


def test_incident_carries_code_and_plain_message() -> None:
    e = incident(at(3), IncidentCode.DEVICE_FAILED, "thermo-1")
    assert (e.kind, e.incident, e.subject, e.actor) == (
        TraceKind.INCIDENT,
        IncidentCode.DEVICE_FAILED,
        "thermo-1",
        SYSTEM,
    )
    assert e.message == "A measuring device failed or did not answer."


def test_every_incident_code_has_a_sentence() -> None:
    assert set(INCIDENT_MESSAGES) == set(IncidentCode)
    assert all(m.endswith(".") and m[0].isupper() for m in INCIDENT_MESSAGES.values())


def test_doctor_is_traced_by_rpps() -> None:
    e = TraceEntry(at(1), TraceKind.CALL_STARTED, Actor(ActorKind.DOCTOR, "10003456789"))
    assert e.actor.id == "10003456789"


@pytest.mark.parametrize(
    ("build", "sentence"),
    [
        (
            lambda: TraceEntry(datetime(2025, 1, 1), TraceKind.WIPE),
            "A trace entry needs a time with a time zone.",
        ),
        (
            lambda: TraceEntry(at(1), TraceKind.INCIDENT),
            "An incident code goes with, and only with, an incident entry.",
        ),
        (
            lambda: TraceEntry(at(1), TraceKind.WIPE, incident=IncidentCode.CARD_ERROR),
            "An incident code goes with, and only with, an incident entry.",
        ),
    ],
)
def test_malformed_entries_refused(build: object, sentence: str) -> None:
    with pytest.raises(TraceError) as caught:
        build()  # type: ignore[operator]
    assert str(caught.value) == sentence


def test_every_incident_code_has_a_plain_message() -> None:
    from app.domain.trace import INCIDENT_MESSAGES, IncidentCode

    assert set(INCIDENT_MESSAGES) == set(IncidentCode)
    assert all(m.endswith(".") and m[0].isupper() for m in INCIDENT_MESSAGES.values())
