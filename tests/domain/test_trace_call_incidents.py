"""Every degradation and recovery of the call becomes an incident in the act's trace (CSP R.6316-4)."""

from __future__ import annotations

import pytest

from app.call import events as call
from app.call.state import CallState
from app.controller.call_events import trace_code
from app.domain.trace import INCIDENT_MESSAGES, IncidentCode, TraceKind, incident
from tests.domain.builders import T0


@pytest.mark.parametrize(
    ("code", "traced"),
    [
        (call.IncidentCode.QUALITY_POOR, IncidentCode.CALL_QUALITY_POOR),
        (call.IncidentCode.VIDEO_REDUCED, IncidentCode.CALL_VIDEO_REDUCED),
        (call.IncidentCode.AUDIO_ONLY_FALLBACK, IncidentCode.CALL_AUDIO_ONLY),
        (call.IncidentCode.MEDIA_STALLED, IncidentCode.CALL_QUALITY_POOR),
        (call.IncidentCode.RECONNECTING, IncidentCode.CALL_RECONNECTING),
        (call.IncidentCode.RECONNECTED, IncidentCode.CALL_RECONNECTED),
        (call.IncidentCode.VIDEO_RESTORED, IncidentCode.CALL_VIDEO_RESTORED),
        (call.IncidentCode.VIDEO_RAISED, IncidentCode.CALL_VIDEO_RESTORED),
    ],
)
def test_degradations_and_recoveries_are_traced(
    code: call.IncidentCode, traced: IncidentCode
) -> None:
    assert trace_code(call.Incident(code, {"recovery_s": 1.2})) is traced
    entry = incident(T0, traced, code.value)
    assert entry.kind is TraceKind.INCIDENT and entry.message == INCIDENT_MESSAGES[traced]


def test_protocol_noise_stays_in_the_log() -> None:
    assert trace_code(call.Incident(call.IncidentCode.DATA_CHANNEL_PROTOCOL)) is None
    assert trace_code(call.StateChanged(CallState.IN_CALL)) is None
