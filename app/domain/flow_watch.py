"""Handlers of what happens around the way: reports, dialogs, the clock and the card.

Internal to the session flow: `app.domain.flow` names these handlers in its
transition table. They answer devices, the platform and the call (rules 8,
11), the stop and inactivity dialogs (rules 5, 6) and the card reader
(rules 4, 7), whatever step the patient is on.
"""

from __future__ import annotations

from app.domain.flow_txn import (
    Txn,
    card_left,
    degrade,
    fresh,
    seconds,
    to_waiting_room,
    wipe,
    wipe_now,
)
from app.domain.session_context import FlowSettings, SessionContext, State
from app.domain.session_effects import DegradedReason, EndCall, EndReason, StartDevice, StopDevices
from app.domain.session_events import (
    CallMediaCheckFailed,
    CardIdentified,
    CardInserted,
    CardRemoved,
    ContinueWithoutCard,
    DegradedChoice,
    DegradedOption,
    DeviceFailed,
    Event,
    Finish,
    IdentitySource,
    PlatformReachable,
    PlatformUnreachable,
    StillHere,
    StopCancelled,
    StopConfirmed,
    StopRequested,
    Tick,
)
from app.domain.trace import PATIENT, IncidentCode, TraceKind

#: Steps where a pulled card pauses the session and asks (rule 7).
CARD_PAUSE_STEPS = frozenset(
    {
        State.BENEFICIARY_CHOICE,
        State.IDENTITY_CONFIRMATION,
        State.CONSENT,
        State.ORIENTATION,
        State.VISIT_REASON,
        State.MEASUREMENTS,
        State.WAITING_ROOM,
    }
)
#: Steps whose inactivity is not watched when no dialog is open (rule 6).
_UNWATCHED = frozenset({State.WELCOME, State.WIPE, State.TAKE_CARD, State.WAITING_ROOM, State.CALL})
#: Steps with a message the patient must read: the warning waits at least `message_reading_s`.
_MESSAGES = frozenset({State.DEGRADED, State.EMERGENCY_EXIT})

# --- devices and platform reports (any step) -------------------------------------------


def device_failed(t: Txn, ev: DeviceFailed) -> None:
    t.incident(IncidentCode.DEVICE_FAILED, ev.device_id)
    if t.ctx.active_device is not ev.kind:
        return
    t.set(active_device=None)
    t.do(StopDevices())
    if t.ctx.step is State.MEASUREMENTS:
        degrade(t, DegradedReason.DEVICE_FAILED, ev.kind, old_record_only=ev.old_record_only)


def platform_unreachable(t: Txn, ev: PlatformUnreachable) -> None:
    if t.ctx.platform_reachable:
        t.incident(IncidentCode.PLATFORM_UNREACHABLE)
    t.set(platform_reachable=False)
    if t.ctx.step is State.WAITING_ROOM:
        t.do(EndCall())  # leave the waiting queue
        degrade(t, DegradedReason.PLATFORM_UNREACHABLE)
    # In CALL the media may still flow peer to peer: the call module reports a drop.


def call_media_check_failed(t: Txn, ev: CallMediaCheckFailed) -> None:
    t.incident(IncidentCode.CALL_MEDIA_CHECK_FAILED, ",".join(ev.problems) or None)
    t.do(EndCall())
    degrade(t, DegradedReason.CABIN_MEDIA_FAILED)


def platform_unreachable_idle(t: Txn, ev: PlatformUnreachable) -> None:
    t.set(platform_reachable=False)


def platform_reachable(t: Txn, ev: PlatformReachable) -> None:
    t.set(platform_reachable=True)


def degraded_choice(t: Txn, ev: DegradedChoice) -> None:
    degraded = t.ctx.degraded
    assert degraded is not None  # DEGRADED is entered with one
    if ev.option not in degraded.options:
        raise t.refuse(f"'{ev.option.value}' is not offered for {degraded.reason.value}")
    if degraded.reason is DegradedReason.DEVICE_FAILED:
        kind = degraded.device_kind
        assert kind is not None  # a device failure names its kind
        t.set(step=State.MEASUREMENTS, degraded=None)
        if ev.option is DegradedOption.RETRY:
            t.set(active_device=kind, measuring_since=ev.at)
            t.do(StartDevice(kind))
        elif ev.option is DegradedOption.MANUAL_ENTRY:
            t.set(manual_entry_for=kind)
        else:
            t.set(skipped=t.ctx.skipped | {kind})
            t.trace(TraceKind.MEASUREMENT_SKIPPED, PATIENT, kind.value)
    elif ev.option is DegradedOption.RETRY:
        if degraded.reason is not DegradedReason.WAIT_TOO_LONG:
            t.set(platform_reachable=True)  # the patient asks to try: the next report will tell
        to_waiting_room(t)  # after a long wait: keep waiting, a new maximum wait begins
    else:
        t.set(step=State.END, degraded=None)


# --- stop, inactivity, card --------------------------------------------------------------


def stop_requested(t: Txn, ev: StopRequested) -> None:
    t.push(State.STOP_CONFIRM)


def stop_confirmed(t: Txn, ev: StopConfirmed) -> None:
    # A stop asked over the card-changed question starts again with the new card.
    wipe(t, EndReason.STOPPED, keep_card=State.CARD_CHANGED in t.ctx.dialogs)


