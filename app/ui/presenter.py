"""From the controller's `SessionView` to a screen's view, and from a touch to a choice.

Why a pure class, with no Qt: this is the one place where the flow's state
meets the screens, so it is tested without a display, exhaustively. It
decides nothing the flow decides. What it keeps is paging, which the flow
does not model because it is about reading, not about the session: which
red-flag question, information item, consent item or orientation question
is on screen, and which device the patient is being guided through. The
flow receives the whole answer when the patient has given it (one
`EmergencyAnswered`, one `InformationAcknowledged`, one
`OrientationAnswered`), exactly as it expects.

Actions are returned as values (`Submit`, `Consent`, `SignIn`, `EnterValue`,
`EnterIdentity`, `CheckDocument`, `CallForHelp`, `Forward`) and carried out by `app.ui.binding`, so a test can check that a
touch produced exactly the right choice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from app.controller.assisted import AssistTask
from app.controller.view import AssistAct, Notice, PrintStatus, SessionDocument, SessionView
from app.domain import orientation as ori
from app.domain import session_events as ev
from app.domain.consent import (
    CONSENT_ORDER,
    CONSENT_TEXTS,
    ConsentChoice,
    ConsentError,
    ConsentText,
    consent_next,
    consent_text,
)
from app.domain.emergency import (
    EXIT_MESSAGE,
    RED_FLAG_QUESTIONS,
    RedFlagsAnswered,
    red_flag_answer,
)
from app.domain.emergency import (
    EmergencyNumber as DomainNumber,
)
from app.domain.identity import (
    BirthDatePrecision,
    IdentityDocument,
    IdentityStatus,
    InsTraits,
    PatientIdentity,
)
from app.domain.information import INFORMATION_ITEMS
from app.domain.manual_identity import (
    FieldProblem,
    IdentityField,
    InvalidManualIdentity,
    ManualIdentityForm,
    parse_manual_identity,
)
from app.domain.measurements import MeasurementKind, Quantity, next_device
from app.domain.messages import Message
from app.domain.session_context import SessionContext, State
from app.domain.session_effects import DegradedReason
from app.domain.session_events import DegradedOption, IdentificationProblem
from app.domain.trace import IncidentCode
from app.domain.visit_reason import MAX_REASONS, MAX_TEXT_LENGTH, VisitReason
from app.maintenance.errors import AuthFailure
from app.ui.i18n import Msg, format_quantity
from app.ui.views import (
    Beneficiary,
    BeneficiaryView,
    CallView,
    CardChangedView,
    CardRemovedView,
    ChatLine,
    ConfirmIdentityView,
    ConsentView,
    DegradedView,
    Doctor,
    DocumentCheckView,
    EmergencyCheckView,
    EmergencyExitView,
    EmergencyNumber,
    EndDocument,
    EndView,
    ErrorView,
    IdentificationMethod,
    IdentificationView,
    IdentityFormView,
    InactivityView,
    InformationView,
    Intent,
    IntentKind,
    ManualEntryView,
    ManualField,
    MeasurementView,
    MeasureStep,
    NearbyPlaceView,
    OrientationOption,
    OrientationView,
    Presentation,
    ProfessionalLoginView,
    SiteContact,
    StopConfirmView,
    TakeCardView,
    View,
    VisitReasonView,
    WaitingRoomView,
    WelcomeView,
)
from vocabulary.devices import CATALOGUE, PATIENT_DEVICES, DeviceKind

IDENTITY_SHOWN_FIRST_S = 5.0  # the doctor's identity alone on screen before the video

# --- what the binding carries out ----------------------------------------------------


@dataclass(frozen=True, slots=True)
class Submit:
    event_type: type[ev.PersonEvent]
    fields: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Consent:
    text: ConsentText
    choice: ConsentChoice


@dataclass(frozen=True, slots=True)
class SignIn:
    username: str
    password: str = field(repr=False)
    code: str = field(repr=False)
    task: AssistTask  # what the professional signs in for (the permission it asks)


@dataclass(frozen=True, slots=True)
class EnterValue:
    kind: MeasurementKind
    values: Mapping[Quantity, Decimal] = field(repr=False)


@dataclass(frozen=True, slots=True)
class EnterIdentity:
    """The identity a signed-in professional typed, already checked field by field.

    Carried out as `controller.assist.enter_identity(traits, nir, document)`,
    then `presenter.identity_entered(result.ok)`.
    """

    traits: InsTraits = field(repr=False)
    nir: str | None = field(repr=False)
    document: IdentityDocument | None


@dataclass(frozen=True, slots=True)
class CheckDocument:
    """The professional checked this identity document for the identity on screen.

    Carried out as `controller.assist.check_document(document)` (PROV → VALI,
    RECUP → QUAL), then `presenter.document_checked(result.ok)`.
    """

    document: IdentityDocument


@dataclass(frozen=True, slots=True)
class PrintDocuments:
    """The end screen's "Print": carried out as `controller.print_documents()` (a task; the
    outcome comes back in `SessionView.printing`)."""


@dataclass(frozen=True, slots=True)
class Forward:
    """A choice for the call or the devices, not for the flow (mute, camera, text)."""

    intent: Intent


@dataclass(frozen=True, slots=True)
class CallForHelp:
    """The Help page's "Appeler quelqu'un" (`ring`), or Help closed (`ring=False`): the
    people on site are called, or the call under way ends (issue 15)."""

    ring: bool = True


_PRINT_NOTES: dict[PrintStatus, tuple[str, str]] = {
    PrintStatus.NO_PRINTER: ("end.print.none", "end.print.none_no_qr"),
    PrintStatus.PRINTING: ("end.print.printing", "end.print.printing"),
    PrintStatus.PRINTED: ("end.print.printed", "end.print.printed"),
    PrintStatus.OUT_OF_PAPER: ("end.print.out_of_paper", "end.print.out_of_paper_no_qr"),
    PrintStatus.OFFLINE: ("end.print.offline", "end.print.offline_no_qr"),
    PrintStatus.FAILED: ("end.print.failed", "end.print.failed_no_qr"),
}
"""The end screen's note per print status: (with QR codes on screen, without)."""

