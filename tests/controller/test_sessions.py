"""Whole sessions through the controller: real flow, real store, real simulated devices."""

from __future__ import annotations

from decimal import Decimal

from app.domain import session_events as ev
from app.domain.consent import ConsentChoice, ConsentItem, ConsentText
from app.domain.identity import IdentityStatus
from app.domain.measurements import DeviceSource, MeasurementKind, Quantity
from app.domain.orientation import OrientationAnswers
from app.domain.session_context import State
from app.domain.trace import ActorKind, IncidentCode, TraceKind
from app.domain.visit_reason import VisitReason
from drivers import events as dev
from tests.controller.conftest import DOCTOR_RPPS, Kiosk, family_card, single_card

TELECONSULTATION = ConsentText("tc-fr", ConsentItem.TELECONSULTATION, "3", "fr", "Je consens…")


async def _identified(k: Kiosk, card: dev.CardRead) -> None:
    c = k.controller
    assert (await c.submit(ev.Begin)).accepted
    assert (await c.submit(ev.EmergencyAnswered)).accepted
    assert (await c.submit(ev.InformationAcknowledged)).accepted
    assert k.state() is State.IDENTIFICATION
    await c.device_event(dev.CardInserted("reader-1"))
    await c.device_event(card)


async def to_measurements(k: Kiosk) -> str:
    c = k.controller
    await _identified(k, single_card())
    assert k.state() is State.IDENTITY_CONFIRMATION
    assert (await c.submit(ev.IdentityConfirmed)).accepted
    assert (await c.decide_consent(TELECONSULTATION, ConsentChoice.GRANTED)).accepted
    assert (await c.submit(ev.ConsentDone)).accepted
    assert (
        await c.submit(
            ev.OrientationAnswered, answers=OrientationAnswers(has_medecin_traitant=True)
        )
    ).accepted
    assert (await c.submit(ev.VisitReasonGiven, reasons=(VisitReason.FEVER,))).accepted
    assert k.state() is State.MEASUREMENTS
    session_id = k.view.context.session_id
    assert session_id is not None
    return session_id


def _kinds(k: Kiosk) -> list[MeasurementKind]:
    return [m.kind for m in k.view.context.measurements]


async def test_whole_session_on_the_simulators(kiosk: Kiosk) -> None:
    k, c = kiosk, kiosk.controller
    await _identified(k, family_card())
    assert k.state() is State.BENEFICIARY_CHOICE
    assert len(k.view.context.candidates) == 2
    assert ev.BeneficiaryChosen in k.view.choices and ev.IdentityConfirmed not in k.view.choices
    assert (await c.submit(ev.BeneficiaryChosen, index=1)).accepted
    assert k.view.context.identity is not None
    assert k.view.context.identity.traits.birth_first_names == ("Léa",)
    assert (await c.submit(ev.IdentityConfirmed)).accepted
    assert (await c.decide_consent(TELECONSULTATION, ConsentChoice.GRANTED)).accepted
    assert (await c.submit(ev.ConsentDone)).accepted
    assert (
        await c.submit(
            ev.OrientationAnswered, answers=OrientationAnswers(has_medecin_traitant=True)
        )
    ).accepted
    assert (await c.submit(ev.VisitReasonGiven, reasons=(VisitReason.FEVER,))).accepted
    session_id = k.view.context.session_id
    assert session_id is not None

    # thermometer (BLE, bleak with the simulated air)
    k.sims.set_next_reading("thermo-1", value=Decimal("38.4"))
    assert (await c.submit(ev.StartMeasurement, kind=MeasurementKind.BODY_TEMPERATURE)).accepted
    await k.until(lambda v: MeasurementKind.BODY_TEMPERATURE in _kinds(k))
    # oximeter: one reading gives SpO2 and heart rate
    assert (await c.submit(ev.StartMeasurement, kind=MeasurementKind.SPO2)).accepted
    await k.until(lambda v: MeasurementKind.HEART_RATE in _kinds(k))
    # tensiometer on a pty: the patient presses the monitor's start button
    assert (await c.submit(ev.StartMeasurement, kind=MeasurementKind.BLOOD_PRESSURE)).accepted
    await k.until(
        lambda v: (
            v.device_status is not None and v.device_status.value in ("connected", "measuring")
        )
    )
    k.sims.start_measurement("bp-1")
    await k.until(lambda v: MeasurementKind.BLOOD_PRESSURE in _kinds(k))
    temperature, spo2, rate, pressure = k.view.context.measurements[:4]
    assert temperature.value(Quantity.BODY_TEMPERATURE) == Decimal("38.4")
    assert temperature.source == DeviceSource("thermo-1")
    assert (spo2.kind, spo2.value(Quantity.SPO2)) == (MeasurementKind.SPO2, Decimal(97))
    assert (rate.kind, rate.value(Quantity.HEART_RATE)) == (MeasurementKind.HEART_RATE, Decimal(72))
    assert (pressure.value(Quantity.SYSTOLIC), pressure.value(Quantity.DIASTOLIC)) == (
        Decimal(121),
        Decimal(78),
    )

    assert (await c.submit(ev.MeasurementsDone)).accepted
    assert k.state() is State.WAITING_ROOM and k.call.opened == [session_id]
    k.call.doctor_joins()
    view = await k.until(lambda v: v.state is State.CALL)
    assert view.doctor is not None and view.doctor.rpps == DOCTOR_RPPS
    k.call.doctor_hangs_up()
    await k.until(lambda v: v.state is State.END)
    assert k.view.card_to_take  # the end screen reminds of the card
    assert (await c.submit(ev.Finish)).accepted
    assert k.state() is State.TAKE_CARD and k.view.card_to_take  # asked for, then the wipe
    await c.device_event(dev.CardRemoved("reader-1"))
    assert k.state() is State.WELCOME and k.view.context.session_id is None
    assert k.view.context.measurements == () and k.view.doctor is None

    record = await k.store.session_bundle_source(session_id)
    assert record.end_reason == "completed" and record.ended_at is not None
    assert record.identity is not None and record.identity.status is IdentityStatus.PROV
    assert record.identity.traits.birth_first_names == ("Léa",)
    assert [m.kind for m in record.measurements] == [
        MeasurementKind.BODY_TEMPERATURE,
        MeasurementKind.SPO2,
        MeasurementKind.HEART_RATE,
        MeasurementKind.BLOOD_PRESSURE,
        MeasurementKind.HEART_RATE,
    ]
    kinds = [t.kind for t in record.trace]
    assert kinds[0] is TraceKind.SESSION_STARTED and kinds[-1] is TraceKind.WIPE
    assert TraceKind.CALL_STARTED in kinds and TraceKind.CALL_ENDED in kinds
    doctor_entries = [t for t in record.trace if t.actor.kind is ActorKind.DOCTOR]
    assert {t.actor.id for t in doctor_entries} == {DOCTOR_RPPS}
    assert [c.item for c in record.consents] == [ConsentItem.TELECONSULTATION]