def start_again_with_new_card(t: Txn, ev: StopConfirmed) -> None:
    """ "Stop and start again with this card": the card in the reader is the next patient's."""
    wipe(t, EndReason.STOPPED, keep_card=True)


def stop_cancelled(t: Txn, ev: StopCancelled) -> None:
    t.pop(State.STOP_CONFIRM)


def still_here(t: Txn, ev: StillHere) -> None:
    """Activity closes the warning (done for every activity in `SessionFlow.handle`)."""


def continue_without_card(t: Txn, ev: ContinueWithoutCard) -> None:
    t.pop(State.CARD_REMOVED_PAUSE)


def card_inserted(t: Txn, ev: CardInserted) -> None:
    # A card put in is a new card: not stale, not known until it is read.
    t.set(card_present=True, card_stale=False, reader_card=None)
    t.pop(State.CARD_REMOVED_PAUSE)


def card_removed(t: Txn, ev: CardRemoved) -> None:
    t.set(card_present=False, card_stale=False, reader_card=None)
    t.pop(State.CARD_CHANGED)
    ctx = t.ctx
    if ctx.step is State.TAKE_CARD:
        wipe_now(t)
        return
    pause = (
        ctx.step in CARD_PAUSE_STEPS
        and ctx.identity_source is IdentitySource.CARD
        and State.STOP_CONFIRM not in ctx.dialogs
        and State.CARD_REMOVED_PAUSE not in ctx.dialogs
    )
    if pause:
        t.incident(IncidentCode.CARD_REMOVED)
        t.push(State.CARD_REMOVED_PAUSE)


def card_identified(t: Txn, ev: CardIdentified) -> None:
    t.set(card_present=True, reader_card=ev.fingerprint)
    ctx = t.ctx
    if ctx.session_card is None or ctx.identity_source is not IdentitySource.CARD:
        return  # no card identity to compare with: identification reads it (rule 7)
    if ev.fingerprint == ctx.session_card:
        t.pop(State.CARD_CHANGED)
        t.pop(State.CARD_REMOVED_PAUSE)
        return
    t.incident(IncidentCode.CARD_CHANGED)
    if ctx.step in CARD_PAUSE_STEPS and State.STOP_CONFIRM not in ctx.dialogs:
        t.pop(State.CARD_REMOVED_PAUSE)
        t.push(State.CARD_CHANGED)


def leave_card(t: Txn, ev: Finish) -> None:
    """The person leaves without the card (or the reader is wrong): wipe, card marked stale."""
    card_left(t)


def tick(t: Txn, ev: Tick) -> None:
    ctx, s = t.ctx, t.settings
    idle = seconds(ev.at, ctx.idle_origin())
    if ctx.step is State.WELCOME:
        if idle < s.inactivity_warning_s:
            return
        changed = (
            ctx.language != s.default_language or ctx.accessibility != fresh(ctx, s).accessibility
        )
        if changed:
            t.ctx = fresh(ctx, s)  # the next person must not inherit a stranger's choices
        if t.ctx.card_present and not t.ctx.card_stale:
            t.set(card_stale=True)  # put in and left: the next person is asked to take it
        return
    if ctx.step is State.WIPE:
        return
    if ctx.step is State.TAKE_CARD:
        if seconds(ev.at, ctx.take_card_since) >= s.take_card_s:
            card_left(t)
        return
    device = ctx.active_device
    if (
        ctx.step is State.MEASUREMENTS
        and device is not None
        and seconds(ev.at, ctx.measuring_since) >= s.measure_max_s
    ):
        # Neither a reading nor a failure: the device is taken as failed (never a dead end).
        t.incident(IncidentCode.DEVICE_FAILED, f"{device.value}:no-answer")
        t.set(active_device=None)
        t.do(StopDevices())
        degrade(t, DegradedReason.DEVICE_FAILED, device)
        return
    if ctx.step is State.WAITING_ROOM and seconds(ev.at, ctx.wait_started_at) >= s.max_wait_s:
        t.incident(IncidentCode.WAIT_TOO_LONG)
        t.do(EndCall())  # leave the waiting queue
        degrade(t, DegradedReason.WAIT_TOO_LONG)
        return
    if State.INACTIVITY_WARNING in ctx.dialogs:
        if seconds(ev.at, ctx.warning_started_at) >= s.inactivity_countdown_s:
            wipe(t, EndReason.ABANDONED)
        return
    watched = bool(ctx.dialogs) or not (
        ctx.step in _UNWATCHED or (ctx.step is State.MEASUREMENTS and ctx.active_device)
    )
    if watched and idle >= _idle_limit(ctx, s):
        t.push(State.INACTIVITY_WARNING)
        t.set(warning_started_at=ev.at)


def _idle_limit(ctx: SessionContext, s: FlowSettings) -> float:
    """Seconds of idleness before the warning, on what is shown now (rule 6)."""
    if ctx.state is State.CARD_REMOVED_PAUSE:
        return s.card_removed_grace_s
    if ctx.dialogs:
        return s.inactivity_warning_s
    if ctx.step is State.END:
        return max(s.end_reading_s, s.inactivity_warning_s)
    if ctx.step in _MESSAGES:
        return max(s.message_reading_s, s.inactivity_warning_s)
    return s.inactivity_warning_s


def late_report(t: Txn, ev: Event) -> None:
    """A device or the call reporting after the session closed: nothing left to change."""
