"""Handlers of the patient's way through: welcome to the end screen and the wipe.

Internal to the session flow: `app.domain.flow` names these handlers in its
transition table, which says in which states each one runs and where it may
land; a handler only checks its guards and builds the new context.
"""

from __future__ import annotations

from app.domain.consent import ConsentChoice, ConsentItem, current_choice
from app.domain.flow_txn import (
    Txn,
    allowed_identity,
    call_allowed,
    degrade,
    emergency_exit,
    end_call,
    fresh,
    stop_device,
    to_waiting_room,
    wipe,
)
from app.domain.identity import IdentityStatus, PatientIdentity
from app.domain.measurements import ImplausibleMeasurement, ManualSource, check_plausible
from app.domain.orientation import age_on, assess
from app.domain.session_context import SessionContext, State
from app.domain.session_effects import (
    DegradedReason,
    DocumentRecord,
    EndReason,
    PaymentRecord,
    QueryInsi,
    ReadCard,
    StartDevice,
)
from app.domain.session_events import (
    Begin,
    BeneficiaryChosen,
    CallDropped,
    CallEnded,
    CallStarted,
    ChooseLanguage,
    ConsentDecided,
    ConsentDone,
    DocumentReceived,
    EmergencyAnswered,
    EmergencyDeclared,
    Finish,
    HangUp,
    IdentificationFailed,
    IdentificationProblem,
    IdentityConfirmed,
    IdentityObtained,
    IdentityRejected,
    IdentitySource,
    IdentityUpdated,
    InformationAcknowledged,
    MeasurementRejected,
    MeasurementsDone,
    MeasurementTaken,
    OrientationAnswered,
    PaymentDone,
    SetAccessibility,
    SkipMeasurement,
    StartMeasurement,
    Touched,
    VisitReasonGiven,
    WipeDone,
)
from app.domain.trace import PATIENT, SYSTEM, Actor, ActorKind, IncidentCode, TraceKind
from app.domain.visit_reason import VisitReasonAnswer, clean_text

# --- settings a person may change on any screen ------------------------------------


def choose_language(t: Txn, ev: ChooseLanguage) -> None:
    if ev.language not in t.settings.languages:
        raise t.refuse(f"the language '{ev.language}' is not offered in this cabin")
    t.set(language=ev.language)


def set_accessibility(t: Txn, ev: SetAccessibility) -> None:
    t.set(accessibility=ev.options)


def touched(t: Txn, ev: Touched) -> None:
    """A touch: only the inactivity clock moves (done for every activity in `SessionFlow.handle`)."""


# --- welcome, emergency check, information ----------------------------------------


def begin(t: Txn, ev: Begin) -> None:
    if not ev.session_id:
        raise t.refuse("a session needs an id")
    t.set(step=State.EMERGENCY_CHECK, session_id=ev.session_id, started_at=ev.at)
    t.trace(TraceKind.SESSION_STARTED)


def emergency_answered(t: Txn, ev: EmergencyAnswered) -> None:
    if ev.flags:
        emergency_exit(t, ev.flags)
        return
    t.trace(TraceKind.EMERGENCY_CHECK_DONE)
    t.goto(State.INFORMATION)


def emergency_declared(t: Txn, ev: EmergencyDeclared) -> None:
    emergency_exit(t, ev.flags, declared=True)


def information(t: Txn, ev: InformationAcknowledged) -> None:
    t.set(information_acknowledged=True)
    t.trace(TraceKind.INFORMATION_GIVEN)
    t.goto(State.IDENTIFICATION)
    if t.ctx.card_present and not t.ctx.card_stale:
        t.do(ReadCard())  # the card was put in before: identification uses it (rule 7)


# --- identification ------------------------------------------------------------------


def identity_obtained(t: Txn, ev: IdentityObtained) -> None:
    if ev.source is IdentitySource.MANUAL and not ev.entered_by:
        raise t.refuse("a manual entry needs the professional's account")
    if not ev.candidates:
        t.set(identification_problem=IdentificationProblem.NO_BENEFICIARY)
        return
    if not all(allowed_identity(t, c) for c in ev.candidates):
        t.set(identification_problem=IdentificationProblem.TEST_IDENTITY_IN_PRODUCTION)
        t.incident(IncidentCode.IDENTITY_REFUSED_IN_PRODUCTION)
        return
    actor = Actor(ActorKind.ASSISTANT, ev.entered_by) if ev.entered_by else PATIENT
    t.trace(TraceKind.IDENTIFICATION, actor, ev.source.value)
    from_card = ev.source is IdentitySource.CARD
    t.set(
        candidates=ev.candidates,
        identity_source=ev.source,
        identification_problem=None,
        card_present=t.ctx.card_present or from_card,
        session_card=t.ctx.reader_card if from_card else None,
    )
    if len(ev.candidates) == 1:
        _choose(t, ev.candidates[0])
    else:
        t.goto(State.BENEFICIARY_CHOICE)


