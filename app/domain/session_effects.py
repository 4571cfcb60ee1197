"""What the session flow asks the session controller to do.

The flow decides; the controller acts (starts a device, writes to the
encrypted store, opens the call, wipes). Effects are returned in the order
they must be carried out: facts and trace entries are written before a
`Wipe`, so nothing the doctor or the trace needs is lost when the screen is
cleared.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from app.domain.consent import ConsentDecision
from app.domain.identity import PatientIdentity
from app.domain.measurements import Measurement, MeasurementKind
from app.domain.orientation import OrientationResult
from app.domain.session_events import DegradedOption
from app.domain.trace import TraceEntry
from app.domain.visit_reason import VisitReasonAnswer


class EndReason(enum.StrEnum):
    COMPLETED = "completed"  # the end screen was left normally
    STOPPED = "stopped"  # the patient stopped and confirmed
    ABANDONED = "abandoned"  # inactivity countdown ran out
    EMERGENCY = "emergency"  # emergency exit


class DegradedReason(enum.StrEnum):
    PLATFORM_UNREACHABLE = "platform-unreachable"
    DEVICE_FAILED = "device-failed"
    CALL_DROPPED = "call-dropped"
    CABIN_MEDIA_FAILED = "cabin-media-failed"  # the cabin's camera, microphone or speaker
    WAIT_TOO_LONG = "wait-too-long"  # no doctor within the site's maximum wait


@dataclass(frozen=True, slots=True)
class PaymentRecord:
    reference: str


@dataclass(frozen=True, slots=True)
class DocumentRecord:
    document_id: str
    kind: str


Fact = (
    TraceEntry
    | PatientIdentity
    | ConsentDecision
    | OrientationResult
    | Measurement
    | PaymentRecord
    | DocumentRecord
    | VisitReasonAnswer
)


@dataclass(frozen=True, slots=True)
class WriteToStore:
    """Keep this fact of the session (encrypted; sent to the platform later)."""

    session_id: str
    fact: Fact = field(repr=False)


@dataclass(frozen=True, slots=True)
class QueryInsi:
    """Ask the platform's INSi teleservice for the chosen identity's INS."""


@dataclass(frozen=True, slots=True)
class ReadCard:
    """Use the card already in the reader (inserted before the session reached identification).

    The controller gives the flow that card's read again (it keeps the last
    read only while the card stays in), or has the reader read it anew.
    """


@dataclass(frozen=True, slots=True)
class StartDevice:
    kind: MeasurementKind


@dataclass(frozen=True, slots=True)
class StopDevices:
    pass


@dataclass(frozen=True, slots=True)
class OpenCall:
    """Join the platform's waiting room and wait for a doctor."""


@dataclass(frozen=True, slots=True)
class EndCall:
    pass


@dataclass(frozen=True, slots=True)
class ShowDegraded:
    reason: DegradedReason
    options: tuple[DegradedOption, ...]


@dataclass(frozen=True, slots=True)
class Wipe:
    """Erase the session from memory and screen (the store keeps what must be sent)."""

    session_id: str
    reason: EndReason


Effect = (
    WriteToStore
    | QueryInsi
    | ReadCard
    | StartDevice
    | StopDevices
    | OpenCall
    | EndCall
    | ShowDegraded
    | Wipe
)
