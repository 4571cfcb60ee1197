"""What the UI shows: the flow's state and context, plus what only the controller knows.

Why a view object: the UI never asks the flow or a driver anything; it gets
one immutable snapshot per change and draws it. `choices` lists the person
events the flow takes now, so a button is enabled exactly when its choice
would be accepted (the UI takes no decision).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from app.call.documents import DocumentKind
from app.call.messages import DoctorIdentity
from app.domain.session_context import SessionContext, State
from app.domain.session_events import Event
from app.domain.trace import IncidentCode


class DeviceStatus(enum.StrEnum):
    STARTING = "starting"  # the controller asked the device to start
    CONNECTED = "connected"
    MEASURING = "measuring"


class Notice(enum.StrEnum):
    """A calm message the UI shows over the current screen (translated by id)."""

    FAULT = "fault"  # something unexpected happened; the session was closed safely
    STORE_DELAYED = "store-delayed"  # the encrypted store is slow to answer; data kept in memory


class AssistAct(enum.StrEnum):
    """An act of the professional beside the patient, whose result the screen shows."""

    SIGN_IN = "sign-in"
    MEASUREMENT = "measurement"  # a value typed for a device that could not measure
    IDENTITY = "identity"  # an identity typed for a patient without a card
    DOCUMENT_CHECK = "document-check"


class PrintStatus(enum.StrEnum):
    """What the end screen's "Print" did (the screen says it in a plain sentence)."""

    NO_PRINTER = "no-printer"  # the cabin has no printer: the QR codes are the way
    PRINTING = "printing"  # the documents are going to the printer now
    PRINTED = "printed"  # every document came out
    OUT_OF_PAPER = "out-of-paper"  # the printer has no paper (ask the pharmacist; QR codes)
    OFFLINE = "offline"  # the printer is off, stopped or unreachable
    FAILED = "failed"  # the print did not come out (or only part of it)


@dataclass(frozen=True, slots=True)
class AssistNews:
    """The result of the professional's last act (the screen applies each `number` once)."""

    number: int
    act: AssistAct
    ok: bool


@dataclass(frozen=True, slots=True)
class ChatLine:
    """One line of the call's text chat, as the controller heard or sent it (session-lived)."""

    from_doctor: bool
    text: str = field(repr=False)  # free text: may say anything about the patient


@dataclass(frozen=True, slots=True)
class SessionDocument:
    """A document the doctor sent during the call, for the end screen (session-lived).

    `link` is the patient's page the platform minted for it (the QR code), or
    None until the platform answered (or when it did not).
    """

    document_id: str
    kind: DocumentKind
    title: str = field(repr=False)
    link: str | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class AssistantView:
    """The professional signed in for assisted acts (shown on screen, no secret)."""

    username: str
    display_name: str
    role: str
    expires_at: datetime | None = None  # the sign-in ends then (idle), or after the one act


@dataclass(frozen=True, slots=True)
class LiveMeasure:
    """What a device shows while it measures (issue 16): never stored, gone with the measurement.

    `cuff_pressure`: the cuff's pressure while it inflates and deflates (Intermediate
    Cuff Pressure); `pleth`: the oximeter's last plethysmogram samples (0-100), oldest
    first; `finger_present` / `probe_unplugged` as the oximeter says them.
    """

    cuff_pressure: Decimal | None = None
    cuff_unit: str = "mm[Hg]"
    pleth: tuple[int, ...] = ()
    pleth_rate_hz: int = 100
    finger_present: bool = True
    probe_unplugged: bool = False


@dataclass(frozen=True, slots=True)
class DoctorMedia:
    """What the doctor chose to switch off during the call, as the call screen should say it.

    Her choice, not a fault: the screen says "the doctor switched her camera off"
    rather than "the picture is paused, reconnecting". Both False while the
    connection with her is lost (the lost-connection words say why then) and
    when nothing is known (no call, or a new connection she has not spoken on).
    """

    camera_off: bool = False
    muted: bool = False


@dataclass(frozen=True, slots=True)
class SessionView:
    revision: int
    state: State  # what is on screen (a dialog, or the step)
    step: State  # the step under any dialog
    context: SessionContext = field(repr=False)
    choices: frozenset[type[Event]]
    countdown_deadline: datetime | None = None  # end of the inactivity countdown
    device_status: DeviceStatus | None = None
    doctor: DoctorIdentity | None = field(default=None, repr=False)
    assistant: AssistantView | None = None
    notice: Notice | None = None
    insi_outcome: IncidentCode | None = None  # INSi's failed answer, for the professional
    card_to_take: bool = False  # ask for the card in the reader to be taken (voice + picture)
    card_ready: bool = False  # a card just put in at welcome: offer to begin with it
    take_card_deadline: datetime | None = None  # TAKE_CARD: when the session stops waiting
    waiting_since: datetime | None = None  # first entry into the waiting room (time waited)
    wait_deadline: datetime | None = None  # WAITING_ROOM: when the maximum wait runs out
    call_status: str | None = (
        None  # a call.status.* / call.quality.* message id (doctor lost, back)
    )
    doctor_media: DoctorMedia = DoctorMedia()  # her camera or microphone switched off (issue 17)
    # The call's news, owned by the controller and dropped at the wipe (issue 18 §3):
    # the chat both ways and the doctor's documents with their patient links.
    chat: tuple[ChatLine, ...] = field(default=(), repr=False)
    assist_news: AssistNews | None = None  # the professional's last act: done or refused
    documents: tuple[SessionDocument, ...] = field(default=(), repr=False)
    live: LiveMeasure | None = field(default=None, repr=False)  # a device measuring now
    printing: PrintStatus | None = None  # the end screen's "Print", once touched
    # The patient's help call (issue 15): the catalogue id of the sentence the Help page
    # shows (help.call.called / .coming / .offline), None when no call is under way.
    help_call: str | None = None

    def countdown_s(self, now: datetime) -> int | None:
        """Whole seconds left on the inactivity countdown, for the UI's timer."""
        if self.countdown_deadline is None:
            return None
        return max(0, int((self.countdown_deadline - now).total_seconds() + 0.999))
