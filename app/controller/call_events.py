"""What the call reports, as the session flow hears it, and what joins the act's trace.

Why so few events: the flow only needs to know that a doctor joined (with
the RPPS the platform vouches for), that a document came, and how the call
ended. Quality, media and signalling incidents change nothing in the
patient's way, but they are facts of the act (CSP R.6316-4): `trace_code`
names the domain's incident code for each one the trace keeps, and the
controller records it, degradations and recoveries alike (reconnected, video
restored or raised a rung). Protocol noise stays in the technical log.

A still the doctor takes from the otoscope is an act of the doctor, not a
step of the patient's way either: `still_trace` makes its trace line (who,
when, which device, the still's id) and `still_not_kept` the incident of a
still the store could not keep; the controller writes both, in order with
the flow's own entries.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app.call import events as call
from app.controller.view import DoctorMedia
from app.domain import session_events as ev
from app.domain.trace import (
    Actor,
    ActorKind,
    IncidentCode,
    TraceEntry,
    exam_still_not_kept,
    exam_still_taken,
)

_TRACED: dict[call.IncidentCode, IncidentCode] = {
    call.IncidentCode.CAMERA_UNAVAILABLE: IncidentCode.CALL_MEDIA_CHECK_FAILED,
    call.IncidentCode.MICROPHONE_UNAVAILABLE: IncidentCode.CALL_MEDIA_CHECK_FAILED,
    call.IncidentCode.MICROPHONE_SILENT: IncidentCode.CALL_MEDIA_CHECK_FAILED,
    call.IncidentCode.SPEAKER_UNAVAILABLE: IncidentCode.CALL_MEDIA_CHECK_FAILED,
    call.IncidentCode.QUALITY_POOR: IncidentCode.CALL_QUALITY_POOR,
    call.IncidentCode.MEDIA_STALLED: IncidentCode.CALL_QUALITY_POOR,
    call.IncidentCode.AUDIO_ONLY_FALLBACK: IncidentCode.CALL_AUDIO_ONLY,
    call.IncidentCode.RECONNECTING: IncidentCode.CALL_RECONNECTING,
    call.IncidentCode.ICE_FAILED: IncidentCode.CALL_RECONNECTING,
    call.IncidentCode.SIGNALLING_LOST: IncidentCode.CALL_SIGNALLING_LOST,
    # Recoveries are facts of the act too (CSP R.6316-4: each degradation and recovery).
    call.IncidentCode.RECONNECTED: IncidentCode.CALL_RECONNECTED,
    call.IncidentCode.VIDEO_RESTORED: IncidentCode.CALL_VIDEO_RESTORED,
    call.IncidentCode.VIDEO_REDUCED: IncidentCode.CALL_VIDEO_REDUCED,
    call.IncidentCode.VIDEO_RAISED: IncidentCode.CALL_VIDEO_RESTORED,
    # The doctor asked for a still and the kiosk could not make it (the picture would not
    # encode): no still exists, so none is kept — the same incident as a failed keep.
    call.IncidentCode.EXAM_STILL_FAILED: IncidentCode.EXAM_STILL_NOT_KEPT,
    # RECONNECT_TIMEOUT / SIGNALLING_UNREACHABLE end the call: the flow traces CALL_DROPPED
    # (and PLATFORM_UNREACHABLE) from the CallEnded that follows, once.
}


def trace_code(event: object) -> IncidentCode | None:
    """The domain incident a call incident becomes in the act's trace, or None (log only)."""
    if isinstance(event, call.Incident):
        return _TRACED.get(event.code)
    return None


def still_trace(
    event: object, at: datetime, *, doctor_rpps: str | None, session_id: str | None
) -> list[TraceEntry]:
    """The act's trace lines for a still the doctor took (`ExamStillKept`); [] for the rest.

    `session_id` is the act under way: a still naming another session is not
    this act's (the log keeps it). A still that names no session is never
    written by the `StillKeeper` (it keeps a still only under its session), so
    its line is followed at once by the not-kept incident. Raises `TraceError`
    for a still id that is not the call's own number.
    """
    if not isinstance(event, call.ExamStillKept) or session_id is None:
        return []
    if event.session_id and event.session_id != session_id:
        return []
    still = event.still
    doctor = Actor(ActorKind.DOCTOR, doctor_rpps)
    lines = [exam_still_taken(at, doctor, still.still_id, still.device.value)]
    if not event.session_id:
        lines.append(exam_still_not_kept(at, still.still_id))
    return lines


