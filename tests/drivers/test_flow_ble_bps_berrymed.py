"""Issue 16, done when: the flow measures over the BLE blood-pressure monitor and the BerryMed
oximeter (and the serial monitor still), through the store and the FHIR bundle.

Real parts: the registry's drivers on the hub's simulators (bleak with the simulated air,
the Accutorr simulator on a pty), the real flow and controller, the SQLCipher store and
the FHIR mapping with its code checks.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from app.domain import session_events as ev
from app.domain.consent import ConsentChoice, ConsentItem, ConsentText
from app.domain.measurements import MeasurementKind, Quantity
from app.domain.orientation import OrientationAnswers
from app.domain.session_context import State
from app.domain.session_effects import DegradedReason
from app.domain.trace import IncidentCode
from app.domain.visit_reason import VisitReason
from app.sync.fhir_bundle import session_bundle
from app.sync.store_adapter import snapshot_from_record
from drivers import events as dev
from kiosk_config.schema import Device
from tests.controller.conftest import FakeClock, Kiosk, _kiosk, single_card
from tests.sync.sessions import TEST_SITE
from vocabulary.devices import DeviceKind

TELECONSULTATION = ConsentText("tc-fr", ConsentItem.TELECONSULTATION, "3", "fr", "Je consens…")
BLE_DEVICES = (
    Device(id="bp-1", kind=DeviceKind.TENSIOMETER, backend="simulated", transport="ble"),
    Device(id="oxi-1", kind=DeviceKind.OXIMETER, backend="simulated", protocol="berrymed"),
)
SERIAL_DEVICES = (
    Device(id="bp-1", kind=DeviceKind.TENSIOMETER, backend="simulated", transport="serial"),
    Device(id="oxi-1", kind=DeviceKind.OXIMETER, backend="simulated", protocol="berrymed"),
)


@pytest.fixture
async def ble_kiosk(tmp_path: Path) -> AsyncIterator[Kiosk]:
    async for built in _kiosk(tmp_path, FakeClock(), BLE_DEVICES):
        yield built


@pytest.fixture
async def serial_kiosk(tmp_path: Path) -> AsyncIterator[Kiosk]:
    async for built in _kiosk(tmp_path, FakeClock(), SERIAL_DEVICES):
        yield built


async def to_measurements(k: Kiosk) -> str:
    """Card, identity, consent, orientation, reason: the measurements screen; the session id."""
    c = k.controller
    for event in (ev.Begin, ev.EmergencyAnswered, ev.InformationAcknowledged):
        assert (await c.submit(event)).accepted
    await c.device_event(dev.CardInserted("reader-1"))
    await c.device_event(single_card())
    assert (await c.submit(ev.IdentityConfirmed)).accepted
    assert (await c.decide_consent(TELECONSULTATION, ConsentChoice.GRANTED)).accepted
    assert (await c.submit(ev.ConsentDone)).accepted
    answers = OrientationAnswers(has_medecin_traitant=True)
    assert (await c.submit(ev.OrientationAnswered, answers=answers)).accepted
    assert (await c.submit(ev.VisitReasonGiven, reasons=(VisitReason.FEVER,))).accepted
    assert k.state() is State.MEASUREMENTS
    session_id = k.view.context.session_id
    assert session_id is not None
    return session_id


def _kinds(k: Kiosk) -> list[MeasurementKind]:
    return [m.kind for m in k.view.context.measurements]


def _observations(bundle: Any) -> list[dict[str, Any]]:
    return [
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Observation"
    ]


def _loinc(observation: dict[str, Any]) -> set[str]:
    return {c["code"] for c in observation["code"]["coding"] if c["system"] == "http://loinc.org"}


async def _bundle(k: Kiosk, session_id: str) -> Any:
    record = await k.store.session_bundle_source(session_id)
    return session_bundle(snapshot_from_record(record), TEST_SITE)


async def _oximeter(k: Kiosk) -> None:
    k.sims.set_next_reading("oxi-1", spo2=95, pulse_rate=64)
    assert (await k.controller.submit(ev.StartMeasurement, kind=MeasurementKind.SPO2)).accepted
    await k.until(lambda v: MeasurementKind.HEART_RATE in _kinds(k))


def _check_bundle(bundle: Any, systolic: int, diastolic: int) -> None:
    observations = _observations(bundle)
    by_code = {code: o for o in observations for code in _loinc(o)}
    assert "85354-9" in by_code  # blood pressure panel
    panel = by_code["85354-9"]
    parts = {c["code"]["coding"][0]["code"]: c["valueQuantity"] for c in panel.get("component", [])}
    assert parts["8480-6"]["value"] == systolic and parts["8462-4"]["value"] == diastolic
    assert {q["code"] for q in parts.values()} == {"mm[Hg]"}
    assert {q["system"] for q in parts.values()} == {"http://unitsofmeasure.org"}
    spo2 = next(o for o in observations if _loinc(o) & {"59408-5", "2708-6"})
    assert spo2["valueQuantity"]["value"] == 95 and spo2["valueQuantity"]["code"] == "%"
    profiles = {p for o in observations for p in o.get("meta", {}).get("profile", [])}
    assert any("fr-core" in p or "fr/core" in p for p in profiles), profiles


async def test_ble_monitor_and_berrymed_through_flow_store_and_bundle(ble_kiosk: Kiosk) -> None:
    k = ble_kiosk
    session_id = await to_measurements(k)
    await _oximeter(k)
    k.sims.set_next_reading("bp-1", systolic=132, diastolic=84, mean=100, pulse=70)
    assert (
        await k.controller.submit(ev.StartMeasurement, kind=MeasurementKind.BLOOD_PRESSURE)
    ).accepted
    await k.until(lambda v: MeasurementKind.BLOOD_PRESSURE in _kinds(k))
    pressure = next(
        m for m in k.view.context.measurements if m.kind is MeasurementKind.BLOOD_PRESSURE
    )
    assert (pressure.value(Quantity.SYSTOLIC), pressure.value(Quantity.DIASTOLIC)) == (
        Decimal(132),
        Decimal(84),
    )
    assert (await k.controller.submit(ev.MeasurementsDone)).accepted
    assert k.state() is State.WAITING_ROOM
    _check_bundle(await _bundle(k, session_id), 132, 84)


async def test_serial_monitor_still_works_when_configured(serial_kiosk: Kiosk) -> None:
    k = serial_kiosk
    session_id = await to_measurements(k)
    await _oximeter(k)
    assert (
        await k.controller.submit(ev.StartMeasurement, kind=MeasurementKind.BLOOD_PRESSURE)
    ).accepted
    await k.until(
        lambda v: (
            v.device_status is not None and v.device_status.value in ("connected", "measuring")
        )
    )
    k.sims.start_measurement("bp-1")
    await k.until(lambda v: MeasurementKind.BLOOD_PRESSURE in _kinds(k))
    assert (await k.controller.submit(ev.MeasurementsDone)).accepted
    _check_bundle(await _bundle(k, session_id), 121, 78)


async def _fails(k: Kiosk, device_id: str, fault: str, kind: MeasurementKind) -> None:
    """The device's fault ends in the degraded screen (its sentence), an incident, no value."""
    session_id = await to_measurements(k)
    k.sims.set_fault(device_id, fault)
    assert (await k.controller.submit(ev.StartMeasurement, kind=kind)).accepted
    view = await k.until(lambda v: v.state is State.DEGRADED, timeout=20)
    degraded = view.context.degraded
    assert degraded is not None and degraded.reason is DegradedReason.DEVICE_FAILED
    assert degraded.device_kind is kind
    # only a stored old record: a sentence of its own (the others: the failed-device one)
    assert degraded.old_record_only is (fault == "old-record-only")
    assert _kinds(k) == []  # nothing invented
    record = await k.store.session_bundle_source(session_id)
    failed = [t.subject for t in record.trace if t.incident is IncidentCode.DEVICE_FAILED]
    assert failed == [device_id]
    assert record.measurements == ()