Action = (
    Submit
    | Consent
    | SignIn
    | EnterValue
    | EnterIdentity
    | CheckDocument
    | PrintDocuments
    | CallForHelp
    | Forward
)
ViewBuilder = Callable[[SessionView, bool], View]
"""How one state's view is built: (the controller's view, easy-read on)."""

CHECKABLE = (IdentityStatus.PROV, IdentityStatus.RECUP)  # what a document check can raise
DOCUMENT_KINDS = ("report", "prescription")  # the end screen names these; others: "a document"


@dataclass(frozen=True, slots=True)
class Site:
    """What the presenter needs from the site configuration."""

    languages: tuple[str, ...] = ("fr", "en", "ar")
    devices: tuple[DeviceKind, ...] = PATIENT_DEVICES
    places: tuple[NearbyPlaceView, ...] = ()
    numbers: Mapping[str, str] = field(default_factory=dict)  # domain number -> site number
    # Where the patient fetches a document on the platform ("{id}" is the document id);
    # None: no QR code is shown (see docs/ui.md, end screen).
    document_url: str | None = None
    contact: SiteContact | None = None  # the cabin's address, for the SAMU
    max_wait_s: float | None = None  # the waiting room's longest wait before the other ways


def _msg(message: Message, easy: bool = False) -> Msg:
    if easy and message.easy_read:
        return Msg(message.id + ".easy", message.easy_read)
    return Msg(message.id, message.fr)


@dataclass
class _Paging:
    emergency: int = 0
    information: int = 0
    consent: int = 0
    orientation: ori.OrientationQuestion = ori.OrientationQuestion.HAS_MT
    answers: dict[ori.OrientationQuestion, ori.OrientationOption] = field(default_factory=dict)
    told_seen: bool = False
    device: int = 0
    method: IdentificationMethod | None = None
    professional_for: AssistTask | None = None  # the professional's sub-task on screen
    # The flow's manual entry (after a device failure) that "Annuler" put aside: the
    # device's own screen shows again (measure, skip, or ask a professional again).
    manual_dismissed: MeasurementKind | None = None
    login_error: Msg | None = None
    manual_error: Msg | None = None
    identity_values: dict[str, str] = field(default_factory=dict)  # typed, kept on a refusal
    identity_errors: dict[str, Msg] = field(default_factory=dict)
    identity_error: Msg | None = None
    muted: bool = False
    camera_off: bool = False
    document_error: Msg | None = None  # the document check was refused / nothing chosen
    print_asked: bool = False
    assist_seen: int = 0  # the number of the professional's last act already applied