def still_not_kept(event: object, at: datetime, *, session_id: str | None) -> list[TraceEntry]:
    """The incident of a still the store failed to keep (the `StillKeeper`'s failure).

    Only for the act the still belongs to: a write that fails after its
    session was wiped is not the next patient's incident (the keeper's log
    keeps it).
    """
    if (
        not isinstance(event, call.ExamStillKept)
        or session_id is None
        or event.session_id != session_id
    ):
        return []
    return [exam_still_not_kept(at, event.still.still_id)]


def translate_call_event(event: object, at: datetime) -> list[ev.Event]:
    match event:
        case call.DoctorIdentified(doctor=doctor):
            return [ev.CallStarted(at, doctor_rpps=doctor.rpps)]
        case call.DocumentReceived(document=document):
            return [
                ev.DocumentReceived(at, document_id=document.document_id, kind=document.kind.value)
            ]
        case call.CallEnded() as ended:
            if ended.reason is call.EndReason.SIGNALLING_UNREACHABLE:
                return [ev.PlatformUnreachable(at), ev.CallDropped(at)]
            if ended.degraded:
                return [ev.CallDropped(at)]
            if ended.reason is call.EndReason.DOCTOR_HUNG_UP:
                return [ev.CallEnded(at)]
            return []  # the patient hung up or the kiosk cancelled: the flow already knows
        case _:
            return []


# ---- what the call screen says about the connection (CallView.quality) -------------------

CALL_STATUS_DOCTOR_LOST = "call.status.doctor_lost"
"""'La connexion avec le médecin est interrompue. Restez assis, nous essayons de la rétablir.'"""
CALL_STATUS_DOCTOR_BACK = "call.status.doctor_back"
"""'La connexion avec le médecin est rétablie.' — shown for `DOCTOR_BACK_SHOWN_S`."""
CALL_STATUS_AUDIO_ONLY = "call.quality.poor"
"""'La connexion est faible : le son continue, l'image est coupée.' (existing id)."""

DOCTOR_BACK_SHOWN_S = 8.0


@dataclass
class CallStatusBoard:
    """The one sentence the call screen shows about the connection, as a message id,
    and what the doctor switched off (`doctor_media`).

    Why a small stateful board rather than a field of each event: the screen
    needs the *current* sentence at every refresh, and "doctor back" must go
    away by itself after a few seconds. Feed it every call event (with a
    monotonic time); read `message_id(now)` and `doctor_media()` when the view
    is built. The doctor's lost connection outranks the audio-only note and
    her camera or microphone switched off. No Qt, no clock of its own: the
    controller owns time.

    Why her media state is forgotten when the connection is lost: she says it
    only when she touches a switch (the console's "media" message), and after
    a loss her page may have been reloaded with camera and microphone on. A
    remembered "camera off" would then hide her live face behind the
    placeholder for the rest of the call; a forgotten one costs at worst the
    frame watchdog's words until she says it again.
    """

    lost: bool = False
    back_until: float | None = None
    audio_only: bool = False
    camera_off: bool = False  # the doctor's own switches, as she last said them
    muted: bool = False

    def feed(self, event: object, now: float) -> bool:
        """Take one call event; True when the sentence or the doctor's media may have changed
        (publish the view)."""
        before = (self.message_id(now), self.doctor_media())
        match event:
            case call.ConnectionStatusChanged(status=call.ConnectionStatus.DOCTOR_LOST):
                self.lost, self.back_until = True, None
                self.camera_off = self.muted = False  # unknown until she says it again
            case call.ConnectionStatusChanged(status=call.ConnectionStatus.DOCTOR_BACK):
                self.lost, self.back_until = False, now + DOCTOR_BACK_SHOWN_S
            case call.RemoteMediaState(muted=muted, camera_off=camera_off):
                self.camera_off, self.muted = camera_off, muted
            case call.Incident(code=call.IncidentCode.AUDIO_ONLY_FALLBACK):
                self.audio_only = True
            case call.Incident(code=call.IncidentCode.VIDEO_RESTORED):
                self.audio_only = False
            case call.CallEnded():
                self.clear()
            case _:
                return False
        return (self.message_id(now), self.doctor_media()) != before

    def doctor_media(self) -> DoctorMedia:
        """What the call screen says the doctor switched off; nothing while she is lost."""
        if self.lost:
            return DoctorMedia()
        return DoctorMedia(camera_off=self.camera_off, muted=self.muted)

    def message_id(self, now: float) -> str | None:
        if self.lost:
            return CALL_STATUS_DOCTOR_LOST
        if self.back_until is not None and now < self.back_until:
            return CALL_STATUS_DOCTOR_BACK
        if self.audio_only:
            return CALL_STATUS_AUDIO_ONLY
        return None

    def clear(self) -> None:
        """A new call (or the wipe) starts with nothing to say."""
        self.lost, self.back_until, self.audio_only = False, None, False
        self.camera_off = self.muted = False
