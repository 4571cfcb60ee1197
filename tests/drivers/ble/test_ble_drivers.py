"""ThermometerDriver and OximeterDriver over bleak + the simulated air, with every fault."""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

import pytest

from drivers.base import Driver
from drivers.ble.oximeter import OximeterDriver
from drivers.ble.sim_air import BleFault, SimulatedAir
from drivers.ble.sim_devices import SimulatedOximeter, SimulatedThermometer
from drivers.ble.thermometer import ThermometerDriver
from drivers.events import (
    Connected,
    Connecting,
    DeviceEvent,
    Disconnected,
    Failed,
    FailureReason,
    Measuring,
    Reading,
    ReadingValue,
)
from tests.drivers.ble.conftest import OXI, THERMO
from vocabulary.devices import DeviceKind


def kwargs(air: SimulatedAir, **over: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "client_backend": air.client_backend(),
        "scanner_backend": air.scanner_backend(),
        "connect_timeout_s": 0.5,
        "measure_timeout_s": 0.5,
        "retry_delay_s": 0.01,
    }
    base.update(over)
    return base


async def run(driver: Driver, limit: float = 3.0) -> list[DeviceEvent]:
    """Start, collect events until the run ends (Disconnected, or Failed before connecting)."""
    await driver.start()
    events: list[DeviceEvent] = []
    try:
        while True:
            event = await driver.next_event(limit)
            assert event is not None
            if isinstance(event, Connecting):
                continue  # one per attempt: test_connecting_events_count_down checks them
            events.append(event)
            if isinstance(event, Disconnected):
                break
            if isinstance(event, Failed) and not any(isinstance(e, Connected) for e in events):
                break
    finally:
        await driver.stop()
    return events


def names(events: list[DeviceEvent]) -> list[str]:
    return [type(e).__name__ for e in events]


async def test_thermometer_reading(air: SimulatedAir, thermometer: SimulatedThermometer) -> None:
    thermometer.next_value = Decimal("37.25")
    events = await run(ThermometerDriver("thermo-1", THERMO, **kwargs(air)))
    k = DeviceKind.THERMOMETER
    assert events[:2] == [Connected("thermo-1", k), Measuring("thermo-1", k)]
    reading = events[2]
    assert isinstance(reading, Reading)
    assert reading.values == (ReadingValue("body-temperature", Decimal("37.25"), "Cel"),)
    assert reading.flags == ("site:ear",)
    assert reading.device_time is not None
    assert events[3] == Disconnected("thermo-1", k)
    assert not thermometer.connected  # the driver disconnected in its finally


async def test_thermometer_fahrenheit_is_converted_and_flagged(
    air: SimulatedAir, thermometer: SimulatedThermometer
) -> None:
    thermometer.next_value, thermometer.next_unit = Decimal("100.4"), "[degF]"
    thermometer.temperature_type = None
    events = await run(ThermometerDriver("thermo-1", THERMO, **kwargs(air)))
    reading = events[2]
    assert isinstance(reading, Reading)
    assert reading.values == (ReadingValue("body-temperature", Decimal("38.0"), "Cel"),)
    assert reading.flags == ("fahrenheit", "converted-from-degF")


async def test_thermometer_nan(air: SimulatedAir, thermometer: SimulatedThermometer) -> None:
    thermometer.fault = BleFault.SPECIAL_VALUE
    events = await run(ThermometerDriver("thermo-1", THERMO, **kwargs(air)))
    assert names(events) == ["Connected", "Measuring", "Failed", "Disconnected"]
    assert events[2] == Failed(
        "thermo-1",
        DeviceKind.THERMOMETER,
        FailureReason.NO_VALID_READING,
        "The Temperature Measurement (0x2A1C) carries no valid reading: "
        "the temperature is the special value NaN.",
    )


async def test_thermometer_disconnect_mid_measurement(
    air: SimulatedAir, thermometer: SimulatedThermometer
) -> None:
    thermometer.fault = BleFault.DISCONNECT_MID_MEASUREMENT
    events = await run(ThermometerDriver("thermo-1", THERMO, **kwargs(air)))
    assert names(events) == ["Connected", "Measuring", "Failed", "Disconnected"]
    failed = events[2]
    assert isinstance(failed, Failed) and failed.reason is FailureReason.DISCONNECTED
    assert failed.message == "The thermometer's Bluetooth link was lost during the measurement."


