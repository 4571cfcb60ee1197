"""The states of a session and what the flow remembers about it.

`SessionContext` is immutable: the flow builds a new one for every accepted
event and swaps it in at the very end, so an event that is refused (or a
handler that raises) leaves the old one untouched. Fields holding health
data are kept out of repr.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from app.domain.consent import ConsentDecision, teleconsultation_granted
from app.domain.emergency import EmergencyNumber, RedFlag
from app.domain.identity import PatientIdentity
from app.domain.measurements import Measurement, MeasurementKind
from app.domain.mode import RunMode
from app.domain.orientation import OrientationResult
from app.domain.session_effects import DegradedReason, EndReason
from app.domain.session_events import (
    Accessibility,
    DegradedOption,
    IdentificationProblem,
    IdentitySource,
)
from app.domain.trace import TraceEntry
from app.domain.visit_reason import VisitReasonAnswer


class State(enum.StrEnum):
    # the steps of the patient's way through
    WELCOME = "welcome"
    EMERGENCY_CHECK = "emergency-check"
    INFORMATION = "information"
    IDENTIFICATION = "identification"
    BENEFICIARY_CHOICE = "beneficiary-choice"
    IDENTITY_CONFIRMATION = "identity-confirmation"
    CONSENT = "consent"
    ORIENTATION = "orientation"
    VISIT_REASON = "visit-reason"
    MEASUREMENTS = "measurements"
    WAITING_ROOM = "waiting-room"
    CALL = "call"
    END = "end"
    TAKE_CARD = "take-card"  # the session is over; the card is still in: wait for it, then wipe
    WIPE = "wipe"
    # steps off the way
    DEGRADED = "degraded"
    EMERGENCY_EXIT = "emergency-exit"
    # dialogs shown over a step (they stack; the step stays underneath)
    STOP_CONFIRM = "stop-confirm"
    INACTIVITY_WARNING = "inactivity-warning"
    CARD_REMOVED_PAUSE = "card-removed-pause"
    CARD_CHANGED = "card-changed"  # another card than the session's was put in the reader


DIALOGS = frozenset(
    {
        State.STOP_CONFIRM,
        State.INACTIVITY_WARNING,
        State.CARD_REMOVED_PAUSE,
        State.CARD_CHANGED,
    }
)
STEPS = frozenset(State) - DIALOGS
#: Steps of a running session (a patient is in the cabin; TAKE_CARD is its last one).
SESSION_STEPS = STEPS - {State.WELCOME, State.WIPE}
#: Every state a patient can see during a session: stop is offered on all of them
#: (not in TAKE_CARD: the session is already closing, only the card is awaited).
PATIENT_FACING = (SESSION_STEPS - {State.TAKE_CARD}) | DIALOGS


@dataclass(frozen=True, slots=True)
class FlowSettings:
    """Plain values from the site configuration (the domain reads no config object)."""

    mode: RunMode = RunMode.PRODUCTION
    languages: tuple[str, ...] = ("fr",)
    default_language: str = "fr"
    inactivity_warning_s: float = 60.0
    inactivity_countdown_s: float = 30.0
    card_removed_grace_s: float = 60.0
    end_reading_s: float = 180.0  # the end screen (card, documents' QR codes) before any warning
    message_reading_s: float = 120.0  # DEGRADED and EMERGENCY_EXIT messages before any warning
    take_card_s: float = 90.0  # how long the closing session waits for the card to be taken
    max_wait_s: float = 1200.0  # the waiting room's maximum wait before the degraded path
    # A measurement with no reading and no failure after this long: the device is taken as
    # failed (the patient is never left on "measuring" with no way on). A cuff takes ~1 min.
    measure_max_s: float = 180.0


@dataclass(frozen=True, slots=True)
class Degraded:
    reason: DegradedReason
    options: tuple[DegradedOption, ...]
    device_kind: MeasurementKind | None = None  # for DEVICE_FAILED
    old_record_only: bool = False  # DEVICE_FAILED: only a stored old record came (own sentence)


@dataclass(frozen=True, slots=True)
class SessionContext:
    step: State = State.WELCOME
    dialogs: tuple[State, ...] = ()  # bottom to top
    language: str = "fr"
    accessibility: Accessibility = Accessibility()
    platform_reachable: bool = True  # kept across sessions: it is the cabin's, not the patient's
    last_activity_at: datetime | None = None  # the last touch (any activity event)
    idle_since: datetime | None = None  # the last new screen or end of a no-touch phase
    warning_started_at: datetime | None = None
    # the card in the reader (the cabin's, kept across sessions)
    card_present: bool = False
    card_stale: bool = False  # left in the reader by a closed session: to be taken, never used
    reader_card: str | None = field(default=None, repr=False)  # fingerprint of the card read
    # the session
    session_id: str | None = None
    started_at: datetime | None = None
    red_flags: frozenset[RedFlag] = field(default=frozenset(), repr=False)
    emergency_numbers: tuple[EmergencyNumber, ...] = ()
    information_acknowledged: bool = False
    identity_source: IdentitySource | None = None
    candidates: tuple[PatientIdentity, ...] = field(default=(), repr=False)
    identity: PatientIdentity | None = field(default=None, repr=False)
    identity_confirmed: bool = False
    identification_problem: IdentificationProblem | None = None
    session_card: str | None = field(default=None, repr=False)  # fingerprint: identity's card
    consents: tuple[ConsentDecision, ...] = ()
    orientation: OrientationResult | None = field(default=None, repr=False)
    visit_reason: VisitReasonAnswer | None = field(default=None, repr=False)
    measurements: tuple[Measurement, ...] = field(default=(), repr=False)
    active_device: MeasurementKind | None = None
    measuring_since: datetime | None = None  # when the active device was started
    manual_entry_for: MeasurementKind | None = None
    skipped: frozenset[MeasurementKind] = frozenset()
    degraded: Degraded | None = None
    waiting_since: datetime | None = None  # first entry into the waiting room (time waited)
    wait_started_at: datetime | None = None  # this stay in the waiting room (maximum wait)
    doctor_rpps: str | None = None
    call_started_at: datetime | None = None
    call_ended_at: datetime | None = None
    documents: tuple[str, ...] = ()
    payment_reference: str | None = None
    end_reason: EndReason | None = None
    take_card_since: datetime | None = None  # TAKE_CARD entered
    trace: tuple[TraceEntry, ...] = ()

    @property
    def state(self) -> State:
        """What is on screen: the top dialog, or the step."""
        return self.dialogs[-1] if self.dialogs else self.step

    @property
    def teleconsultation_granted(self) -> bool:
        return teleconsultation_granted(self.consents)

    @property
    def call_in_progress(self) -> bool:
        return self.call_started_at is not None and self.call_ended_at is None

    @property
    def card_to_take(self) -> bool:
        """A card sits in the reader and the screen must ask for it to be taken.

        At the end, on the emergency screen and while the closing session
        waits (TAKE_CARD); and whenever the card was left by a closed session
        (`card_stale`: on the welcome and identification screens it is a
        stranger's card, never to be read for the next patient).
        """
        if not self.card_present:
            return False
        return self.card_stale or self.step in (State.END, State.EMERGENCY_EXIT, State.TAKE_CARD)

    @property
    def card_ready(self) -> bool:
        """A card just put in the reader before any session: the welcome screen offers to begin."""
        return self.card_present and not self.card_stale and self.step is State.WELCOME

    def idle_origin(self) -> datetime | None:
        """Idle time runs from the later of the last touch and the last new screen."""
        times = [t for t in (self.last_activity_at, self.idle_since) if t is not None]
        return max(times) if times else None

    def take_card_deadline(self, settings: FlowSettings) -> datetime | None:
        """When the closing session stops waiting for the card (TAKE_CARD)."""
        if self.step is not State.TAKE_CARD or self.take_card_since is None:
            return None
        return self.take_card_since + timedelta(seconds=settings.take_card_s)

    def wait_deadline(self, settings: FlowSettings) -> datetime | None:
        """When the waiting room gives up (the site's maximum wait), while in it."""
        if self.step is not State.WAITING_ROOM or self.wait_started_at is None:
            return None
        return self.wait_started_at + timedelta(seconds=settings.max_wait_s)

    def warning_deadline(self, settings: FlowSettings) -> datetime | None:
        """When the inactivity countdown runs out (for the UI's countdown)."""
        if self.warning_started_at is None or State.INACTIVITY_WARNING not in self.dialogs:
            return None
        return self.warning_started_at + timedelta(seconds=settings.inactivity_countdown_s)
