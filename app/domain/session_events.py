"""What can happen to a session: the events the session flow is fed.

Every event is a frozen dataclass carrying `at`, an aware datetime given by
the session controller: the flow never reads a clock, so inactivity and
countdowns are computed from event times and tests need no sleeping.

`ORIGIN` says who produces the event, because that decides which state it is
checked against:
- PERSON events come from a touch on the screen shown (patient or assisting
  professional); they are checked against the state on display (a dialog
  such as STOP_CONFIRM hides the step beneath it) and count as activity.
- SYSTEM events come from devices, the card reader, the call, the platform,
  the store or the clock; they are checked against the step underneath any
  dialog (a reading that arrives while "are you still there?" is shown is
  still a reading).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar

from app.domain.consent import ConsentDecision
from app.domain.emergency import RedFlag
from app.domain.errors import DomainError
from app.domain.identity import PatientIdentity
from app.domain.measurements import ImplausibleReason, Measurement, MeasurementKind
from app.domain.orientation import OrientationAnswers
from app.domain.visit_reason import VisitReason, check_reasons, clean_text


class Origin(enum.Enum):
    PERSON = "person"
    SYSTEM = "system"


class InvalidEvent(DomainError):
    """An event that cannot exist (e.g. a time with no time zone)."""


@dataclass(frozen=True, slots=True)
class Event:
    at: datetime
    ORIGIN: ClassVar[Origin] = Origin.SYSTEM
    ACTIVITY: ClassVar[bool] = False  # does it prove someone is at the screen?

    def __post_init__(self) -> None:
        if self.at.utcoffset() is None:
            raise InvalidEvent(f"{type(self).__name__} needs a time with a time zone.")


@dataclass(frozen=True, slots=True)
class PersonEvent(Event):
    ORIGIN: ClassVar[Origin] = Origin.PERSON
    ACTIVITY: ClassVar[bool] = True


@dataclass(frozen=True, slots=True)
class Accessibility:
    large_text: bool = False
    high_contrast: bool = False
    audio_guidance: bool = False
    easy_read: bool = False
    hearing_impaired: bool = False  # 114 shown first in an emergency


# --- person events -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ChooseLanguage(PersonEvent):
    language: str


@dataclass(frozen=True, slots=True)
class SetAccessibility(PersonEvent):
    options: Accessibility


@dataclass(frozen=True, slots=True)
class Begin(PersonEvent):
    session_id: str


@dataclass(frozen=True, slots=True)
class EmergencyAnswered(PersonEvent):
    """The red-flag questions answered: the flags answered yes (empty: none)."""

    flags: frozenset[RedFlag] = field(default=frozenset(), repr=False)


@dataclass(frozen=True, slots=True)
class EmergencyDeclared(PersonEvent):
    """The "I need urgent help" button, present on every screen of a session."""

    flags: frozenset[RedFlag] = field(default=frozenset(), repr=False)


@dataclass(frozen=True, slots=True)
class InformationAcknowledged(PersonEvent):
    pass


@dataclass(frozen=True, slots=True)
class BeneficiaryChosen(PersonEvent):
    index: int


@dataclass(frozen=True, slots=True)
class IdentityConfirmed(PersonEvent):
    pass


@dataclass(frozen=True, slots=True)
class IdentityRejected(PersonEvent):
    """The patient says "this is not me"."""


@dataclass(frozen=True, slots=True)
class ConsentDecided(PersonEvent):
    decision: ConsentDecision


@dataclass(frozen=True, slots=True)
class ConsentDone(PersonEvent):
    pass


@dataclass(frozen=True, slots=True)
class OrientationAnswered(PersonEvent):
    answers: OrientationAnswers = field(repr=False)


@dataclass(frozen=True, slots=True)
class VisitReasonGiven(PersonEvent):
    """Why the patient came: up to 3 choices and a short text; none of both: "I'll tell the doctor".

    The text is checked here (at most MAX_TEXT_LENGTH once stripped) and
    cleaned by the flow (stripped, empty → None). Health data: no repr.
    """

    reasons: tuple[VisitReason, ...] = field(default=(), repr=False)
    text: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        Event.__post_init__(self)
        check_reasons(self.reasons)
        clean_text(self.text)


@dataclass(frozen=True, slots=True)
class StartMeasurement(PersonEvent):
    kind: MeasurementKind


@dataclass(frozen=True, slots=True)
class SkipMeasurement(PersonEvent):
    kind: MeasurementKind


@dataclass(frozen=True, slots=True)
class MeasurementsDone(PersonEvent):
    pass


class DegradedOption(enum.StrEnum):
    RETRY = "retry"  # try the device / the platform / the call again
    MANUAL_ENTRY = "manual-entry"  # an assisting professional types the value
    SKIP = "skip"  # go on without this measurement
    FINISH = "finish"  # go to the end without (more of) the call


@dataclass(frozen=True, slots=True)
class DegradedChoice(PersonEvent):
    option: DegradedOption


@dataclass(frozen=True, slots=True)
class HangUp(PersonEvent):
    pass


@dataclass(frozen=True, slots=True)
class Finish(PersonEvent):
    """Leave the end screen (or the emergency screen): the session is wiped."""


@dataclass(frozen=True, slots=True)
class StillHere(PersonEvent):
    pass


@dataclass(frozen=True, slots=True)
class StopRequested(PersonEvent):
    pass


@dataclass(frozen=True, slots=True)
class StopConfirmed(PersonEvent):
    pass


@dataclass(frozen=True, slots=True)
class StopCancelled(PersonEvent):
    pass


@dataclass(frozen=True, slots=True)
class ContinueWithoutCard(PersonEvent):
    pass


@dataclass(frozen=True, slots=True)
class Touched(PersonEvent):
    """Any touch or key on the screen (keyboard taps, scrolling): someone is there.

    Accepted in every state, changes nothing but the inactivity clock, and
    adds no trace entry (a touch is not an act).
    """


# --- system events -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Tick(Event):
    """The controller's clock, every second or so: lets the flow judge inactivity."""


