"""The device registry: one place picks real or simulated; SimulatorHub drives the simulators."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from drivers.ble.oximeter import OximeterDriver
from drivers.ble.thermometer import ThermometerDriver
from drivers.events import Disconnected, Failed, FailureReason, Reading, ReadingValue
from drivers.registry import (
    DeviceUnavailable,
    SimulatorHub,
    SimulatorStatus,
    UnavailableReason,
    build_driver,
    build_drivers,
    simulated_ble_address,
)
from drivers.serial.tensiometer import TensiometerDriver
from kiosk_config import EXAMPLES, load_config
from kiosk_config.schema import Device, Timeouts

DEMO = load_config(EXAMPLES / "demo.toml")
MEASURING = [d for d in DEMO.devices if d.kind.value in ("thermometer", "oximeter", "tensiometer")]
FAST = Timeouts(device_connect_s=1.0, device_measure_s=2.0)


def test_simulated_address_is_stable_and_static_random() -> None:
    assert simulated_ble_address("thermo-1") == simulated_ble_address("thermo-1")
    assert simulated_ble_address("thermo-1") != simulated_ble_address("thermo-2")
    first = int(simulated_ble_address("thermo-1")[:2], 16)
    assert first & 0xC0 == 0xC0


def test_real_devices_use_the_platform_backends() -> None:
    thermo = build_driver(
        Device(id="t", kind="thermometer", ble_address="00:11:22:33:44:55"),
        Timeouts(device_connect_s=7, device_measure_s=40),
    )
    assert isinstance(thermo, ThermometerDriver)
    assert (thermo.address, thermo.connect_timeout_s, thermo.measure_timeout_s) == (
        "00:11:22:33:44:55",
        7,
        40,
    )
    assert thermo._client_backend is None and thermo._scanner_backend is None
    bp = build_driver(
        Device(id="bp", kind="tensiometer", serial_port="/dev/ttyUSB0", baud_rate=4800)
    )
    assert isinstance(bp, TensiometerDriver)
    assert (bp.port, bp.baud_rate, bp.poll_interval_s) == ("/dev/ttyUSB0", 4800, 1.0)


def test_simulated_without_hub_is_a_typed_error() -> None:
    with pytest.raises(DeviceUnavailable) as info:
        build_driver(Device(id="oxi-1", kind="oximeter", backend="simulated"))
    assert info.value.reason is UnavailableReason.NO_SIMULATOR
    assert info.value.message == "Device 'oxi-1' is simulated but no simulator hub is running."


def test_unknown_protocol_is_misconfigured() -> None:
    with pytest.raises(DeviceUnavailable) as info:
        build_driver(
            Device(id="bp", kind="tensiometer", serial_port="/dev/ttyS0", protocol="suntech")
        )
    assert info.value.reason is UnavailableReason.MISCONFIGURED
    assert info.value.message == "Unknown monitor protocol 'suntech'; known: accutorr."


def test_missing_driver_module_names_what_is_missing() -> None:
    """The QR scanner lives in the other room's drivers.qr; until it lands this is the error."""
    try:
        import drivers.qr.driver  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("drivers.qr.driver exists now")
    with pytest.raises(DeviceUnavailable) as info:
        build_driver(Device(id="camera-1", kind="camera"))
    assert info.value.reason is UnavailableReason.NOT_BUILT
    assert info.value.message == (
        "The camera driver is not available: drivers.qr.driver.QrScannerDriver is missing "
        "(ModuleNotFoundError)."
    )


async def test_hub_builds_and_drives_every_simulated_measuring_device(tmp_path: Path) -> None:
    async with SimulatorHub(MEASURING, fast=True, workdir=tmp_path) as hub:
        drivers = {d.id: build_driver(d, FAST, hub=hub) for d in MEASURING}
        assert {k: type(v) for k, v in drivers.items()} == {
            "thermo-1": ThermometerDriver,
            "oxi-1": OximeterDriver,
            "bp-1": TensiometerDriver,
        }
        hub.set_next_reading("thermo-1", value=Decimal("38.4"))
        hub.set_next_reading("bp-1", systolic=155, diastolic=97, mean=116, pulse=90)
        readings = {}
        for device_id, drv in drivers.items():
            await drv.start()
            while not isinstance(event := await drv.next_event(5), Disconnected):
                if isinstance(event, Reading):
                    readings[device_id] = event.values
            await drv.stop()
        assert readings["thermo-1"] == (ReadingValue("body-temperature", Decimal("38.4"), "Cel"),)
        assert [v.value for v in readings["bp-1"]] == [155, 97, 116, 90]
        assert [v.quantity for v in readings["oxi-1"]] == ["spo2", "heart-rate"]

        status = {s.device_id: s for s in hub.status()}
        assert status["bp-1"] == SimulatorStatus(
            "bp-1",
            "tensiometer",
            True,
            None,
            ("cuff-error", "no-answer", "garbage", "cut-record", "cable-pulled", "slow"),
            f"{tmp_path}/accutorr-bp-1 at 9600 baud",
        )

        hub.set_fault("thermo-1", "special-value")
        assert {s.device_id: s.fault for s in hub.status()}["thermo-1"] == "special-value"
        drv = drivers["thermo-1"]
        await drv.start()
        events = [await drv.next_event(5) for _ in range(4)]
        await drv.stop()
        assert isinstance(events[2], Failed)
        assert events[2].reason is FailureReason.NO_VALID_READING

        with pytest.raises(ValueError):
            hub.set_fault("thermo-1", "on-fire")
        with pytest.raises(KeyError):
            hub.set_next_reading("thermo-1", systolic=120)
        hub.pull_cable("bp-1")
        assert not hub.serial_device("bp-1").running


def test_build_drivers_raises_on_the_first_unavailable_device() -> None:
    with pytest.raises(DeviceUnavailable) as info:
        build_drivers(DEMO)
    assert info.value.device_id == "reader-1"  # first in the file, simulated, no hub