async def test_thermometer_never_connects_fails_after_its_connect_timeout(
    air: SimulatedAir, thermometer: SimulatedThermometer
) -> None:
    thermometer.fault = BleFault.NEVER_CONNECTS
    started = time.monotonic()
    events = await run(ThermometerDriver("thermo-1", THERMO, **kwargs(air, connect_timeout_s=0.2)))
    elapsed = time.monotonic() - started
    print(f"never-connecting thermometer: Failed after {elapsed:.3f} s (timeout 0.2 s)")
    # It waited its own connect timeout (a lower bound, not a speed test), then
    # failed once with TIMEOUT, and nothing else came out of the stream.
    assert elapsed >= 0.19, elapsed
    assert events == [
        Failed(
            "thermo-1",
            DeviceKind.THERMOMETER,
            FailureReason.TIMEOUT,
            "The thermometer C0:FF:EE:00:00:01 did not accept the connection within 0.2 seconds.",
        )
    ]


async def test_thermometer_absent(air: SimulatedAir, thermometer: SimulatedThermometer) -> None:
    thermometer.fault = BleFault.ABSENT
    events = await run(ThermometerDriver("thermo-1", THERMO, **kwargs(air, connect_timeout_s=0.1)))
    assert events == [
        Failed(
            "thermo-1",
            DeviceKind.THERMOMETER,
            FailureReason.NOT_FOUND,
            "The thermometer C0:FF:EE:00:00:01 was not found: is it switched on and in range?",
        )
    ]


async def test_slow_device_within_and_beyond_the_timeouts(
    air: SimulatedAir, thermometer: SimulatedThermometer
) -> None:
    thermometer.fault = BleFault.SLOW  # 0.3 s late to connect and 0.3 s late to measure
    events = await run(
        ThermometerDriver(
            "thermo-1", THERMO, **kwargs(air, connect_timeout_s=1.0, measure_timeout_s=1.0)
        )
    )
    assert names(events) == ["Connected", "Measuring", "Reading", "Disconnected"]
    events = await run(
        ThermometerDriver(
            "thermo-1", THERMO, **kwargs(air, connect_timeout_s=1.0, measure_timeout_s=0.1)
        )
    )
    assert events[2] == Failed(
        "thermo-1",
        DeviceKind.THERMOMETER,
        FailureReason.TIMEOUT,
        "The thermometer sent no reading within 0.1 seconds.",
    )


async def test_connect_retries_a_flaky_radio(
    air: SimulatedAir, thermometer: SimulatedThermometer
) -> None:
    thermometer.failing_connects = 2
    driver = ThermometerDriver("thermo-1", THERMO, **kwargs(air, connect_attempts=3))
    events = await run(driver)
    assert names(events) == ["Connected", "Measuring", "Reading", "Disconnected"]
    assert thermometer.failing_connects == 0
    thermometer.failing_connects = 3
    events = await run(driver)
    assert events == [
        Failed(
            "thermo-1",
            DeviceKind.THERMOMETER,
            FailureReason.CONNECT_FAILED,
            "Connecting to the thermometer C0:FF:EE:00:00:01 failed (BleakError).",
        )
    ]


async def test_oximeter_continuous_waits_for_stable_values(
    air: SimulatedAir, oximeter: SimulatedOximeter
) -> None:
    oximeter.next_spo2, oximeter.next_pulse_rate = Decimal(95), Decimal(81)
    events = await run(OximeterDriver("oxi-1", OXI, **kwargs(air)))
    reading = events[2]
    assert isinstance(reading, Reading)
    assert reading.values == (
        ReadingValue("spo2", Decimal(95), "%"),
        ReadingValue("heart-rate", Decimal(81), "/min"),
    )
    assert reading.flags == ("continuous",)
    # 2 settling samples ignored, then 3 stable ones
    assert oximeter.notifications_sent >= 5


async def test_oximeter_spot_check(air: SimulatedAir, oximeter: SimulatedOximeter) -> None:
    oximeter.mode = "spot-check"
    events = await run(OximeterDriver("oxi-1", OXI, **kwargs(air)))
    reading = events[2]
    assert isinstance(reading, Reading)
    assert [v.value for v in reading.values] == [Decimal(97), Decimal(72)]
    assert reading.flags == ("spot-check",)
    assert reading.device_time is not None