def _choose(t: Txn, identity: PatientIdentity) -> None:
    t.set(identity=identity, step=State.IDENTITY_CONFIRMATION)
    if identity.status in (IdentityStatus.PROV, IdentityStatus.VALI):
        t.do(QueryInsi())


def identification_failed(t: Txn, ev: IdentificationFailed) -> None:
    t.set(identification_problem=ev.problem)
    if ev.problem in (IdentificationProblem.CARD_UNREADABLE, IdentificationProblem.CARD_EXPIRED):
        t.incident(IncidentCode.CARD_ERROR)


def beneficiary(t: Txn, ev: BeneficiaryChosen) -> None:
    if not 0 <= ev.index < len(t.ctx.candidates):
        raise t.refuse(f"there is no beneficiary number {ev.index}")
    _choose(t, t.ctx.candidates[ev.index])


def identity_rejected(t: Txn, ev: IdentityRejected) -> None:
    t.trace(TraceKind.IDENTITY_REFUSED)
    t.set(
        step=State.IDENTIFICATION,
        candidates=(),
        identity=None,
        identity_source=None,
        session_card=None,
        identification_problem=IdentificationProblem.NOT_RECOGNISED,
    )


def identity_confirmed(t: Txn, ev: IdentityConfirmed) -> None:
    assert t.ctx.identity is not None  # IDENTITY_CONFIRMATION is entered with one
    t.set(identity_confirmed=True, step=State.CONSENT)
    t.trace(TraceKind.IDENTITY_CONFIRMED)
    t.store(t.ctx.identity)


def identity_updated(t: Txn, ev: IdentityUpdated) -> None:
    if t.ctx.identity is None:
        raise t.refuse("no identity has been chosen")
    if not allowed_identity(t, ev.identity):
        t.incident(IncidentCode.IDENTITY_REFUSED_IN_PRODUCTION)
        return
    t.set(identity=ev.identity)
    by = ev.identity.verified_by
    t.trace(
        TraceKind.IDENTIFICATION,
        Actor(ActorKind.ASSISTANT, by) if by else SYSTEM,
        ev.identity.status.value,
    )
    if t.ctx.identity_confirmed:
        t.store(ev.identity)


# --- consent ---------------------------------------------------------------------------

_CONSENT_TRACE = {
    ConsentChoice.GRANTED: TraceKind.CONSENT_GRANTED,
    ConsentChoice.REFUSED: TraceKind.CONSENT_REFUSED,
    ConsentChoice.WITHDRAWN: TraceKind.CONSENT_WITHDRAWN,
}


def consent_decided(t: Txn, ev: ConsentDecided) -> None:
    d = ev.decision
    before = current_choice(t.ctx.consents, d.item)
    if d.choice is ConsentChoice.WITHDRAWN and before is not ConsentChoice.GRANTED:
        raise t.refuse("consent can only be withdrawn after it was given")
    t.set(consents=(*t.ctx.consents, d))
    t.trace(_CONSENT_TRACE[d.choice], PATIENT, d.item.value)
    t.store(d)
    tele_lost = d.item is ConsentItem.TELECONSULTATION and d.choice is not ConsentChoice.GRANTED
    if tele_lost and t.ctx.step is not State.CONSENT:
        stop_device(t)
        end_call(t, PATIENT)
        t.goto(State.END)


def consent_done(t: Txn, ev: ConsentDone) -> None:
    t.goto(State.ORIENTATION if t.ctx.teleconsultation_granted else State.END)


# --- orientation and measurements -----------------------------------------------------


def orientation(t: Txn, ev: OrientationAnswered) -> None:
    assert t.ctx.identity is not None
    age = age_on(t.ctx.identity.traits.birth_date, ev.at.date())
    result = assess(ev.answers, age)
    t.set(orientation=result, step=State.VISIT_REASON)
    t.trace(TraceKind.ORIENTATION_ANSWERED, PATIENT, result.parcours.value)
    t.store(result)


def visit_reason(t: Txn, ev: VisitReasonGiven) -> None:
    answer = VisitReasonAnswer(ev.at, ev.reasons, clean_text(ev.text))
    t.set(visit_reason=answer, step=State.MEASUREMENTS)
    subject = "left-to-the-doctor" if answer.left_to_the_doctor else "given"
    t.trace(TraceKind.VISIT_REASON_GIVEN, PATIENT, subject)
    t.store(answer)


def start_measurement(t: Txn, ev: StartMeasurement) -> None:
    stop_device(t)
    t.set(active_device=ev.kind, manual_entry_for=None, measuring_since=ev.at)
    t.do(StartDevice(ev.kind))