class IdentitySource(enum.StrEnum):
    CARD = "card"
    QR = "qr"
    MANUAL = "manual"  # typed by an assisting professional


@dataclass(frozen=True, slots=True)
class IdentityObtained(Event):
    """A card, QR code or manual entry gave one or more identities (beneficiaries)."""

    ACTIVITY: ClassVar[bool] = True
    candidates: tuple[PatientIdentity, ...] = field(repr=False)
    source: IdentitySource
    entered_by: str | None = None  # the professional's account id, for MANUAL


class IdentificationProblem(enum.StrEnum):
    CARD_UNREADABLE = "card-unreadable"
    CARD_EXPIRED = "card-expired"
    QR_INVALID = "qr-invalid"
    TEST_IDENTITY_IN_PRODUCTION = "test-identity-in-production"
    NO_BENEFICIARY = "no-beneficiary"
    NOT_RECOGNISED = "not-recognised"  # the patient said "this is not me"


@dataclass(frozen=True, slots=True)
class IdentificationFailed(Event):
    problem: IdentificationProblem


@dataclass(frozen=True, slots=True)
class IdentityUpdated(Event):
    """INSi answered (PROV → RECUP) or a professional checked a document (→ VALI/QUAL)."""

    identity: PatientIdentity = field(repr=False)


@dataclass(frozen=True, slots=True)
class CardInserted(Event):
    ACTIVITY: ClassVar[bool] = True


@dataclass(frozen=True, slots=True)
class CardRemoved(Event):
    ACTIVITY: ClassVar[bool] = True


@dataclass(frozen=True, slots=True)
class CardIdentified(Event):
    """The card in the reader was read: `fingerprint` tells one card from another.

    An opaque digest the controller computes from the card's contents (never
    the NIR itself, never logged); the flow only compares two of them. It
    comes before the identities read from the same card.
    """

    fingerprint: str = field(repr=False)

    def __post_init__(self) -> None:
        Event.__post_init__(self)
        if not self.fingerprint:
            raise InvalidEvent("CardIdentified needs a card fingerprint.")


@dataclass(frozen=True, slots=True)
class MeasurementTaken(Event):
    """A checked measurement (from a device, or typed by a professional)."""

    ACTIVITY: ClassVar[bool] = True
    measurement: Measurement = field(repr=False)


@dataclass(frozen=True, slots=True)
class MeasurementRejected(Event):
    """A reading refused as implausible: traced (without the value), measure again."""

    ACTIVITY: ClassVar[bool] = True
    kind: MeasurementKind
    reason: ImplausibleReason


@dataclass(frozen=True, slots=True)
class DeviceFailed(Event):
    kind: MeasurementKind
    device_id: str
    # the device sent only records stamped before this session (drivers' STALE_READING):
    # a monitor's stored old readings, refused; the patient is told to measure now
    old_record_only: bool = False


@dataclass(frozen=True, slots=True)
class PlatformUnreachable(Event):
    pass


@dataclass(frozen=True, slots=True)
class PlatformReachable(Event):
    pass


@dataclass(frozen=True, slots=True)
class CallMediaCheckFailed(Event):
    """The waiting room's checks found the cabin's camera, microphone or speaker not working.

    Not `PlatformUnreachable`: the platform may be fine, and the patient must
    be told what really happened (the cabin's own equipment). `problems` are
    the call module's incident codes (`camera-unavailable`…), never a value.
    """

    problems: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CallStarted(Event):
    """The doctor joined, authenticated; their RPPS number is shown to the patient first."""

    doctor_rpps: str


@dataclass(frozen=True, slots=True)
class CallEnded(Event):
    """The doctor ended the call."""


@dataclass(frozen=True, slots=True)
class CallDropped(Event):
    """The call was lost and could not be reconnected in time."""


@dataclass(frozen=True, slots=True)
class DocumentReceived(Event):
    document_id: str
    kind: str  # e.g. "prescription", "report", "sick-note"


@dataclass(frozen=True, slots=True)
class PaymentDone(Event):
    reference: str


@dataclass(frozen=True, slots=True)
class WipeDone(Event):
    """The controller has erased the session from memory and screen."""
