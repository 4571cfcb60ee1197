"""Issue 11 through the controller: touches, the card at welcome or changed, one-act sign-in."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from app.call.summary import measurement_rows
from app.controller.assisted import AssistedActs
from app.domain import session_events as ev
from app.domain.measurements import MeasurementKind, Quantity
from app.domain.session_context import State
from app.domain.trace import ActorKind, IncidentCode, TraceKind
from app.maintenance.roles import Role
from drivers import events as dev
from tests.controller.conftest import Kiosk, family_card, single_card
from tests.controller.test_assisted import _account, _creds
from tests.controller.test_sessions import to_measurements


async def test_note_activity_is_throttled_closes_the_warning_and_never_raises(
    kiosk: Kiosk,
) -> None:
    k, c = kiosk, kiosk.controller
    await c.note_activity()  # on the welcome screen: accepted, nothing to trace
    await to_measurements(k)
    k.clock.advance(60)
    await c.tick()
    assert k.state() is State.INACTIVITY_WARNING
    await c.note_activity()
    assert k.state() is State.MEASUREMENTS
    revision = k.view.revision
    k.clock.advance(0.5)
    await c.note_activity()  # within the throttle: not dispatched
    assert k.view.revision == revision
    k.clock.advance(0.6)
    await c.note_activity()
    assert k.view.revision == revision + 1
    assert all(e.kind is not TraceKind.INCIDENT for e in k.view.context.trace[-1:])


async def test_a_card_put_in_at_welcome_is_read_for_its_session(kiosk: Kiosk) -> None:
    k, c = kiosk, kiosk.controller
    await c.device_event(dev.CardInserted("reader-1"))
    await c.device_event(family_card())
    assert k.state() is State.WELCOME and k.view.card_ready and not k.view.card_to_take
    assert (await c.submit(ev.Begin)).accepted
    assert (await c.submit(ev.EmergencyAnswered)).accepted
    assert (await c.submit(ev.InformationAcknowledged)).accepted
    assert k.state() is State.BENEFICIARY_CHOICE  # the kept read, no dead end
    assert len(k.view.context.candidates) == 2


async def test_another_card_after_removal_is_a_new_identity_question(kiosk: Kiosk) -> None:
    k, c = kiosk, kiosk.controller
    await to_measurements(k)
    await c.device_event(dev.CardRemoved("reader-1"))
    assert k.state() is State.CARD_REMOVED_PAUSE
    await c.device_event(dev.CardInserted("reader-1"))
    await c.device_event(family_card())  # not the first card
    assert k.state() is State.CARD_CHANGED
    codes = [e.incident for e in k.view.context.trace if e.incident is not None]
    assert IncidentCode.CARD_CHANGED in codes
    assert (await c.submit(ev.StopConfirmed)).accepted  # start again with this card
    assert k.state() is State.WELCOME and k.view.card_ready


async def test_the_same_card_back_goes_on(kiosk: Kiosk) -> None:
    k, c = kiosk, kiosk.controller
    await to_measurements(k)
    await c.device_event(dev.CardRemoved("reader-1"))
    await c.device_event(dev.CardInserted("reader-1"))
    await c.device_event(single_card())
    assert k.state() is State.MEASUREMENTS


async def test_a_sign_in_lasts_one_act(kiosk: Kiosk) -> None:
    k, c = kiosk, kiosk.controller
    assert c.assist is not None
    secret = await _account(k, "marie.dupont", Role.ASSISTANT)
    await to_measurements(k)
    assert (await c.submit(ev.StartMeasurement, kind=MeasurementKind.SPO2)).accepted
    await c.feed(ev.DeviceFailed(k.clock.now(), kind=MeasurementKind.SPO2, device_id="oxi-1"))
    assert (await c.submit(ev.DegradedChoice, option=ev.DegradedOption.MANUAL_ENTRY)).accepted
    assert (await c.assist.sign_in(_creds(k, "marie.dupont", secret))).ok
    assistant = k.view.assistant
    assert assistant is not None and assistant.expires_at == k.clock.now() + timedelta(seconds=120)
    done = await c.assist.enter_measurement(MeasurementKind.SPO2, {Quantity.SPO2: Decimal(96)})
    assert done.ok
    assert k.view.assistant is None  # the act is done: signed out
    again = await c.assist.enter_measurement(
        MeasurementKind.HEART_RATE, {Quantity.HEART_RATE: Decimal(70)}
    )
    assert not again.ok
    record = await k.store.session_bundle_source(k.view.context.session_id or "")
    kinds = [(e.kind, e.actor.kind, e.subject) for e in record.trace]
    assert (TraceKind.ASSISTANT_SIGNED_IN, ActorKind.ASSISTANT, "manual-measurement") in kinds
    assert (TraceKind.ASSISTANT_SIGNED_OUT, ActorKind.ASSISTANT, "act-done") in kinds
    # The doctor reads who entered the value by name, after the sign-in ended.
    names = c.professional_names()
    assert names == {"marie.dupont": "Marie Dupont"}
    rows = measurement_rows(k.view.context.measurements, names)
    assert [r["by"] for r in rows] == ["saisie à la main par Marie Dupont"]


async def test_the_names_of_professionals_go_with_the_session(kiosk: Kiosk) -> None:
    k, c = kiosk, kiosk.controller
    assert c.assist is not None
    secret = await _account(k, "marie.dupont", Role.ASSISTANT)
    await to_measurements(k)
    assert (await c.assist.sign_in(_creds(k, "marie.dupont", secret))).ok
    assert c.professional_names() == {"marie.dupont": "Marie Dupont"}
    assert (await c.submit(ev.StopRequested)).accepted
    assert (await c.submit(ev.StopConfirmed)).accepted
    for _ in range(5):  # the card asked back, then the welcome screen
        if k.state() is State.WELCOME:
            break
        k.clock.advance(120)
        await c.tick()
    assert k.state() is State.WELCOME
    assert c.professional_names() == {}


async def test_a_sign_in_ends_after_the_idle_time(kiosk: Kiosk) -> None:
    k, c = kiosk, kiosk.controller
    assert c.assist is not None
    secret = await _account(k, "marie.dupont", Role.ASSISTANT)
    await to_measurements(k)
    assert (await c.assist.sign_in(_creds(k, "marie.dupont", secret))).ok
    k.clock.advance(100)
    await c.note_activity()  # the professional is at the screen: the time starts again
    k.clock.advance(100)
    await c.tick()
    assert k.view.assistant is not None
    k.clock.advance(21)
    await c.tick()
    assert k.view.assistant is None
    record = await k.store.session_bundle_source(k.view.context.session_id or "")
    assert any(
        e.kind is TraceKind.ASSISTANT_SIGNED_OUT and e.subject == "idle" for e in record.trace
    )


async def _signed_in_at_measurements(k: Kiosk) -> AssistedActs:
    """A professional signed in at the measurements step; the assisted acts to use."""
    assist = k.controller.assist
    assert assist is not None
    secret = await _account(k, "marie.dupont", Role.ASSISTANT)
    await to_measurements(k)
    assert (await assist.sign_in(_creds(k, "marie.dupont", secret))).ok
    return assist


async def test_the_oximeters_form_gives_the_spo2_and_the_pulse_as_two_measurements(
    kiosk: Kiosk,
) -> None:
    """Found by the person test: 97 % and 72/min were refused as 'not possible'."""
    k = kiosk
    assist = await _signed_in_at_measurements(k)
    done = await assist.enter_measurement(
        MeasurementKind.SPO2, {Quantity.SPO2: Decimal(97), Quantity.HEART_RATE: Decimal(72)}
    )
    assert done.ok, done.message
    taken = {m.kind: m for m in k.view.context.measurements}
    assert taken[MeasurementKind.SPO2].value(Quantity.SPO2) == Decimal(97)
    assert taken[MeasurementKind.HEART_RATE].value(Quantity.HEART_RATE) == Decimal(72)
    assert all(m.is_manual for m in taken.values())
    assert k.view.assistant is None  # one act, two values


async def test_an_implausible_pulse_records_neither_value(kiosk: Kiosk) -> None:
    k = kiosk
    assist = await _signed_in_at_measurements(k)
    done = await assist.enter_measurement(
        MeasurementKind.SPO2, {Quantity.SPO2: Decimal(97), Quantity.HEART_RATE: Decimal(900)}
    )
    assert not done.ok
    assert k.view.context.measurements == ()
    assert k.view.assistant is not None  # still signed in to correct the value
