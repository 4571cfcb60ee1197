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
    MEASUREMENTS = "measurements"
    WAITING_ROOM = "waiting-room"
    CALL = "call"
    END = "end"
    WIPE = "wipe"
    # steps off the way
    DEGRADED = "degraded"
    EMERGENCY_EXIT = "emergency-exit"
    # dialogs shown over a step (they stack; the step stays underneath)
    STOP_CONFIRM = "stop-confirm"
    INACTIVITY_WARNING = "inactivity-warning"
    CARD_REMOVED_PAUSE = "card-removed-pause"


DIALOGS = frozenset({State.STOP_CONFIRM, State.INACTIVITY_WARNING, State.CARD_REMOVED_PAUSE})
STEPS = frozenset(State) - DIALOGS
#: Steps of a running session (a patient is in the cabin).
SESSION_STEPS = STEPS - {State.WELCOME, State.WIPE}
#: Every state a patient can see during a session: stop is offered on all of them.
PATIENT_FACING = SESSION_STEPS | DIALOGS


@dataclass(frozen=True, slots=True)
class FlowSettings:
    """Plain values from the site configuration (the domain reads no config object)."""

    mode: RunMode = RunMode.PRODUCTION
    languages: tuple[str, ...] = ("fr",)
    default_language: str = "fr"
    inactivity_warning_s: float = 60.0
    inactivity_countdown_s: float = 30.0
    card_removed_grace_s: float = 60.0


@dataclass(frozen=True, slots=True)
class Degraded:
    reason: DegradedReason
    options: tuple[DegradedOption, ...]
    device_kind: MeasurementKind | None = None  # for DEVICE_FAILED


@dataclass(frozen=True, slots=True)
class SessionContext:
    step: State = State.WELCOME
    dialogs: tuple[State, ...] = ()  # bottom to top
    language: str = "fr"
    accessibility: Accessibility = Accessibility()
    platform_reachable: bool = True  # kept across sessions: it is the cabin's, not the patient's
    last_activity_at: datetime | None = None
    warning_started_at: datetime | None = None
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
    card_present: bool = False
    consents: tuple[ConsentDecision, ...] = ()
    orientation: OrientationResult | None = field(default=None, repr=False)
    measurements: tuple[Measurement, ...] = field(default=(), repr=False)
    active_device: MeasurementKind | None = None
    manual_entry_for: MeasurementKind | None = None
    skipped: frozenset[MeasurementKind] = frozenset()
    degraded: Degraded | None = None
    doctor_rpps: str | None = None
    call_started_at: datetime | None = None
    call_ended_at: datetime | None = None
    documents: tuple[str, ...] = ()
    payment_reference: str | None = None
    end_reason: EndReason | None = None
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

    def warning_deadline(self, settings: FlowSettings) -> datetime | None:
        """When the inactivity countdown runs out (for the UI's countdown)."""
        if self.warning_started_at is None or State.INACTIVITY_WARNING not in self.dialogs:
            return None
        return self.warning_started_at + timedelta(seconds=settings.inactivity_countdown_s)
