"""What the call reports, as the session flow hears it.

Why so few: the flow only needs to know that a doctor joined (with the RPPS
the platform vouches for), that a document came, and how the call ended.
Quality, media and signalling incidents are the call's own business: the
controller logs their codes and the view shows the doctor's identity.
"""

from __future__ import annotations

from datetime import datetime

from app.call import events as call
from app.domain import session_events as ev


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
