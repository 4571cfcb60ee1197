"""What a screen shows (views) and what the person asked for (intents).

Why a vocabulary of its own, with no Qt and no domain import: the session
controller (and, in tests and the demo, `app.ui.binding`) turns the flow's
state into one of these views and turns intents back into flow events. The
screens never see the flow; the flow never sees a widget. Views hold values
(strings, numbers, message ids) only, so they can be built in a test without
a display and compared exactly.

Patient data (names, dates, values, the doctor's messages) travel in views
only; a screen keeps nothing of them once another view replaces it.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field

from app.domain.trace import IncidentCode
from app.ui.i18n import Msg
from vocabulary.devices import DeviceKind


class ScreenId(enum.StrEnum):
    WELCOME = "welcome"
    EMERGENCY_CHECK = "emergency-check"
    EMERGENCY_EXIT = "emergency-exit"
    INFORMATION = "information"
    IDENTIFICATION = "identification"
    BENEFICIARY = "beneficiary"
    CONFIRM_IDENTITY = "confirm-identity"
    CONSENT = "consent"
    ORIENTATION = "orientation"
    VISIT_REASON = "visit-reason"
    MEASUREMENTS = "measurements"
    PROFESSIONAL_LOGIN = "professional-login"
    MANUAL_ENTRY = "manual-entry"
    MANUAL_IDENTITY = "manual-identity"  # a signed-in professional types the patient's identity
    DOCUMENT_CHECK = "document-check"  # a signed-in professional checks an identity document
    WAITING_ROOM = "waiting-room"
    CALL = "call"
    END = "end"
    DEGRADED = "degraded"
    STOP_CONFIRM = "stop-confirm"
    INACTIVITY = "inactivity"
    CARD_REMOVED = "card-removed"
    CARD_CHANGED = "card-changed"  # another card than the session's was put in
    TAKE_CARD = "take-card"  # the session is over, the card is still in the reader
    ERROR = "error"
    HELP = "help"  # shown by the window itself when "Help" is touched


class IntentKind(enum.StrEnum):
    SET_LANGUAGE = "set-language"  # value: language code
    SET_LARGE_TEXT = "set-large-text"  # value: "on" / "off"
    SET_HIGH_CONTRAST = "set-high-contrast"  # value: "on" / "off"
    START = "start"
    HELP = "help"
    READ_ALOUD = "read-aloud"
    STOP = "stop"
    STOP_CONFIRMED = "stop-confirmed"
    STOP_CANCELLED = "stop-cancelled"
    ANSWER = "answer"  # value: "yes"/"no" or an option id; data["question"]
    NEXT = "next"
    BACK = "back"
    CHOOSE_METHOD = "choose-method"  # value: IdentificationMethod
    CHOOSE_BENEFICIARY = "choose-beneficiary"  # value: beneficiary id
    CONFIRM_IDENTITY = "confirm-identity"  # value: "yes" / "no"
    CONSENT = "consent"  # value: "granted" / "refused"; data["item"]
    MEASURE_START = "measure-start"  # value: measurement kind
    MEASURE_SKIP = "measure-skip"  # value: measurement kind
    MEASURE_RETRY = "measure-retry"
    ASK_PROFESSIONAL = "ask-professional"  # value: purpose (manual-identity / manual-measure)
    PROFESSIONAL_LOGIN = "professional-login"  # data: username, password, code
    MANUAL_VALUE = "manual-value"  # value: measurement kind; data: quantity -> text
    MANUAL_IDENTITY = "manual-identity"  # data: IdentityField value -> text (and sex, document)
    CHECK_DOCUMENT = "check-document"  # value: the document checked (passport, …) or ""
    PRINT = "print"  # the end screen's "Print"
    URGENT_HELP = "urgent-help"  # the "urgent help" button of the control bar
    CANCEL = "cancel"
    STILL_HERE = "still-here"
    CARD_BACK = "card-back"  # the patient says the card is back / goes on without it
    MUTE = "mute"  # value: "on" / "off"
    CAMERA = "camera"  # value: "on" / "off"
    HANG_UP = "hang-up"
    SEND_TEXT = "send-text"  # value: the patient's text
    VISIT_REASON = "visit-reason"  # value: reason ids joined by ","; data["text"]: optional words
    FINISH = "finish"
    SAFE_STATE = "safe-state"  # the calm error screen's "start again"
    HELP_CALL = "help-call"  # the Help page's "Appeler quelqu'un" (issue 15)
    HELP_CLOSED = "help-closed"  # the Help page closed by the patient: the call ends


@dataclass(frozen=True, slots=True)
class Intent:
    kind: IntentKind
    value: str | None = None
    data: Mapping[str, str] = field(default_factory=dict, repr=False)  # may hold a password


class IdentificationMethod(enum.StrEnum):
    CARD = "card"
    QR = "qr"
    PROFESSIONAL = "professional"


class MeasureStep(enum.StrEnum):
    INSTRUCTIONS = "instructions"
    MEASURING = "measuring"
    RESULT = "result"
    FAILED = "failed"


# --- one view per screen ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WelcomeView:
    languages: tuple[str, ...] = ("fr", "en", "ar")
    card_left: bool = False  # a card was left in the reader: ask to take it, never read it
    screen: ScreenId = ScreenId.WELCOME


@dataclass(frozen=True, slots=True)
class EmergencyCheckView:
    question_id: str
    question: Msg
    index: int  # 1-based
    total: int
    screen: ScreenId = ScreenId.EMERGENCY_CHECK


@dataclass(frozen=True, slots=True)
class EmergencyNumber:
    number: str
    label: Msg


@dataclass(frozen=True, slots=True)
class SiteContact:
    """Where the cabin is, as the patient reads it out to the SAMU (15) or the 112."""

    name: str
    address_lines: tuple[str, ...]
    phone: str | None = None


@dataclass(frozen=True, slots=True)
class EmergencyExitView:
    reason: Msg
    numbers: tuple[EmergencyNumber, ...]
    site: SiteContact | None = None
    screen: ScreenId = ScreenId.EMERGENCY_EXIT


@dataclass(frozen=True, slots=True)
class InformationView:
    item_id: str
    title: Msg
    text: Msg
    easy_text: Msg | None
    index: int  # 1-based
    total: int
    screen: ScreenId = ScreenId.INFORMATION


@dataclass(frozen=True, slots=True)
class IdentificationView:
    methods: tuple[IdentificationMethod, ...] = tuple(IdentificationMethod)
    status: Msg | None = None  # "reading the card…", "this QR code has expired", …
    busy: bool = False
    screen: ScreenId = ScreenId.IDENTIFICATION


@dataclass(frozen=True, slots=True)
class Beneficiary:
    id: str
    display_name: str = field(repr=False)
    birth_date: str = field(repr=False)  # already formatted for the language


@dataclass(frozen=True, slots=True)
class BeneficiaryView:
    beneficiaries: tuple[Beneficiary, ...]
    screen: ScreenId = ScreenId.BENEFICIARY


@dataclass(frozen=True, slots=True)
class ConfirmIdentityView:
    display_name: str = field(repr=False)
    birth_date: str = field(repr=False)
    status: Msg | None = None  # how sure the identity is (identity.status.PROV …)
    can_check_document: bool = False  # PROV / RECUP: a professional may check a document
    screen: ScreenId = ScreenId.CONFIRM_IDENTITY


@dataclass(frozen=True, slots=True)
class DocumentCheckView:
    """The professional says which identity document they checked, for the identity shown."""

    professional: str  # the professional's display name (not patient data)
    display_name: str = field(repr=False)
    birth_date: str = field(repr=False)
    status: Msg | None = None
    documents: tuple[str, ...] = ("passport", "national-id-card", "residence-permit")
    error: Msg | None = None
    insi_note: Msg | None = None  # what INSi said (mismatch, several people, not reachable)
    screen: ScreenId = ScreenId.DOCUMENT_CHECK


@dataclass(frozen=True, slots=True)
class ConsentView:
    item: str  # consent item id (teleconsultation, data-sharing, assistance)
    title: Msg
    text: Msg
    required: bool
    index: int
    total: int
    screen: ScreenId = ScreenId.CONSENT


@dataclass(frozen=True, slots=True)
class OrientationOption:
    id: str
    label: Msg


@dataclass(frozen=True, slots=True)
class OrientationView:
    """Either a question with its options, or (options empty) what the patient is told."""

    question_id: str
    text: Msg
    options: tuple[OrientationOption, ...] = ()
    told: tuple[Msg, ...] = ()
    screen: ScreenId = ScreenId.ORIENTATION


@dataclass(frozen=True, slots=True)
class MeasurementView:
    device: DeviceKind
    step: MeasureStep
    index: int
    total: int
    result: tuple[tuple[Msg, str], ...] = field(default=(), repr=False)  # (label, "37.2 °C")
    problem: Msg | None = None
    # While measuring (issue 16): the cuff's pressure as shown ("142 mm Hg"), the
    # oximeter's pulse wave (0-100, oldest first) and what to do when it sees no finger.
    cuff: str | None = field(default=None, repr=False)
    pleth: tuple[int, ...] = field(default=(), repr=False)
    live_hint: Msg | None = None
    screen: ScreenId = ScreenId.MEASUREMENTS

    def same_but_live(self, other: MeasurementView) -> bool:
        """True when only the live values differ (the screen updates them in place)."""
        return (
            (self.device, self.step, self.index, self.total, self.result, self.problem)
            == (
                other.device,
                other.step,
                other.index,
                other.total,
                other.result,
                other.problem,
            )
            and (self.cuff is None) == (other.cuff is None)
            and (self.live_hint == other.live_hint)
        )


@dataclass(frozen=True, slots=True)
class ProfessionalLoginView:
    purpose: Msg
    error: Msg | None = None
    screen: ScreenId = ScreenId.PROFESSIONAL_LOGIN


@dataclass(frozen=True, slots=True)
class ManualField:
    quantity: str  # e.g. "systolic"
    label: Msg
    unit: str  # shown as written: "mm Hg", "°C", "%", "/min"


@dataclass(frozen=True, slots=True)
class ManualEntryView:
    device: DeviceKind
    fields: tuple[ManualField, ...]
    professional: str  # the professional's display name (not patient data)
    error: Msg | None = None
    screen: ScreenId = ScreenId.MANUAL_ENTRY


@dataclass(frozen=True, slots=True)
class IdentityFormView:
    """The manual identity form; `values` gives back what was typed when a field was refused."""

    professional: str  # the professional's display name (not patient data)
    values: Mapping[str, str] = field(default_factory=dict, repr=False)
    errors: Mapping[str, Msg] = field(default_factory=dict)  # field id -> what is wrong
    error: Msg | None = None  # the act itself was refused (not allowed, not now)
    screen: ScreenId = ScreenId.MANUAL_IDENTITY


@dataclass(frozen=True, slots=True)
class VisitReasonView:
    """Why the patient came: simple choices (ids `reason.choice.<id>`), a few optional words."""

    choices: tuple[str, ...]
    max_choices: int = 3
    max_text: int = 200
    screen: ScreenId = ScreenId.VISIT_REASON


@dataclass(frozen=True, slots=True)
class WaitingRoomView:
    status: Msg
    waited_min: int = 0  # whole minutes waited so far (shown from the first minute)
    max_wait_min: int | None = None  # after that, the kiosk offers the other ways
    screen: ScreenId = ScreenId.WAITING_ROOM


@dataclass(frozen=True, slots=True)
class Doctor:
    """As the platform asserts it; shown as given (names and specialties are not translated)."""

    name: str
    rpps: str
    specialty: str


@dataclass(frozen=True, slots=True)
class ChatLine:
    from_doctor: bool
    text: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class CallView:
    doctor: Doctor
    video_started: bool  # False while the doctor's identity is shown first
    muted: bool = False
    camera_off: bool = False
    chat: tuple[ChatLine, ...] = field(default=(), repr=False)
    quality: Msg | None = None
    # What the doctor switched off herself (not a fault of the line): the screen says so,
    # in place of the "paused, reconnecting" words and of her last picture. Both False
    # while her connection is lost (`quality` then says why nothing comes).
    doctor_camera_off: bool = False
    doctor_muted: bool = False
    screen: ScreenId = ScreenId.CALL


@dataclass(frozen=True, slots=True)
class EndDocument:
    """One document the doctor issued: its kind, its title as the doctor wrote it, where to get it."""

    kind: Msg  # end.document.report / .prescription / .other
    title: str = field(default="", repr=False)  # may say something about the patient's care
    url: str | None = field(default=None, repr=False)  # the platform's page for this document


@dataclass(frozen=True, slots=True)
class EndView:
    documents: tuple[EndDocument, ...]
    payment: Msg
    card_inserted: bool
    print_note: Msg | None = None  # what "Print" did (or why it cannot), once touched
    screen: ScreenId = ScreenId.END


@dataclass(frozen=True, slots=True)
class NearbyPlaceView:
    name: str
    address: str
    phone: str | None = None
    hours: str | None = None


@dataclass(frozen=True, slots=True)
class DegradedView:
    what: Msg
    kept: Msg
    next_step: Msg
    places: tuple[NearbyPlaceView, ...] = ()
    numbers: tuple[EmergencyNumber, ...] = ()
    options: tuple[str, ...] = ("finish",)  # DegradedOption values offered by the flow
    screen: ScreenId = ScreenId.DEGRADED


@dataclass(frozen=True, slots=True)
class StopConfirmView:
    screen: ScreenId = ScreenId.STOP_CONFIRM


@dataclass(frozen=True, slots=True)
class InactivityView:
    seconds_left: int
    screen: ScreenId = ScreenId.INACTIVITY


@dataclass(frozen=True, slots=True)
class CardRemovedView:
    seconds_left: int | None = None
    screen: ScreenId = ScreenId.CARD_REMOVED


@dataclass(frozen=True, slots=True)
class CardChangedView:
    screen: ScreenId = ScreenId.CARD_CHANGED


@dataclass(frozen=True, slots=True)
class TakeCardView:
    seconds_left: int | None = None
    screen: ScreenId = ScreenId.TAKE_CARD


@dataclass(frozen=True, slots=True)
class ErrorView:
    screen: ScreenId = ScreenId.ERROR


@dataclass(frozen=True, slots=True)
class HelpView:
    # The help call's sentence (help.call.called / .coming / .offline), None before a call.
    call: str | None = None
    screen: ScreenId = ScreenId.HELP


View = (
    WelcomeView
    | EmergencyCheckView
    | EmergencyExitView
    | InformationView
    | IdentificationView
    | BeneficiaryView
    | ConfirmIdentityView
    | DocumentCheckView
    | ConsentView
    | OrientationView
    | VisitReasonView
    | MeasurementView
    | ProfessionalLoginView
    | ManualEntryView
    | IdentityFormView
    | WaitingRoomView
    | CallView
    | EndView
    | DegradedView
    | StopConfirmView
    | InactivityView
    | CardRemovedView
    | CardChangedView
    | TakeCardView
    | ErrorView
    | HelpView
)


@dataclass(frozen=True, slots=True)
class Presentation:
    """How to show things: the patient's language and accessibility choices."""

    language: str = "fr"
    large_text: bool = False
    high_contrast: bool = False
    notice: str | None = None  # a calm banner over every screen ("store-delayed"), by id


@dataclass(frozen=True, slots=True)
class UiIncident:
    """Something went wrong in the UI itself (audio, an unexpected error): traced, never shown."""

    code: str  # "audio-failed", "speech-failed", "ui-error"
    message: str  # a whole sentence with no health datum

    @property
    def incident_code(self) -> IncidentCode:
        """The trace's code for it; a code the domain does not know is a plain UI error."""
        try:
            return IncidentCode(self.code)
        except ValueError:
            return IncidentCode.UI_ERROR