async def test_a_refused_choice_changes_nothing_and_says_why(kiosk: Kiosk) -> None:
    c = kiosk.controller
    before = kiosk.view.context
    result = await c.submit(ev.IdentityConfirmed)
    assert not result.accepted
    assert result.reason == "IdentityConfirmed cannot happen in state WELCOME."
    assert kiosk.view.context == before


async def test_stop_asks_then_wipes(kiosk: Kiosk) -> None:
    k, c = kiosk, kiosk.controller
    session_id = await to_measurements(k)
    assert (await c.submit(ev.StopRequested)).accepted
    assert k.state() is State.STOP_CONFIRM and k.view.step is State.MEASUREMENTS
    assert (await c.submit(ev.StopCancelled)).accepted
    assert k.state() is State.MEASUREMENTS
    assert (await c.submit(ev.StopRequested)).accepted
    assert (await c.submit(ev.StopConfirmed)).accepted
    assert k.state() is State.TAKE_CARD and k.view.context.identity is not None
    await c.device_event(dev.CardRemoved("reader-1"))
    assert k.state() is State.WELCOME and k.view.context.identity is None
    record = await k.store.session_bundle_source(session_id)
    assert record.end_reason == "stopped"
    assert [t.kind for t in record.trace][-2:] == [TraceKind.STOP, TraceKind.WIPE]


async def test_inactivity_warns_then_abandons_on_the_fake_clock(kiosk: Kiosk) -> None:
    k, c = kiosk, kiosk.controller
    session_id = await to_measurements(k)
    k.clock.advance(59)
    await c.tick()
    assert k.state() is State.MEASUREMENTS
    k.clock.advance(1)
    await c.tick()
    assert k.state() is State.INACTIVITY_WARNING
    assert k.view.countdown_s(k.clock.now()) == 30
    k.clock.advance(12)
    assert k.view.countdown_s(k.clock.now()) == 18
    k.clock.advance(18)
    await c.tick()
    assert k.state() is State.TAKE_CARD  # abandoned with the card in: asked for a while
    k.clock.advance(90)
    await c.tick()
    assert k.state() is State.WELCOME
    assert k.view.card_to_take and not k.view.card_ready  # a stale card: take it, never read
    record = await k.store.session_bundle_source(session_id)
    assert record.end_reason == "abandoned"


async def test_still_here_closes_the_warning(kiosk: Kiosk) -> None:
    k, c = kiosk, kiosk.controller
    await to_measurements(k)
    k.clock.advance(61)
    await c.tick()
    assert k.state() is State.INACTIVITY_WARNING
    assert (await c.submit(ev.StillHere)).accepted
    assert k.state() is State.MEASUREMENTS and k.view.countdown_deadline is None