async def test_oximeter_sensor_off_finger(air: SimulatedAir, oximeter: SimulatedOximeter) -> None:
    oximeter.sensor_off = True
    events = await run(OximeterDriver("oxi-1", OXI, **kwargs(air, measure_timeout_s=0.15)))
    assert events[2] == Failed(
        "oxi-1",
        DeviceKind.OXIMETER,
        FailureReason.DEVICE_ERROR,
        "The pulse oximeter reports that the sensor is not on a finger.",
    )
    oximeter.mode = "spot-check"
    events = await run(OximeterDriver("oxi-1", OXI, **kwargs(air)))
    assert isinstance(events[2], Failed) and events[2].reason is FailureReason.DEVICE_ERROR


@pytest.mark.parametrize("mode", ["continuous", "spot-check"])
async def test_oximeter_special_value_and_disconnect(
    air: SimulatedAir, oximeter: SimulatedOximeter, mode: str
) -> None:
    oximeter.mode = mode
    oximeter.fault = BleFault.SPECIAL_VALUE
    events = await run(OximeterDriver("oxi-1", OXI, **kwargs(air)))
    assert isinstance(events[2], Failed)
    assert events[2].reason is FailureReason.NO_VALID_READING
    oximeter.fault = BleFault.DISCONNECT_MID_MEASUREMENT
    events = await run(OximeterDriver("oxi-1", OXI, **kwargs(air)))
    assert isinstance(events[2], Failed) and events[2].reason is FailureReason.DISCONNECTED
    assert names(events)[-1] == "Disconnected"


async def test_wrong_device_at_the_address(air: SimulatedAir, oximeter: SimulatedOximeter) -> None:
    """A thermometer driver pointed at an oximeter's address: plain protocol error, no crash."""
    driver = ThermometerDriver("thermo-1", OXI, **kwargs(air))
    # the scanner filters on the thermometer service: the oximeter is never found
    events = await run(driver)
    assert isinstance(events[0], Failed) and events[0].reason is FailureReason.NOT_FOUND


async def test_check_does_not_measure(air: SimulatedAir, thermometer: SimulatedThermometer) -> None:
    result = await ThermometerDriver("thermo-1", THERMO, **kwargs(air)).check()
    assert result.ok
    assert result.detail == (
        "C0:FF:EE:00:00:01 connected, service 1809 with 1 measurement characteristic(s)"
    )
    assert thermometer.notifications_sent == 0 and not thermometer.connected
    thermometer.fault = BleFault.ABSENT
    result = await ThermometerDriver(
        "thermo-1", THERMO, **kwargs(air, connect_timeout_s=0.05)
    ).check()
    assert not result.ok


async def test_stop_mid_measurement_disconnects(
    air: SimulatedAir, thermometer: SimulatedThermometer
) -> None:
    thermometer.measure_delay_s = 5
    driver = ThermometerDriver("thermo-1", THERMO, **kwargs(air, measure_timeout_s=10))
    await driver.start()
    assert isinstance(await driver.next_event(1), Connecting)
    assert isinstance(await driver.next_event(1), Connected)
    assert isinstance(await driver.next_event(1), Measuring)
    assert thermometer.connected
    await driver.stop()
    assert not thermometer.connected


async def test_connecting_events_count_down_one_deadline(
    air: SimulatedAir, thermometer: SimulatedThermometer
) -> None:
    """Each attempt says which it is and what is left of the one connect deadline."""
    thermometer.failing_connects = 2
    driver = ThermometerDriver("thermo-1", THERMO, **kwargs(air, connect_timeout_s=2.0))
    await driver.start()
    seen: list[DeviceEvent] = []
    try:
        while not isinstance(event := await driver.next_event(3), Connected):
            assert event is not None
            seen.append(event)
    finally:
        await driver.stop()
    assert [(e.attempt, e.max_attempts) for e in seen if isinstance(e, Connecting)] == [
        (1, 4),
        (2, 4),
        (3, 4),
    ]
    deadlines = [e.deadline_s for e in seen if isinstance(e, Connecting)]
    assert deadlines[0] == 2.0
    assert deadlines == sorted(deadlines, reverse=True)