def measurement_taken(t: Txn, ev: MeasurementTaken) -> None:
    m = ev.measurement
    if any(known.id == m.id for known in t.ctx.measurements):
        raise t.refuse("this measurement was already recorded")
    try:
        check_plausible(m)
    except ImplausibleMeasurement as exc:
        raise t.refuse(exc.sentence) from exc
    if isinstance(m.source, ManualSource):
        actor = Actor(ActorKind.ASSISTANT, m.source.professional_account_id)
    else:
        actor = PATIENT
    t.set(
        measurements=(*t.ctx.measurements, m),
        active_device=None if t.ctx.active_device is m.kind else t.ctx.active_device,
        manual_entry_for=None if t.ctx.manual_entry_for is m.kind else t.ctx.manual_entry_for,
        skipped=t.ctx.skipped - {m.kind},
    )
    t.store(m)
    t.trace(TraceKind.MEASUREMENT_TAKEN, actor, m.id)


def measurement_rejected(t: Txn, ev: MeasurementRejected) -> None:
    if t.ctx.active_device is ev.kind:
        t.set(active_device=None)
    t.trace(TraceKind.MEASUREMENT_REFUSED, SYSTEM, f"{ev.kind.value}:{ev.reason.value}")


def skip(t: Txn, ev: SkipMeasurement) -> None:
    if t.ctx.active_device is ev.kind:
        stop_device(t)
    t.set(skipped=t.ctx.skipped | {ev.kind})
    t.trace(TraceKind.MEASUREMENT_SKIPPED, PATIENT, ev.kind.value)


def measurements_done(t: Txn, ev: MeasurementsDone) -> None:
    stop_device(t)
    t.set(manual_entry_for=None)
    to_waiting_room(t)


# --- the call, documents, payment, end -----------------------------------------------


def call_started(t: Txn, ev: CallStarted) -> None:
    why = call_allowed(t.ctx)
    if why:
        raise t.refuse(why)
    if not ev.doctor_rpps:
        raise t.refuse("the doctor must be identified by an RPPS number")
    t.set(
        step=State.CALL,
        doctor_rpps=ev.doctor_rpps,
        call_started_at=ev.at,
        call_ended_at=None,
    )
    t.trace(TraceKind.CALL_STARTED, Actor(ActorKind.DOCTOR, ev.doctor_rpps))


def _doctor(ctx: SessionContext) -> Actor:
    return Actor(ActorKind.DOCTOR, ctx.doctor_rpps)


def hang_up(t: Txn, ev: HangUp) -> None:
    stop_device(t)
    end_call(t, PATIENT)
    t.goto(State.END)


def call_ended(t: Txn, ev: CallEnded) -> None:
    stop_device(t)
    t.set(call_ended_at=ev.at, step=State.END)
    t.trace(TraceKind.CALL_ENDED, _doctor(t.ctx))


def call_dropped(t: Txn, ev: CallDropped) -> None:
    stop_device(t)
    t.set(call_ended_at=ev.at)
    # R.6316-4 wants the start and the end of every call: a dropped call ends too,
    # here, before any retry starts the next one with its own CALL_STARTED.
    t.trace(TraceKind.CALL_ENDED, SYSTEM, "dropped")
    t.incident(IncidentCode.CALL_DROPPED)
    degrade(t, DegradedReason.CALL_DROPPED)


def document(t: Txn, ev: DocumentReceived) -> None:
    if t.ctx.call_started_at is None:
        raise t.refuse("documents come from a doctor's call, and there was none")
    if not ev.document_id or ev.document_id in t.ctx.documents:
        raise t.refuse("the document needs a new id")
    t.set(documents=(*t.ctx.documents, ev.document_id))
    t.store(DocumentRecord(ev.document_id, ev.kind))
    t.trace(TraceKind.DOCUMENT_RECEIVED, _doctor(t.ctx), ev.document_id)


def payment(t: Txn, ev: PaymentDone) -> None:
    if t.ctx.call_started_at is None or t.ctx.call_ended_at is None:
        raise t.refuse("payment comes only after the consultation has ended")
    if t.ctx.payment_reference is not None:
        raise t.refuse("the consultation has already been paid")
    t.set(payment_reference=ev.reference)
    t.store(PaymentRecord(ev.reference))
    t.trace(TraceKind.PAYMENT, PATIENT, ev.reference)


def finish(t: Txn, ev: Finish) -> None:
    wipe(t, EndReason.COMPLETED)


def finish_emergency(t: Txn, ev: Finish) -> None:
    wipe(t, EndReason.EMERGENCY)


def wipe_done(t: Txn, ev: WipeDone) -> None:
    t.ctx = fresh(t.ctx, t.settings)
    t.set(idle_since=ev.at)  # a card left for the next session goes stale when nobody comes