async def test_card_pulled_pauses_and_asks(kiosk: Kiosk) -> None:
    k, c = kiosk, kiosk.controller
    session_id = await to_measurements(k)
    await c.device_event(dev.CardRemoved("reader-1"))
    assert k.state() is State.CARD_REMOVED_PAUSE
    assert ev.ContinueWithoutCard in k.view.choices and ev.StopConfirmed in k.view.choices
    await c.device_event(dev.CardInserted("reader-1"))
    assert k.state() is State.MEASUREMENTS
    await c.device_event(dev.CardRemoved("reader-1"))
    assert (await c.submit(ev.ContinueWithoutCard)).accepted
    assert k.state() is State.MEASUREMENTS
    assert (await c.submit(ev.StopRequested)).accepted
    assert (await c.submit(ev.StopConfirmed)).accepted
    record = await k.store.session_bundle_source(session_id)
    incidents = [t.incident for t in record.trace if t.kind is TraceKind.INCIDENT]
    assert incidents == [IncidentCode.CARD_REMOVED, IncidentCode.CARD_REMOVED]


async def test_emergency_from_any_screen_ends_with_the_numbers(kiosk: Kiosk) -> None:
    k, c = kiosk, kiosk.controller
    session_id = await to_measurements(k)
    assert (await c.submit(ev.StartMeasurement, kind=MeasurementKind.BODY_TEMPERATURE)).accepted
    assert (await c.submit(ev.EmergencyDeclared)).accepted
    assert k.state() is State.EMERGENCY_EXIT
    assert [n.number for n in k.view.context.emergency_numbers][:1] == ["15"]
    assert k.view.context.active_device is None
    assert (await c.submit(ev.Finish)).accepted
    assert k.state() is State.TAKE_CARD
    await c.device_event(dev.CardRemoved("reader-1"))
    assert k.state() is State.WELCOME
    record = await k.store.session_bundle_source(session_id)
    assert record.end_reason == "emergency"
    assert TraceKind.EMERGENCY_EXIT in [t.kind for t in record.trace]


async def test_platform_down_at_the_waiting_room_takes_the_degraded_path(kiosk: Kiosk) -> None:
    k, c = kiosk, kiosk.controller
    session_id = await to_measurements(k)
    k.call.fail_open = True
    assert (await c.submit(ev.MeasurementsDone)).accepted
    assert k.state() is State.DEGRADED
    assert k.view.context.degraded is not None
    assert [o.value for o in k.view.context.degraded.options] == ["retry", "finish"]
    assert (await c.submit(ev.DegradedChoice, option=ev.DegradedOption.RETRY)).accepted
    assert k.state() is State.DEGRADED  # still down
    k.call.fail_open = False
    assert (await c.submit(ev.DegradedChoice, option=ev.DegradedOption.RETRY)).accepted
    assert k.state() is State.WAITING_ROOM
    await c.platform_reachable(False)  # the network monitor says the platform went away
    assert k.state() is State.DEGRADED
    assert (await c.submit(ev.DegradedChoice, option=ev.DegradedOption.FINISH)).accepted
    assert k.state() is State.END
    assert (await c.submit(ev.Finish)).accepted
    record = await k.store.session_bundle_source(session_id)
    incidents = [t.incident for t in record.trace if t.kind is TraceKind.INCIDENT]
    assert IncidentCode.PLATFORM_UNREACHABLE in incidents


async def test_call_dropped_goes_degraded(kiosk: Kiosk) -> None:
    k, c = kiosk, kiosk.controller
    await to_measurements(k)
    assert (await c.submit(ev.MeasurementsDone)).accepted
    k.call.doctor_joins()
    await k.until(lambda v: v.state is State.CALL)
    k.call.drops()
    view = await k.until(lambda v: v.state is State.DEGRADED)
    assert (
        view.context.degraded is not None and view.context.degraded.reason.value == "call-dropped"
    )


async def test_a_beneficiary_left_out_by_the_card_is_traced_without_its_data(kiosk: Kiosk) -> None:
    from tests.controller.conftest import HOLDER_NIR

    k, c = kiosk, kiosk.controller
    card = dev.CardRead(
        "reader-1",
        (
            dev.Beneficiary("MARTIN", "Paul", "1950-00-00", HOLDER_NIR, rank=1),
            dev.Beneficiary("MARTIN", "Léa", "1984-02-31", HOLDER_NIR, rank=2),
            dev.Beneficiary("MARTIN", "Tom", "2016-01-02", "215057512345699", rank=3),
        ),
    )
    await _identified(k, card)
    assert k.state() is State.IDENTITY_CONFIRMATION  # the one readable beneficiary
    identity = k.view.context.identity
    assert identity is not None and identity.traits.birth_date_known == "1950"
    session_id = k.view.context.session_id
    assert (await c.submit(ev.StopRequested)).accepted
    assert (await c.submit(ev.StopConfirmed)).accepted
    assert session_id is not None
    record = await k.store.session_bundle_source(session_id)
    assert [(t.incident, t.subject) for t in record.trace if t.kind is TraceKind.INCIDENT] == [
        (IncidentCode.CARD_ERROR, "beneficiary-2:birth-date-invalid"),
        (IncidentCode.CARD_ERROR, "beneficiary-3:nir-key-mismatch"),
    ]
