"""The registry builds the BLE blood-pressure monitor and the BerryMed oximeter, real and simulated."""

from __future__ import annotations

from decimal import Decimal

import pytest

from drivers.ble.berrymed_driver import BerryMedOximeterDriver
from drivers.ble.blood_pressure_driver import BloodPressureDriver
from drivers.ble.oximeter import OximeterDriver
from drivers.events import CuffPressure, PlethWave, Reading, ReadingValue
from drivers.registry import (
    DeviceUnavailable,
    UnavailableReason,
    build_driver,
    device_transport,
)
from drivers.serial.tensiometer import TensiometerDriver
from drivers.simulators import SimulatorHub
from kiosk_config.schema import Device, Timeouts

BP_BLE = Device(id="bp-ble", kind="tensiometer", backend="simulated", protocol="ble-bps")
OXI_BM = Device(id="oxi-bm", kind="oximeter", backend="simulated", protocol="berrymed")


def test_protocol_picks_driver_and_transport() -> None:
    serial = Device(id="bp", kind="tensiometer", serial_port="/dev/ttyUSB0", protocol="accutorr")
    assert isinstance(build_driver(serial), TensiometerDriver)
    assert device_transport(serial) == "serial"
    assert device_transport(BP_BLE) == "ble"
    real_bm = Device(id="o", kind="oximeter", ble_address="00:11:22:33:44:55", protocol="berrymed")
    driver = build_driver(real_bm, Timeouts(device_connect_s=7))
    assert isinstance(driver, BerryMedOximeterDriver)
    assert (driver.address, driver.connect_timeout_s, driver.frames_per_sample) == (
        "00:11:22:33:44:55",
        7,
        100,
    )
    plx = Device(id="o", kind="oximeter", ble_address="00:11:22:33:44:55")
    assert type(build_driver(plx)) is OximeterDriver


def test_unknown_oximeter_protocol_is_misconfigured() -> None:
    device = Device(id="o", kind="oximeter", ble_address="00:11:22:33:44:55", protocol="nonin")
    with pytest.raises(DeviceUnavailable) as info:
        build_driver(device)
    assert info.value.reason is UnavailableReason.MISCONFIGURED
    assert info.value.message == "The oximeter 'o' has protocol 'nonin'; known: plx, berrymed."


async def test_hub_runs_both_with_behaviours_and_values() -> None:
    async with SimulatorHub([BP_BLE, OXI_BM], fast=True) as hub:
        assert hub.faults("bp-ble") == (
            "absent",
            "never-connects",
            "disconnect-mid-measurement",
            "special-value",
            "slow",
            "cuff-error",
            "old-record-only",
            "disconnect-mid-measure",
            "needs-clock",
        )
        assert "probe-unplugged" in hub.faults("oxi-bm")
        hub.set_next_reading("bp-ble", systolic=141, diastolic=91, mean=108, pulse=66)
        hub.set_fault("bp-ble", "cuff-error")
        assert {s.device_id: s.fault for s in hub.status()}["bp-ble"] == "cuff-error"
        bp = build_driver(BP_BLE, hub=hub)
        assert isinstance(bp, BloodPressureDriver)
        await bp.start()
        events = [e async for e in bp.events()]
        await bp.stop()
        reading = next(e for e in events if isinstance(e, Reading))
        assert reading.values[0] == ReadingValue("systolic", Decimal(141), "mm[Hg]")
        assert reading.flags == ("body-movement", "cuff-too-loose")
        assert any(isinstance(e, CuffPressure) for e in events)
        hub.set_fault("bp-ble", None)
        assert {s.device_id: s.fault for s in hub.status()}["bp-ble"] is None

        hub.set_next_reading("oxi-bm", spo2=94, pulse_rate=88)
        oxi = build_driver(OXI_BM, hub=hub)
        await oxi.start()
        events = [e async for e in oxi.events()]
        await oxi.stop()
        reading = next(e for e in events if isinstance(e, Reading))
        assert [v.value for v in reading.values] == [Decimal(94), Decimal(88)]
        assert any(isinstance(e, PlethWave) for e in events)
        hub.set_fault("oxi-bm", "absent")
        assert {s.device_id: s.fault for s in hub.status()}["oxi-bm"] == "absent"
        with pytest.raises(ValueError):
            hub.set_fault("oxi-bm", "no-such-fault")