class Presenter:
    def __init__(self, site: Site, clock: Callable[[], datetime]) -> None:
        self.site = site
        self._clock = clock
        self._p = _Paging()
        self._views = self._state_views()

    def reset(self) -> None:
        """Forget the paging and what was typed (the binding calls it at the controller's wipe)."""
        self._p = _Paging()

    # -- the professional's acts: their results come in the controller's view ---------

    def _take_news(self, sv: SessionView) -> None:
        """Apply the result of the professional's last act once (sign-in, value, identity, check)."""
        news = sv.assist_news
        if news is None or news.number == self._p.assist_seen:
            return
        self._p.assist_seen = news.number
        if news.act is AssistAct.SIGN_IN:
            self.signed_in(news.ok)  # one sentence for every refusal, by decision
        elif news.act is AssistAct.MEASUREMENT:
            if news.ok:
                self.manual_recorded()
            else:
                self.manual_refused()
        elif news.act is AssistAct.IDENTITY:
            self.identity_entered(news.ok)
        else:
            self.document_checked(news.ok)

    def document_checked(self, ok: bool) -> None:
        """The controller's answer to `CheckDocument`: back to "Is this you?" or a refusal."""
        if ok:
            self._p.professional_for = None
            self._p.document_error = None
        else:
            self._p.document_error = Msg("document_check.refused")

    def signed_in(self, ok: bool, reason: AuthFailure | None = None, locked: bool = False) -> None:
        """The sign-in's result.

        The binding passes no `reason` (docs/accounts.md: one sentence for every
        refusal, so an onlooker cannot learn that an account exists); `locked`
        is ignored (it was guessed from words).
        """
        del locked
        if ok:
            self._p.login_error = None
        else:
            locked_out = reason is AuthFailure.LOCKED
            self._p.login_error = Msg("login.locked" if locked_out else "login.failed")

    def identity_entered(self, ok: bool) -> None:
        """The controller's answer to `EnterIdentity`: done (the patient is asked next) or refused."""
        p = self._p
        if ok:
            p.professional_for = None
            p.identity_values = {}
            p.identity_errors = {}
            p.identity_error = None
        else:
            p.identity_error = Msg("identity_form.refused")

    def manual_refused(self) -> None:
        self._p.manual_error = Msg("manual.invalid")

    def manual_recorded(self) -> None:
        self._p.professional_for = None
        self._p.manual_error = None

    # -- state -> view --------------------------------------------------------------------

    def presentation(self, sv: SessionView) -> Presentation:
        ctx = sv.context
        return Presentation(
            ctx.language,
            ctx.accessibility.large_text,
            ctx.accessibility.high_contrast,
            Notice.STORE_DELAYED.value if sv.notice is Notice.STORE_DELAYED else None,
        )

    def view_for(self, sv: SessionView) -> View:
        """The screen for the state on screen: one entry per state in `_views` (see __init__)."""
        self._take_news(sv)
        if sv.notice is Notice.FAULT and sv.state is State.WELCOME:
            return ErrorView()
        build = self._views.get(sv.state)
        if build is None:
            return ErrorView()
        return build(sv, bool(sv.context.accessibility.easy_read))

    def _state_views(self) -> Mapping[State, ViewBuilder]:
        """State -> how its view is built. Every state of the flow has one (a test checks)."""
        return {
            State.WELCOME: self._welcome,
            State.WIPE: self._welcome,
            State.STOP_CONFIRM: lambda sv, easy: StopConfirmView(),
            State.INACTIVITY_WARNING: self._inactivity,
            State.CARD_REMOVED_PAUSE: lambda sv, easy: CardRemovedView(),
            State.CARD_CHANGED: lambda sv, easy: CardChangedView(),
            State.TAKE_CARD: lambda sv, easy: TakeCardView(),
            State.EMERGENCY_CHECK: self._emergency_check,
            State.EMERGENCY_EXIT: self._emergency_exit,
            State.INFORMATION: self._information,
            State.IDENTIFICATION: self._identification_step,
            State.BENEFICIARY_CHOICE: self._beneficiaries,
            State.IDENTITY_CONFIRMATION: lambda sv, easy: self._confirm_identity(sv),
            State.CONSENT: self._consent,
            State.ORIENTATION: self._orientation,
            State.VISIT_REASON: self._visit_reason_view,
            State.MEASUREMENTS: self._measurements,
            State.DEGRADED: lambda sv, easy: self._degraded(sv.context),
            State.WAITING_ROOM: self._waiting_room,
            State.CALL: lambda sv, easy: self._call(sv),
            State.END: self._end,
        }

    def _welcome(self, sv: SessionView, easy: bool) -> View:
        return WelcomeView(self.site.languages, sv.context.card_stale)

    def _inactivity(self, sv: SessionView, easy: bool) -> View:
        left = sv.countdown_s(self._clock())
        return InactivityView(int(left if left is not None else 30))

    def _told(self, sv: SessionView, easy: bool) -> View | None:
        """What the orientation means for the patient, once, before the step that follows it."""
        orientation = sv.context.orientation
        if self._p.told_seen or orientation is None:
            return None
        return OrientationView(
            "told", Msg("orientation.told_title"), told=(_msg(orientation.message, easy),)
        )

    def _visit_reason_view(self, sv: SessionView, easy: bool) -> View:
        told = self._told(sv, easy)
        if told is not None:
            return told
        return VisitReasonView(tuple(r.value for r in VisitReason), MAX_REASONS, MAX_TEXT_LENGTH)

    def _emergency_check(self, sv: SessionView, easy: bool) -> View:
        flag, question = RED_FLAG_QUESTIONS[self._p.emergency]
        return EmergencyCheckView(
            flag.value, _msg(question, easy), self._p.emergency + 1, len(RED_FLAG_QUESTIONS)
        )

    def _emergency_exit(self, sv: SessionView, easy: bool) -> View:
        return EmergencyExitView(
            _msg(EXIT_MESSAGE, easy),
            self._numbers(sv.context.emergency_numbers),
            self.site.contact,
        )

    def _information(self, sv: SessionView, easy: bool) -> View:
        item = INFORMATION_ITEMS[self._p.information]
        easy_body = _msg(item.body, True) if item.body.easy_read else None
        return InformationView(
            item.topic.value,
            _msg(item.title),
            _msg(item.body, easy),
            easy_body,
            self._p.information + 1,
            len(INFORMATION_ITEMS),
        )

    def _identification_step(self, sv: SessionView, easy: bool) -> View:
        task = self._p.professional_for
        if task is None:
            return self._identification(sv.context)
        assistant = sv.assistant
        if task is AssistTask.MANUAL_IDENTITY and assistant is not None:
            return IdentityFormView(
                assistant.display_name,
                dict(self._p.identity_values),
                dict(self._p.identity_errors),
                self._p.identity_error,
            )
        return ProfessionalLoginView(Msg(f"login.purpose.{task.value}"), self._p.login_error)

    def _beneficiaries(self, sv: SessionView, easy: bool) -> View:
        return BeneficiaryView(
            tuple(
                Beneficiary(str(i), _display_name(c), _birth(c.traits))
                for i, c in enumerate(sv.context.candidates)
            )
        )

    def _consent(self, sv: SessionView, easy: bool) -> View:
        source = CONSENT_TEXTS[min(self._p.consent, len(CONSENT_TEXTS) - 1)]
        return ConsentView(
            source.item.value,
            _msg(source.title),
            _msg(source.body),
            source.item.required,
            self._p.consent + 1,
            len(CONSENT_ORDER),
        )

    def _orientation(self, sv: SessionView, easy: bool) -> View:
        q = self._p.orientation
        return OrientationView(
            q.value,
            Msg(f"orientation.q.{q.value}"),
            tuple(
                OrientationOption(o.value, Msg(f"orientation.a.{o.value}"))
                for o in ori.ORIENTATION_OPTIONS[q]
            ),
        )

    def _waiting_room(self, sv: SessionView, easy: bool) -> View:
        since = sv.context.waiting_since
        waited = int((self._clock() - since).total_seconds() // 60) if since else 0
        limit = self.site.max_wait_s
        return WaitingRoomView(
            Msg("waiting.status.joining"),
            max(0, waited),
            int(limit // 60) if limit else None,
        )

    def _end(self, sv: SessionView, easy: bool) -> View:
        ctx = sv.context
        paid_after = ctx.call_started_at is not None and ctx.call_ended_at is not None
        delivered = {d.document_id: d for d in sv.documents}
        return EndView(
            tuple(self._end_document(delivered.get(d)) for d in ctx.documents),
            Msg("end.payment.after" if paid_after else "end.payment.none"),
            bool(ctx.card_present),
            self._print_note(sv) if self._p.print_asked or sv.printing is not None else None,
        )

    def _confirm_identity(self, sv: SessionView) -> View:
        identity = sv.context.identity
        if identity is None:  # the flow never confirms without an identity
            return ErrorView()
        name, born = _display_name(identity), _birth(identity.traits)
        status = Msg(f"identity.status.{identity.status.value}")
        if self._p.professional_for is AssistTask.DOCUMENT_CHECK:
            assistant = sv.assistant
            if assistant is None:
                return ProfessionalLoginView(
                    Msg(f"login.purpose.{AssistTask.DOCUMENT_CHECK.value}"), self._p.login_error
                )
            note = _INSI_NOTES.get(sv.insi_outcome) if sv.insi_outcome is not None else None
            return DocumentCheckView(
                assistant.display_name,
                name,
                born,
                status,
                error=self._p.document_error,
                insi_note=Msg(note) if note else None,
            )
        return ConfirmIdentityView(name, born, status, identity.status in CHECKABLE)

    def _end_document(self, delivered: SessionDocument | None) -> EndDocument:
        kind = delivered.kind.value if delivered is not None else ""
        return EndDocument(
            Msg(f"end.document.{kind}" if kind in DOCUMENT_KINDS else "end.document.other"),
            delivered.title if delivered is not None else "",
            # Only a link the platform minted: a QR code never points to a page that is not there.
            delivered.link if delivered is not None and self.site.document_url else None,
        )

    def _print_note(self, sv: SessionView) -> Msg:
        """What "Print" did, as the controller reports it (`SessionView.printing`): printing,
        printed, or why not, with the QR codes as the way when they are there. Without a
        printer it says so and what to do instead; it never pretends a page is coming."""
        linked = bool(self.site.document_url and any(d.link for d in sv.documents))
        with_qr, without_qr = _PRINT_NOTES[sv.printing or PrintStatus.NO_PRINTER]
        return Msg(with_qr if linked else without_qr)

    def _numbers(self, numbers: Iterable[DomainNumber]) -> tuple[EmergencyNumber, ...]:
        return tuple(
            EmergencyNumber(self.site.numbers.get(n.number, n.number), _msg(n.message))
            for n in numbers
        )

    def _identification(self, ctx: SessionContext) -> IdentificationView:
        problem: IdentificationProblem | None = ctx.identification_problem
        methods = tuple(IdentificationMethod)
        if problem is not None:
            return IdentificationView(methods, Msg(f"identification.problem.{problem.value}"))
        if self._p.method is IdentificationMethod.CARD:
            return IdentificationView(methods, Msg("identification.reading"), busy=ctx.card_present)
        if self._p.method is IdentificationMethod.QR:
            return IdentificationView(methods, Msg("identification.looking_qr"))
        return IdentificationView(methods)

    def _device(self) -> DeviceKind:
        devices = self.site.devices or PATIENT_DEVICES
        return devices[min(self._p.device, len(devices) - 1)]

    def _measurements(self, sv: SessionView, easy: bool) -> View:
        ctx = sv.context
        told = self._told(sv, easy)
        if told is not None:
            return told
        device = self._device()
        index = self._p.device + 1
        total = len(self.site.devices or PATIENT_DEVICES)
        manual_for = self._p.professional_for is AssistTask.MANUAL_MEASURE or (
            ctx.manual_entry_for in CATALOGUE[device].measurement_kinds
            and ctx.manual_entry_for is not self._p.manual_dismissed
        )
        if manual_for:
            assistant = sv.assistant
            if assistant is None:
                return ProfessionalLoginView(
                    Msg(f"login.purpose.{AssistTask.MANUAL_MEASURE.value}"), self._p.login_error
                )
            return ManualEntryView(
                device,
                tuple(
                    ManualField(q.value, Msg(f"measure.q.{q.value}"), q.display_unit)
                    for q in CATALOGUE[device].manual_entry
                ),
                assistant.display_name,
                self._p.manual_error,
            )
        kinds = CATALOGUE[device].measurement_kinds
        if ctx.active_device in kinds:
            live = sv.live
            if live is None:
                return MeasurementView(device, MeasureStep.MEASURING, index, total)
            cuff = None
            if live.cuff_pressure is not None:
                cuff = format_quantity(live.cuff_pressure, live.cuff_unit, ctx.language)
            missing = live.pleth and (live.probe_unplugged or not live.finger_present)
            return MeasurementView(
                device,
                MeasureStep.MEASURING,
                index,
                total,
                cuff=cuff,
                pleth=live.pleth,
                live_hint=Msg("measure.oximeter.how2") if missing else None,
            )
        main = [m for m in ctx.measurements if m.kind is CATALOGUE[device].first_measurement]
        if main:
            # This device's own reading: its main measurement and what came with it (a pulse),
            # not the pulse another device measured earlier.
            at = main[-1].taken_at
            taken = [m for m in ctx.measurements if m.kind in kinds and m.taken_at == at]
            lines: list[tuple[Msg, str]] = []
            for m in taken:
                for c in m.components:
                    lines.append(
                        (
                            Msg(f"measure.q.{c.quantity.value}"),
                            format_quantity(c.value, c.unit, ctx.language),
                        )
                    )
            # The device said the reading is not reliable (arm moved, cuff loose or badly
            # placed): the values stay shown as measured, with the sentence to measure again.
            again = Msg("measure.keep_still") if any(m.measure_again for m in taken) else None
            return MeasurementView(
                device, MeasureStep.RESULT, index, total, tuple(lines), problem=again
            )
        return MeasurementView(device, MeasureStep.INSTRUCTIONS, index, total)

    def _degraded(self, ctx: SessionContext) -> DegradedView:
        d = ctx.degraded
        reason = d.reason.value if d is not None else DegradedReason.PLATFORM_UNREACHABLE.value
        options = tuple(o.value for o in d.options) if d is not None else ("finish",)
        places = self.site.places if reason != DegradedReason.DEVICE_FAILED.value else ()
        what = "device-old-record" if d is not None and d.old_record_only else reason
        return DegradedView(
            Msg(f"degraded.what.{what}"),
            Msg("degraded.kept"),
            Msg(f"degraded.next.{reason}"),
            places,
            self._numbers(ctx.emergency_numbers) if reason != "device-failed" else (),
            options=options,
        )

    def _call(self, sv: SessionView) -> CallView:
        ctx = sv.context
        doctor = sv.doctor
        shown = Doctor(
            doctor.name if doctor else "",
            doctor.rpps if doctor else (ctx.doctor_rpps or ""),
            doctor.specialty if doctor else "",
        )
        started = ctx.call_started_at
        video = started is not None and (
            (self._clock() - started).total_seconds() >= IDENTITY_SHOWN_FIRST_S
        )
        status = sv.call_status
        return CallView(
            shown,
            video,
            self._p.muted,
            self._p.camera_off,
            tuple(ChatLine(line.from_doctor, line.text) for line in sv.chat),
            Msg(status) if status else None,
            doctor_camera_off=sv.doctor_media.camera_off,
            doctor_muted=sv.doctor_media.muted,
        )

    # -- touch -> actions -------------------------------------------------------------------

    def actions_for(self, intent: Intent, sv: SessionView) -> list[Action]:
        """The choices a touch makes; an empty list means only the paging moved."""
        self._take_news(sv)
        ctx = sv.context
        state: State = sv.state
        k = intent.kind
        p = self._p
        if k in (IntentKind.HELP_CALL, IntentKind.HELP_CLOSED):  # any screen: Help is over it
            return [CallForHelp(ring=k is IntentKind.HELP_CALL)]
        if k is IntentKind.SET_LANGUAGE and intent.value:
            return [Submit(ev.ChooseLanguage, {"language": intent.value})]
        if k in (IntentKind.SET_LARGE_TEXT, IntentKind.SET_HIGH_CONTRAST):
            on = intent.value == "on"
            options = ctx.accessibility
            changed = (
                replace(options, large_text=on)
                if k is IntentKind.SET_LARGE_TEXT
                else replace(options, high_contrast=on)
            )
            return [Submit(ev.SetAccessibility, {"options": changed})]
        simple: Mapping[IntentKind, type[ev.PersonEvent]] = {
            IntentKind.START: ev.Begin,
            IntentKind.STOP: ev.StopRequested,
            IntentKind.STOP_CONFIRMED: ev.StopConfirmed,
            IntentKind.STOP_CANCELLED: ev.StopCancelled,
            IntentKind.STILL_HERE: ev.StillHere,
            IntentKind.CARD_BACK: ev.ContinueWithoutCard,
            IntentKind.HANG_UP: ev.HangUp,
        }
        if k in simple:
            return [Submit(simple[k])]
        if k is IntentKind.URGENT_HELP:
            if state is State.EMERGENCY_EXIT:
                return []
            if state in (State.WELCOME, State.WIPE):  # no session yet: open one to say where
                return [Submit(ev.Begin), Submit(ev.EmergencyDeclared)]
            return [Submit(ev.EmergencyDeclared)]
        if k is IntentKind.FINISH and state in (State.END, State.EMERGENCY_EXIT):
            return [Submit(ev.Finish)]
        if state is State.EMERGENCY_CHECK and k is IntentKind.ANSWER:
            step = red_flag_answer(p.emergency, intent.value == "yes")  # the domain's rule
            if isinstance(step, RedFlagsAnswered):
                return [Submit(ev.EmergencyAnswered, {"flags": step.flags})]
            p.emergency = step
            return []
        if state is State.INFORMATION:
            if k is IntentKind.BACK:
                p.information = max(0, p.information - 1)
                return []
            if k is IntentKind.NEXT:
                if p.information + 1 < len(INFORMATION_ITEMS):
                    p.information += 1
                    return []
                return [Submit(ev.InformationAcknowledged)]
        if state is State.IDENTIFICATION:
            if k is IntentKind.CHOOSE_METHOD and intent.value:
                method = IdentificationMethod(intent.value)
                p.method = method
                if method is IdentificationMethod.PROFESSIONAL:
                    p.professional_for = AssistTask.MANUAL_IDENTITY
                return [Forward(intent)]
            if k is IntentKind.CANCEL:
                p.professional_for = None
                p.login_error = None
                p.identity_values = {}
                p.identity_errors = {}
                p.identity_error = None
                return []
            if k is IntentKind.MANUAL_IDENTITY:
                return self._identity_typed(intent)
        if state is State.IDENTITY_CONFIRMATION:
            if k is IntentKind.ASK_PROFESSIONAL and intent.value == AssistTask.DOCUMENT_CHECK:
                p.professional_for = AssistTask.DOCUMENT_CHECK
                p.login_error = None
                p.document_error = None
                return []
            if k is IntentKind.CANCEL:
                p.professional_for = None
                p.login_error = None
                p.document_error = None
                return []
            if k is IntentKind.CHECK_DOCUMENT and p.professional_for is AssistTask.DOCUMENT_CHECK:
                try:
                    document = IdentityDocument(intent.value or "")
                except ValueError:
                    p.document_error = Msg("document_check.choose")
                    return []
                p.document_error = None
                return [CheckDocument(document)]
        if state is State.END and k is IntentKind.PRINT:
            p.print_asked = True
            return [PrintDocuments()]
        if k is IntentKind.CHOOSE_BENEFICIARY and intent.value is not None:
            return [Submit(ev.BeneficiaryChosen, {"index": int(intent.value)})]
        if k is IntentKind.CONFIRM_IDENTITY:
            return [Submit(ev.IdentityConfirmed if intent.value == "yes" else ev.IdentityRejected)]
        if state is State.CONSENT and k is IntentKind.CONSENT:
            item = CONSENT_ORDER[min(p.consent, len(CONSENT_ORDER) - 1)]
            choice = ConsentChoice.GRANTED if intent.value == "granted" else ConsentChoice.REFUSED
            try:
                text: ConsentText = consent_text(item, ctx.language, intent.data.get("shown", ""))
            except ConsentError:
                return []  # words the domain did not write: no decision on them (screen stays)
            actions: list[Action] = [Consent(text, choice)]
            following = consent_next(min(p.consent, len(CONSENT_ORDER) - 1), choice)
            if following is None:  # the last item, or a required one refused (the domain's rule)
                actions.append(Submit(ev.ConsentDone))
            else:
                p.consent = following
            return actions
        if state is State.ORIENTATION and k is IntentKind.ANSWER and intent.value:
            return self._orientation_answer(intent.value)
        if state is State.VISIT_REASON:
            if not p.told_seen and ctx.orientation is not None:
                if k is IntentKind.NEXT:
                    p.told_seen = True
                return []
            if k is IntentKind.VISIT_REASON:
                return self._visit_reason(intent)
        if state is State.TAKE_CARD and k is IntentKind.FINISH:
            return [Submit(ev.Finish)]
        # The sign-in form answers the same way on every step (a manual measurement is
        # asked in MEASUREMENTS: checked before that step's own touches, or it was lost).
        if k is IntentKind.PROFESSIONAL_LOGIN:
            task = p.professional_for or AssistTask.MANUAL_MEASURE
            return [
                SignIn(
                    intent.data.get("username", ""),
                    intent.data.get("password", ""),
                    intent.data.get("code", ""),
                    task,
                )
            ]
        if state is State.MEASUREMENTS:
            return self._measurement_action(intent, sv)
        if state is State.DEGRADED and k is IntentKind.NEXT and intent.value:
            p.manual_dismissed = None  # a new choice: a manual entry chosen again is shown
            return [Submit(ev.DegradedChoice, {"option": DegradedOption(intent.value)})]
        if k in (IntentKind.MUTE, IntentKind.CAMERA, IntentKind.SEND_TEXT):
            if k is IntentKind.MUTE:
                p.muted = intent.value == "on"
            elif k is IntentKind.CAMERA:
                p.camera_off = intent.value == "off"
            return [Forward(intent)]  # a text line: the controller shows it and sends it
        if k is IntentKind.SAFE_STATE:
            return [Forward(intent)]
        return []

    def _visit_reason(self, intent: Intent) -> list[Action]:
        """The touched choices and the typed words, as the flow takes them (it checks them)."""
        reasons: list[VisitReason] = []
        for part in (intent.value or "").split(","):
            try:
                reason = VisitReason(part)
            except ValueError:
                continue
            if reason not in reasons:
                reasons.append(reason)
        words = intent.data.get("text", "").strip()[:MAX_TEXT_LENGTH] or None
        return [
            Submit(ev.VisitReasonGiven, {"reasons": tuple(reasons[:MAX_REASONS]), "text": words})
        ]

    def _identity_typed(self, intent: Intent) -> list[Action]:
        """Check the form (the domain's rules); every refused field gets its sentence."""
        p = self._p
        data = dict(intent.data)
        p.identity_values = data
        p.identity_error = None
        form = ManualIdentityForm(
            birth_name=data.get(IdentityField.BIRTH_NAME, ""),
            birth_first_names=data.get(IdentityField.BIRTH_FIRST_NAMES, ""),
            first_name_used=data.get(IdentityField.FIRST_NAME_USED, ""),
            birth_date=data.get(IdentityField.BIRTH_DATE, ""),
            sex=data.get(IdentityField.SEX, ""),
            birth_place=data.get(IdentityField.BIRTH_PLACE, ""),
            nir=data.get(IdentityField.NIR, ""),
            document=data.get(IdentityField.DOCUMENT, ""),
        )
        try:
            typed = parse_manual_identity(form, self._clock().date())
        except InvalidManualIdentity as exc:
            p.identity_errors = {
                f.value: _field_problem(f, problem, exc) for f, problem in exc.problems.items()
            }
            return []
        p.identity_errors = {}
        return [EnterIdentity(typed.traits, typed.nir.value if typed.nir else None, typed.document)]

    def _orientation_answer(self, value: str) -> list[Action]:
        """The touched option joins the answers; the domain's tree says what comes next."""
        p = self._p
        try:
            option = ori.OrientationOption(value)
            step = ori.next_orientation_question({**p.answers, p.orientation: option})
        except ValueError:
            return []  # not an option of the question on screen: nothing changes
        p.answers[p.orientation] = option
        if isinstance(step, ori.OrientationQuestion):
            p.orientation = step
            return []
        return [Submit(ev.OrientationAnswered, {"answers": step})]

    def _measurement_action(self, intent: Intent, sv: SessionView) -> list[Action]:
        p = self._p
        k = intent.kind
        device = self._device()
        total = len(self.site.devices or PATIENT_DEVICES)
        if not p.told_seen and sv.context.orientation is not None:
            if k is IntentKind.NEXT:
                p.told_seen = True
            return []

        def advance() -> list[Action]:
            following = next_device(min(p.device, total - 1), total)  # the domain's rule
            if following is None:
                return [Submit(ev.MeasurementsDone)]
            p.device = following
            return []

        if k in (IntentKind.MEASURE_START, IntentKind.MEASURE_RETRY):
            return [Submit(ev.StartMeasurement, {"kind": CATALOGUE[device].first_measurement})]
        if k is IntentKind.MEASURE_SKIP:
            return [
                Submit(ev.SkipMeasurement, {"kind": CATALOGUE[device].first_measurement}),
                *advance(),
            ]
        if k is IntentKind.NEXT:
            return advance()
        if k is IntentKind.ASK_PROFESSIONAL:
            p.professional_for = AssistTask.MANUAL_MEASURE
            p.manual_dismissed = None
            p.login_error = None
            return []
        if k is IntentKind.CANCEL:
            p.professional_for = None
            p.manual_dismissed = sv.context.manual_entry_for
            p.login_error = None
            p.manual_error = None
            return []
        if k is IntentKind.MANUAL_VALUE:
            values: dict[Quantity, Decimal] = {}
            for q in CATALOGUE[device].manual_entry:
                raw = intent.data.get(q.value, "").replace(",", ".").strip()
                try:
                    values[q] = Decimal(raw)
                except InvalidOperation:
                    p.manual_error = Msg("manual.invalid")
                    return []
            kind = CATALOGUE[device].first_measurement
            return [EnterValue(kind, values)]
        return []


def _field_problem(f: IdentityField, problem: FieldProblem, exc: InvalidManualIdentity) -> Msg:
    """The sentence beside a refused field; a bad NIR says which part is wrong."""
    if problem is FieldProblem.NIR_INVALID and exc.nir_reason is not None:
        return Msg(f"identity_form.nir.{exc.nir_reason.value}", params={"n": str(exc.nir_length)})
    if problem in (FieldProblem.MISSING, FieldProblem.UNKNOWN_CHOICE) and f in (
        IdentityField.SEX,
        IdentityField.DOCUMENT,
    ):
        return Msg(f"identity_form.error.choose-{f.value}")
    return Msg(f"identity_form.error.{problem.value}")


def _display_name(identity: PatientIdentity) -> str:
    traits = identity.traits
    first = traits.first_name_used or traits.first_birth_first_name
    return f"{first} {traits.used_name or traits.birth_name}".strip()


def _date(value: date) -> str:
    return f"{value.day:02d}/{value.month:02d}/{value.year:04d}"


# What INSi's failed answer means for the professional checking the document (by trace code).
_INSI_NOTES: Mapping[IncidentCode, str] = {
    IncidentCode.INSI_MISMATCH: "document_check.insi.mismatch",
    IncidentCode.INSI_SEVERAL_CANDIDATES: "document_check.insi.several",
    IncidentCode.INSI_UNAVAILABLE: "document_check.insi.unavailable",
    IncidentCode.INSI_REFUSED: "document_check.insi.unavailable",
}


def _birth(traits: InsTraits) -> str:
    """The date of birth as known: an unknown day or month shows as "--", never as 01."""
    shown = _date(traits.birth_date)
    if traits.birth_date_precision is BirthDatePrecision.MONTH:
        return "--" + shown[2:]
    if traits.birth_date_precision is BirthDatePrecision.YEAR:
        return "--/--" + shown[5:]
    return shown