@pytest.mark.parametrize(
    "fault", ["probe-unplugged", "no-finger", "disconnect-mid-measure", "longer-packets"]
)
async def test_berrymed_faults_end_in_the_sentence_and_an_incident(
    ble_kiosk: Kiosk, fault: str
) -> None:
    await _fails(ble_kiosk, "oxi-1", fault, MeasurementKind.SPO2)


@pytest.mark.parametrize("fault", ["old-record-only", "disconnect-mid-measure", "absent"])
async def test_ble_monitor_faults_end_in_the_sentence_and_an_incident(
    ble_kiosk: Kiosk, fault: str
) -> None:
    await _fails(ble_kiosk, "bp-1", fault, MeasurementKind.BLOOD_PRESSURE)


async def test_cuff_error_bits_keep_the_devices_values_only(ble_kiosk: Kiosk) -> None:
    """Status bits (body movement, cuff too loose): the monitor's values, nothing made up.

    The bits reach the driver's Reading.flags (tests/drivers/test_registry_ble.py); carrying
    them to the doctor needs a domain field (docs/drivers-ble-serial.md, "What is left").
    """
    k = ble_kiosk
    await to_measurements(k)
    k.sims.set_next_reading("bp-1", systolic=141, diastolic=91, mean=108, pulse=66)
    k.sims.set_fault("bp-1", "cuff-error")
    assert (
        await k.controller.submit(ev.StartMeasurement, kind=MeasurementKind.BLOOD_PRESSURE)
    ).accepted
    await k.until(lambda v: len(_kinds(k)) == 2)
    pressure, rate = k.view.context.measurements
    assert (pressure.value(Quantity.SYSTOLIC), pressure.value(Quantity.DIASTOLIC)) == (
        Decimal(141),
        Decimal(91),
    )
    assert rate.value(Quantity.HEART_RATE) == Decimal(66)
