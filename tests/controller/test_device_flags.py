"""The BLE blood-pressure monitor's status bits, through the flow and the store (issue 16 §2).

The monitor's flags (body movement, cuff too loose, irregular pulse, pulse rate out of its
range, improper position) ride on the measurement for the doctor; the values stay as the
device gave them (nothing corrected, nothing invented); a flag that makes the reading
unreliable offers the patient to measure again, and the next reading stands on its own.
A monitor that sends only a stored old record: refused, the degraded sentence, an incident,
no value (tests/drivers/test_flow_ble_bps_berrymed.py).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, seed, settings
from hypothesis import strategies as st

from app.controller.device_events import events_from_reading
from app.domain import session_events as ev
from app.domain.measurements import (
    MEASURE_AGAIN_FLAGS,
    DeviceFlag,
    MeasurementKind,
    Quantity,
    device_flags,
)
from app.domain.session_context import State
from drivers import events as dev
from drivers.ble import blood_pressure as bp
from kiosk_config.schema import Device
from tests.controller.conftest import FakeClock, Kiosk, _kiosk
from tests.controller.test_sessions import to_measurements
from vocabulary.devices import DeviceKind

BLE_BP = (Device(id="bp-1", kind=DeviceKind.TENSIOMETER, backend="simulated", transport="ble"),)
AT = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)


@pytest.fixture
async def ble_kiosk(tmp_path: Path) -> AsyncIterator[Kiosk]:
    async for built in _kiosk(tmp_path, FakeClock(), BLE_BP):
        yield built


def test_every_status_bit_the_driver_names_is_a_device_flag() -> None:
    named = {name for bit in range(64) for name in bp.status_names(bit)}
    named.discard("pulse-rate-range-reserved")  # the reserved value of the 2-bit field
    assert named == {f.value for f in DeviceFlag} - {"no-device-time"}
    assert {f.value for f in MEASURE_AGAIN_FLAGS} == bp.MEASURE_AGAIN_FLAGS


@seed(1617)
@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(max_size=30) | st.sampled_from([f.value for f in DeviceFlag])))
def test_unknown_words_are_dropped_and_the_order_is_fixed(names: list[str]) -> None:
    flags = device_flags(names)
    assert list(flags) == [f for f in DeviceFlag if f.value in names]


def test_a_flagged_reading_keeps_the_device_values_and_its_flags() -> None:
    reading = dev.Reading(
        "bp-1",
        DeviceKind.TENSIOMETER,
        (
            dev.ReadingValue("systolic", Decimal(141), "mm[Hg]"),
            dev.ReadingValue("diastolic", Decimal(91), "mm[Hg]"),
            dev.ReadingValue("heart-rate", Decimal(66), "/min"),
        ),
        flags=("irregular-pulse", "a-word-of-a-future-driver"),
    )
    counter = iter(range(10))
    events = events_from_reading(reading, AT, lambda: f"m{next(counter)}")
    taken = [e.measurement for e in events if isinstance(e, ev.MeasurementTaken)]
    assert [m.device_flags for m in taken] == [(DeviceFlag.IRREGULAR_PULSE,)] * 2
    assert not any(m.measure_again for m in taken)  # flagged for the doctor, not to redo


async def test_cuff_error_flags_ride_on_the_measurement_and_a_retry_stands_alone(
    ble_kiosk: Kiosk,
) -> None:
    k = ble_kiosk
    await to_measurements(k)
    k.sims.set_next_reading("bp-1", systolic=141, diastolic=91, mean=108, pulse=66)
    k.sims.set_fault("bp-1", "cuff-error")
    start = ev.StartMeasurement
    assert (await k.controller.submit(start, kind=MeasurementKind.BLOOD_PRESSURE)).accepted
    await k.until(lambda v: len(v.context.measurements) == 2)
    pressure, rate = k.view.context.measurements
    assert pressure.value(Quantity.SYSTOLIC) == Decimal(141)  # as the device gave it
    assert pressure.device_flags == (DeviceFlag.BODY_MOVEMENT, DeviceFlag.CUFF_TOO_LOOSE)
    assert pressure.measure_again and rate.measure_again
    assert k.state() is State.MEASUREMENTS  # the patient is offered to measure again
    # The patient keeps still and measures again: the new reading has no flag.
    k.sims.set_fault("bp-1", None)
    k.sims.set_next_reading("bp-1", systolic=128, diastolic=82, mean=97, pulse=64)
    assert (await k.controller.submit(start, kind=MeasurementKind.BLOOD_PRESSURE)).accepted
    await k.until(lambda v: len(v.context.measurements) == 4)
    latest = k.view.context.measurements[2]
    assert latest.value(Quantity.SYSTOLIC) == Decimal(128)
    assert latest.device_flags == () and not latest.measure_again
