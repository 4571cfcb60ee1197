"""What the call tells the session controller, as frozen dataclasses.

The controller traces every Incident into the act's trace (CSP R.6316-4) and
moves the UI on the others. Incident details are codes, counts and durations
only: never chat text, document contents or anything about the patient.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from app.call.documents import ReceivedDocument
from app.call.exam_still import ExamStill
from app.call.messages import DoctorIdentity
from app.call.quality import QualityLevel, QualitySample
from app.call.state import CallState


class IncidentCode(enum.StrEnum):
    CAMERA_UNAVAILABLE = "camera-unavailable"
    MICROPHONE_UNAVAILABLE = "microphone-unavailable"
    MICROPHONE_SILENT = "microphone-silent"
    SPEAKER_UNAVAILABLE = "speaker-unavailable"
    SIGNALLING_UNREACHABLE = "signalling-unreachable"
    SIGNALLING_LOST = "signalling-lost"
    SIGNALLING_RESTORED = "signalling-restored"
    SIGNALLING_PROTOCOL = "signalling-protocol"
    DOCTOR_LEFT = "doctor-left"
    DOCTOR_RETURNED = "doctor-returned"
    MEDIA_STALLED = "media-stalled"
    ICE_FAILED = "ice-failed"
    RECONNECTING = "reconnecting"
    RECONNECTED = "reconnected"
    RECONNECT_TIMEOUT = "reconnect-timeout"
    QUALITY_POOR = "quality-poor"
    AUDIO_ONLY_FALLBACK = "audio-only-fallback"
    VIDEO_RESTORED = "video-restored"
    VIDEO_REDUCED = "video-reduced"  # one rung down the ladder: smaller or fewer frames sent
    VIDEO_RAISED = "video-raised"  # one rung back up
    DOCUMENT_REJECTED = "document-rejected"
    DATA_CHANNEL_PROTOCOL = "data-channel-protocol"
    EXAM_DEVICE_UNAVAILABLE = "exam-device-unavailable"  # a stethoscope or otoscope cannot open
    EXAM_STILL_FAILED = "exam-still-failed"


class EndReason(enum.StrEnum):
    PATIENT_HUNG_UP = "patient-hung-up"
    DOCTOR_HUNG_UP = "doctor-hung-up"
    RECONNECT_TIMEOUT = "reconnect-timeout"
    SIGNALLING_UNREACHABLE = "signalling-unreachable"
    CANCELLED = "cancelled"


class ConnectionStatus(enum.StrEnum):
    """What the patient is told about the doctor's connection during the call."""

    DOCTOR_LOST = "doctor-lost"  # the doctor's page or network went; the kiosk keeps waiting
    DOCTOR_BACK = "doctor-back"  # media flow again after a loss


DEGRADED_REASONS: frozenset[EndReason] = frozenset(
    {EndReason.RECONNECT_TIMEOUT, EndReason.SIGNALLING_UNREACHABLE}
)
"""End reasons that send the patient down the degraded path (HAS procedure)."""


@dataclass(frozen=True)
class StateChanged:
    state: CallState


@dataclass(frozen=True)
class DoctorIdentified:
    """Always emitted before RemoteMediaStarted: the patient knows who before seeing them."""

    doctor: DoctorIdentity


@dataclass(frozen=True)
class RemoteMediaStarted:
    kind: str  # "video" or "audio"
    seconds_since_doctor_joined: float


@dataclass(frozen=True)
class QualityChanged:
    level: QualityLevel
    sample: QualitySample


@dataclass(frozen=True)
class TextReceived:
    text: str = field(repr=False)  # free text: may say anything about the patient
    sender: str


@dataclass(frozen=True)
class RemoteMediaState:
    muted: bool
    camera_off: bool
    audio_only: bool


@dataclass(frozen=True)
class DocumentReceived:
    document: ReceivedDocument


@dataclass(frozen=True)
class Incident:
    code: IncidentCode
    detail: dict[str, str | int | float] = field(default_factory=dict)


@dataclass(frozen=True)
class ConnectionStatusChanged:
    """The doctor's connection was lost (reconnection window open) or is back (media flow).

    Emitted only once a doctor has joined: before that there is nobody to lose.
    `window_s` is how long the kiosk keeps waiting before the degraded path.
    """

    status: ConnectionStatus
    window_s: float = 0.0


@dataclass(frozen=True)
class ExamDeviceChanged:
    """The doctor switched an examination device on or off (the patient's screen says where)."""

    device: str  # an app.call.exam.ExamDevice value
    on: bool


@dataclass(frozen=True)
class ExamStillKept:
    """The doctor took a still from the otoscope; kept in the store (app/call/exam_keeper.py)."""

    still: ExamStill
    session_id: str = ""  # the kiosk's session the still belongs to


@dataclass(frozen=True)
class CallEnded:
    reason: EndReason
    documents: tuple[ReceivedDocument, ...] = ()

    @property
    def degraded(self) -> bool:
        return self.reason in DEGRADED_REASONS


CallEvent = (
    StateChanged
    | DoctorIdentified
    | RemoteMediaStarted
    | QualityChanged
    | TextReceived
    | RemoteMediaState
    | DocumentReceived
    | Incident
    | ConnectionStatusChanged
    | ExamDeviceChanged
    | ExamStillKept
    | CallEnded
)
