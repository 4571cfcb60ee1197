"""The cabin's own media failing the waiting room's checks, and call incidents in the act's trace."""

from __future__ import annotations

from app.call import events as call
from app.domain import session_events as ev
from app.domain.session_context import State
from app.domain.session_effects import DegradedReason
from app.domain.trace import IncidentCode, TraceKind
from tests.controller.conftest import Kiosk
from tests.controller.test_sessions import to_measurements


async def _incidents(k: Kiosk, session_id: str) -> list[tuple[IncidentCode | None, str | None]]:
    record = await k.store.session_bundle_source(session_id)
    return [(t.incident, t.subject) for t in record.trace if t.kind is TraceKind.INCIDENT]


async def test_a_dead_camera_is_not_called_platform_unreachable(kiosk: Kiosk) -> None:
    k, c = kiosk, kiosk.controller
    session_id = await to_measurements(k)
    k.call.fail_media = ("camera-unavailable", "microphone-silent")
    assert (await c.submit(ev.MeasurementsDone)).accepted
    view = k.view
    assert view.state is State.DEGRADED
    assert view.context.degraded is not None
    assert view.context.degraded.reason is DegradedReason.CABIN_MEDIA_FAILED
    assert [o.value for o in view.context.degraded.options] == ["retry", "finish"]
    assert view.context.platform_reachable  # the platform is not blamed
    k.call.fail_media = ()
    assert (await c.submit(ev.DegradedChoice, option=ev.DegradedOption.RETRY)).accepted
    assert k.view.state is State.WAITING_ROOM  # repaired: the call opens
    assert (await c.submit(ev.StopRequested)).accepted
    assert (await c.submit(ev.StopConfirmed)).accepted
    assert await _incidents(k, session_id) == [
        (IncidentCode.CALL_MEDIA_CHECK_FAILED, "camera-unavailable,microphone-silent")
    ]


async def test_call_incidents_reach_the_act_s_trace_with_the_domain_s_codes(kiosk: Kiosk) -> None:
    k, c = kiosk, kiosk.controller
    session_id = await to_measurements(k)
    assert (await c.submit(ev.MeasurementsDone)).accepted
    k.call.doctor_joins()
    await k.until(lambda v: v.state is State.CALL)
    for code in (
        call.IncidentCode.QUALITY_POOR,
        call.IncidentCode.AUDIO_ONLY_FALLBACK,
        call.IncidentCode.VIDEO_RESTORED,  # a recovery: traced too (CSP R.6316-4)
        call.IncidentCode.SIGNALLING_LOST,
        call.IncidentCode.RECONNECTING,
        call.IncidentCode.RECONNECTED,  # a recovery: traced too
    ):
        k.call.reports(code)
    k.call.drops()
    await k.until(lambda v: v.state is State.DEGRADED)
    assert (await c.submit(ev.DegradedChoice, option=ev.DegradedOption.FINISH)).accepted
    assert (await c.submit(ev.Finish)).accepted
    assert await _incidents(k, session_id) == [
        (IncidentCode.CALL_QUALITY_POOR, "quality-poor"),
        (IncidentCode.CALL_AUDIO_ONLY, "audio-only-fallback"),
        (IncidentCode.CALL_VIDEO_RESTORED, "video-restored"),
        (IncidentCode.CALL_SIGNALLING_LOST, "signalling-lost"),
        (IncidentCode.CALL_RECONNECTING, "reconnecting"),
        (IncidentCode.CALL_RECONNECTED, "reconnected"),
        (IncidentCode.CALL_DROPPED, None),
    ]
