"""UI incidents (a screen error, reading aloud failing) join the trace of the act."""

from __future__ import annotations

from app.domain import session_events as ev
from app.domain.trace import INCIDENT_MESSAGES, ActorKind, IncidentCode, TraceKind
from app.ui.views import UiIncident
from tests.controller.conftest import Kiosk
from tests.maintenance.conftest import audit_rows


async def test_an_incident_in_a_session_is_written_to_its_trace(kiosk: Kiosk) -> None:
    c = kiosk.controller
    assert (await c.submit(ev.Begin)).accepted
    session_id = kiosk.view.context.session_id
    assert await c.record_incident(IncidentCode.SPEECH_FAILED) is True
    assert await c.record_incident(IncidentCode.AUDIO_FAILED, subject="speaker") is True
    unknown = UiIncident("no-such-code", "A screen said something new.")
    assert await c.record_incident(unknown.incident_code) is True  # kept, as a ui-error
    assert (await c.submit(ev.StopRequested)).accepted
    assert (await c.submit(ev.StopConfirmed)).accepted
    assert session_id is not None
    record = await kiosk.store.session_bundle_source(session_id)
    incidents = [
        (t.incident, t.subject, t.message, t.actor.kind)
        for t in record.trace
        if t.kind is TraceKind.INCIDENT
    ]
    assert incidents == [
        (
            IncidentCode.SPEECH_FAILED,
            None,
            "The kiosk could not prepare the words to read aloud.",
            ActorKind.SYSTEM,
        ),
        (
            IncidentCode.AUDIO_FAILED,
            "speaker",
            "The kiosk could not play the words read aloud.",
            ActorKind.SYSTEM,
        ),
        (
            IncidentCode.UI_ERROR,
            None,
            INCIDENT_MESSAGES[IncidentCode.UI_ERROR],
            ActorKind.SYSTEM,
        ),
    ]


async def test_outside_a_session_the_incident_is_an_audit_row(kiosk: Kiosk) -> None:
    assert await kiosk.controller.record_incident(IncidentCode.UI_ERROR) is False
    rows = [r[:5] for r in await audit_rows(kiosk.store)]
    assert ("system", "ui.incident", "recorded", "-", "code=ui-error") in rows


def test_the_ui_codes_have_plain_messages() -> None:
    assert INCIDENT_MESSAGES[IncidentCode("ui-error")] == (
        "The screen met an unexpected error; a calm screen was shown and the session went on."
    )
    assert {IncidentCode("speech-failed"), IncidentCode("audio-failed")} <= set(INCIDENT_MESSAGES)
