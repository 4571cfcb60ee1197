"""What every flow handler works with: the transaction on the context and the shared moves.

Internal to the session flow (`app.domain.flow` is its only user). A handler
receives a `Txn`, changes `t.ctx` (an immutable context rebuilt at every
change) and appends effects; `SessionFlow` swaps the context in only once the
handler has returned, which is why a refusal anywhere changes nothing. The
moves several handlers share (closing the session, the degraded path, the way
into the waiting room) live here so that each is written once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from app.domain.emergency import RedFlag, numbers_for
from app.domain.errors import DomainError
from app.domain.identity import InvalidIdentity, PatientIdentity, check_allowed_in_mode
from app.domain.measurements import MeasurementKind
from app.domain.session_context import Degraded, FlowSettings, SessionContext, State
from app.domain.session_effects import (
    DegradedReason,
    Effect,
    EndCall,
    EndReason,
    Fact,
    OpenCall,
    ShowDegraded,
    StopDevices,
    Wipe,
    WriteToStore,
)
from app.domain.session_events import DegradedOption, Event
from app.domain.trace import PATIENT, SYSTEM, Actor, IncidentCode, TraceEntry, TraceKind, incident

DEGRADED_OPTIONS: Mapping[DegradedReason, tuple[DegradedOption, ...]] = {
    DegradedReason.DEVICE_FAILED: (
        DegradedOption.RETRY,
        DegradedOption.MANUAL_ENTRY,
        DegradedOption.SKIP,
    ),
    DegradedReason.PLATFORM_UNREACHABLE: (DegradedOption.RETRY, DegradedOption.FINISH),
    DegradedReason.CALL_DROPPED: (DegradedOption.RETRY, DegradedOption.FINISH),
    DegradedReason.CABIN_MEDIA_FAILED: (DegradedOption.RETRY, DegradedOption.FINISH),
    DegradedReason.WAIT_TOO_LONG: (DegradedOption.RETRY, DegradedOption.FINISH),
}


class IllegalTransition(DomainError):
    """An event the flow cannot accept now; nothing was changed."""

    def __init__(self, state: State, event: Event, why: str = "") -> None:
        self.state = state
        self.event_name = type(event).__name__
        self.why = why
        sentence = f"{self.event_name} cannot happen in state {state.name}"
        super().__init__(f"{sentence}: {why}" if why else f"{sentence}.")


@dataclass
class Txn:
    """A transaction on the context: handlers change `ctx` and add effects."""

    ctx: SessionContext
    event: Event
    settings: FlowSettings
    effects: list[Effect] = field(default_factory=list)

    def refuse(self, why: str) -> IllegalTransition:
        return IllegalTransition(self.ctx.state, self.event, why)

    def set(self, **changes: Any) -> None:
        self.ctx = replace(self.ctx, **changes)

    def goto(self, step: State) -> None:
        self.set(step=step)

    def push(self, dialog: State) -> None:
        if dialog not in self.ctx.dialogs:
            self.set(dialogs=(*self.ctx.dialogs, dialog))

    def pop(self, dialog: State) -> None:
        self.set(dialogs=tuple(d for d in self.ctx.dialogs if d is not dialog))

    def trace(
        self,
        kind: TraceKind,
        actor: Actor = PATIENT,
        subject: str | None = None,
    ) -> None:
        self.set(trace=(*self.ctx.trace, TraceEntry(self.event.at, kind, actor, subject)))

    def incident(self, code: IncidentCode, subject: str | None = None) -> None:
        self.set(trace=(*self.ctx.trace, incident(self.event.at, code, subject)))

    def store(self, fact: Fact) -> None:
        assert self.ctx.session_id is not None  # facts exist only inside a session
        self.effects.append(WriteToStore(self.ctx.session_id, fact))

    def do(self, effect: Effect) -> None:
        self.effects.append(effect)


Handler = Callable[[Txn, Any], None]

# --- helpers shared by handlers ----------------------------------------------------


def stop_device(t: Txn) -> None:
    if t.ctx.active_device is not None:
        t.do(StopDevices())
        t.set(active_device=None)


def end_call(t: Txn, actor: Actor) -> None:
    if t.ctx.call_in_progress:
        t.do(EndCall())
        t.set(call_ended_at=t.event.at)
        t.trace(TraceKind.CALL_ENDED, actor)


def wipe(t: Txn, reason: EndReason, *, keep_card: bool = False) -> None:
    """Close the session: stop what runs, trace why, then wait for the card or wipe (rule 4).

    `keep_card`: the card in the reader is not this session's (the patient
    chose to start again with it): it is not asked for.
    """
    stop_device(t)
    end_call(t, SYSTEM)
    kind = {
        EndReason.STOPPED: TraceKind.STOP,
        EndReason.ABANDONED: TraceKind.ABANDON,
    }.get(reason)
    if kind is not None:
        t.trace(kind, PATIENT if reason is EndReason.STOPPED else SYSTEM)
    t.set(dialogs=(), warning_started_at=None, end_reason=reason)
    if t.ctx.card_present and not keep_card:
        t.set(step=State.TAKE_CARD, take_card_since=t.event.at)
        return
    wipe_now(t)


def wipe_now(t: Txn) -> None:
    reason = t.ctx.end_reason
    assert reason is not None and t.ctx.session_id is not None  # set by wipe
    t.trace(TraceKind.WIPE, SYSTEM, reason.value)
    t.do(Wipe(t.ctx.session_id, reason))
    t.set(step=State.WIPE, dialogs=(), warning_started_at=None, take_card_since=None)


def card_left(t: Txn) -> None:
    """The closing session gives up waiting for the card: traced, and the card is stale."""
    t.incident(IncidentCode.CARD_LEFT_IN_READER)
    t.set(card_stale=True)
    wipe_now(t)


def emergency_exit(t: Txn, flags: frozenset[RedFlag], declared: bool = False) -> None:
    stop_device(t)
    end_call(t, SYSTEM)
    numbers = numbers_for(flags, t.ctx.accessibility.hearing_impaired, declared)
    t.trace(TraceKind.EMERGENCY_EXIT)
    t.set(
        step=State.EMERGENCY_EXIT,
        dialogs=(),
        red_flags=flags,
        emergency_numbers=numbers,
        end_reason=EndReason.EMERGENCY,
    )


def degrade(
    t: Txn,
    reason: DegradedReason,
    kind: MeasurementKind | None = None,
    *,
    old_record_only: bool = False,
) -> None:
    options = DEGRADED_OPTIONS[reason]
    t.set(step=State.DEGRADED, degraded=Degraded(reason, options, kind, old_record_only))
    t.do(ShowDegraded(reason, options))


def call_allowed(ctx: SessionContext) -> str:
    """Why the call may not happen ('' when it may): rule 2."""
    if ctx.identity is None or not ctx.identity_confirmed:
        return "the patient has not confirmed an identity"
    if not ctx.teleconsultation_granted:
        return "the patient has not agreed to the teleconsultation"
    return ""


def to_waiting_room(t: Txn) -> None:
    why = call_allowed(t.ctx)
    if why:
        raise t.refuse(why)
    if not t.ctx.platform_reachable:
        t.incident(IncidentCode.PLATFORM_UNREACHABLE)
        degrade(t, DegradedReason.PLATFORM_UNREACHABLE)
        return
    t.set(
        step=State.WAITING_ROOM,
        degraded=None,
        waiting_since=t.ctx.waiting_since or t.event.at,
        wait_started_at=t.event.at,
    )
    t.do(OpenCall())


def fresh(ctx: SessionContext, settings: FlowSettings) -> SessionContext:
    """The welcome screen's context: nothing of the patient; the cabin's network and card stay."""
    return SessionContext(
        language=settings.default_language,
        platform_reachable=ctx.platform_reachable,
        card_present=ctx.card_present,
        card_stale=ctx.card_present and ctx.card_stale,
        reader_card=ctx.reader_card if ctx.card_present else None,
    )


def allowed_identity(t: Txn, identity: PatientIdentity) -> bool:
    try:
        check_allowed_in_mode(identity, t.settings.mode)
    except InvalidIdentity:
        return False
    return True


def seconds(now: datetime, since: datetime | None) -> float:
    return (now - since).total_seconds() if since is not None else 0.0
