"""The device registry: one place picks real or simulated; SimulatorHub drives the simulators."""

from __future__ import annotations

import sys
from decimal import Decimal
from pathlib import Path

import pytest

from drivers.ble.oximeter import OximeterDriver
from drivers.ble.thermometer import ThermometerDriver
from drivers.camera.opencv_source import OpenCvFrameSource
from drivers.card.driver import CardReaderDriver
from drivers.events import (
    Connected,
    Connecting,
    Disconnected,
    Failed,
    FailureReason,
    QrIdentity,
    Reading,
    ReadingValue,
)
from drivers.qr.apcv_standin import TestApcvProfile
from drivers.qr.driver import QrScannerDriver
from drivers.registry import (
    DeviceUnavailable,
    UnavailableReason,
    build_driver,
    build_drivers,
    simulated_ble_address,
)
from drivers.serial.tensiometer import TensiometerDriver
from kiosk_config import EXAMPLES, load_config
from kiosk_config.schema import Device, Mode, Timeouts
from kiosk_demo.simulators import DemoSimulators as SimulatorHub
from kiosk_demo.simulators import SimulatorStatus

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


def test_missing_driver_module_names_what_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    device = Device(id="camera-1", kind="camera")
    monkeypatch.setitem(sys.modules, "drivers.qr.driver", None)  # not in this build
    with pytest.raises(DeviceUnavailable) as info:
        build_driver(device, site_mode="test")
    assert info.value.reason is UnavailableReason.NOT_BUILT
    assert info.value.message == (
        "The camera driver is not available: drivers.qr.driver.QrScannerDriver is missing "
        "(ModuleNotFoundError)."
    )


# -- the QR scanner and its profile -------------------------------------------------------
PRODUCTION_REFUSAL = (
    "The QR scanner 'camera-1' is not started: this site runs in production mode and no "
    "licensed appli carte Vitale (ApCV) profile is installed; the TEST profile reads only "
    "test codes."
)


@pytest.mark.parametrize("backend", ["real", "simulated"])
async def test_production_site_never_gets_the_test_qr_profile(backend: str) -> None:
    camera = Device(id="camera-1", kind="camera", backend=backend)
    with pytest.raises(DeviceUnavailable) as info:
        build_driver(camera, hub=SimulatorHub([camera]), site_mode="production")
    assert info.value.reason is UnavailableReason.NO_LICENSED_PROFILE
    assert (info.value.device_id, info.value.kind) == ("camera-1", "camera")
    assert info.value.message == PRODUCTION_REFUSAL


async def test_build_drivers_passes_the_site_mode() -> None:
    production = DEMO.model_copy(
        update={"site": DEMO.site.model_copy(update={"mode": Mode.PRODUCTION})}
    )
    with pytest.raises(DeviceUnavailable) as info:
        build_drivers(production, hub=SimulatorHub(DEMO.devices))
    assert info.value.device_id == "camera-1"
    assert info.value.message == PRODUCTION_REFUSAL
    reader_and_camera = DEMO.model_copy(update={"devices": DEMO.devices[:2]})
    drivers = build_drivers(reader_and_camera, hub=SimulatorHub(DEMO.devices))  # mode "test"
    assert isinstance(drivers["camera-1"], QrScannerDriver)
    assert isinstance(drivers["camera-1"].profile, TestApcvProfile)


def test_real_camera_needs_the_site_mode_to_be_test() -> None:
    camera = Device(id="camera-1", kind="camera", camera_index=3)
    with pytest.raises(DeviceUnavailable) as info:
        build_driver(camera)
    assert info.value.reason is UnavailableReason.NO_LICENSED_PROFILE
    assert info.value.message == (
        "The QR scanner 'camera-1' is not started: the site mode was not given for a real "
        "camera and no licensed appli carte Vitale (ApCV) profile is installed; the TEST "
        "profile reads only test codes."
    )
    scanner = build_driver(camera, site_mode=Mode.TEST)
    assert isinstance(scanner, QrScannerDriver)
    assert isinstance(scanner.source, OpenCvFrameSource)
    assert scanner.source.source == 3


def test_card_reader_read_timeout_comes_from_the_site() -> None:
    reader = build_driver(
        Device(id="reader-1", kind="card-reader", reader_name="Virtual PCD"),
        Timeouts(device_connect_s=7),
    )
    assert isinstance(reader, CardReaderDriver)
    assert (reader.reader_name, reader.read_timeout_s) == ("Virtual PCD", 7)


CAMERA = next(d for d in DEMO.devices if d.kind.value == "camera")


async def _next_report(driver: QrScannerDriver) -> object:
    """The next QrIdentity or Failed (Connected skipped)."""
    while isinstance(event := await driver.next_event(5), Connected):
        pass
    return event


async def test_hub_camera_shows_codes_the_scanner_reads_or_refuses() -> None:
    async with SimulatorHub([CAMERA], fast=True) as hub:
        scanner = build_driver(CAMERA, FAST, hub=hub, site_mode="test")
        assert isinstance(scanner, QrScannerDriver)
        assert scanner.source is hub.camera_source("camera-1")
        await scanner.start()
        hub.show_qr("camera-1")
        event = await _next_report(scanner)
        assert isinstance(event, QrIdentity)
        assert (event.device_id, event.birth_name, event.nir) == (
            "camera-1",
            "LAVIOLETTE",
            "286029720904573",
        )
        refusals = {}
        for shown in ("expired", "bad-signature", "malformed"):
            hub.show_qr("camera-1", valid=shown)
            failed = await _next_report(scanner)
            assert isinstance(failed, Failed) and failed.reason is FailureReason.QR_INVALID
            refusals[shown] = failed.message
        assert refusals == {
            "expired": "The QR code has expired: ask the patient to show a fresh one.",
            "bad-signature": "The QR code's signature is not from a trusted key.",
            "malformed": "The signature has 9 bytes; an Ed25519 signature has 64.",
        }
        status = {s.device_id: s for s in hub.status()}["camera-1"]
        assert status == SimulatorStatus(
            "camera-1",
            "camera",
            True,
            None,
            ("no-camera", "dark", "no-frames"),
            "simulated camera, in use",
        )
        hub.set_fault("camera-1", "no-camera")  # unplugged while scanning
        failed = await _next_report(scanner)
        assert isinstance(failed, Failed) and failed.reason is FailureReason.DISCONNECTED
        assert failed.message == "The simulated camera was unplugged while in use."
        await scanner.stop()
        assert hub.qr_codes() == ("valid", "expired", "bad-signature", "malformed", "other")
        with pytest.raises(ValueError) as bad:
            hub.show_qr("camera-1", valid="blurry")
        assert str(bad.value) == (
            "'blurry' is not a QR code the simulated patient can show; "
            "known: valid, expired, bad-signature, malformed, other."
        )


async def test_hub_camera_faults_fail_the_technicians_check() -> None:
    async with SimulatorHub([CAMERA], fast=True) as hub:
        scanner = build_driver(CAMERA, FAST, hub=hub, site_mode="test")
        ok = await scanner.check()
        assert (ok.ok, ok.detail) == (
            True,
            "The simulated camera gives 640x480 images; profile apcv-test1.",
        )
        hub.set_fault("camera-1", "no-camera")
        assert {s.device_id: (s.running, s.fault) for s in hub.status()} == {
            "camera-1": (False, "no-camera")
        }
        missing = await scanner.check()
        assert (missing.ok, missing.detail) == (False, "No simulated camera could be opened.")
        hub.set_fault("camera-1", "no-frames")
        frozen = await scanner.check()
        assert (frozen.ok, frozen.detail) == (
            False,
            "The simulated camera opened but gave no image.",
        )
        hub.set_fault("camera-1", "dark")  # a covered lens still gives images: the check passes
        assert (await scanner.check()).ok
        await scanner.start()
        assert isinstance(await scanner.next_event(5), Connected)
        hub.show_qr("camera-1")  # nothing readable through a covered lens
        with pytest.raises(TimeoutError):
            await scanner.next_event(1.0)
        hub.set_fault("camera-1", None)  # the patient takes the hand away
        event = await scanner.next_event(5)
        assert isinstance(event, QrIdentity)
        await scanner.stop()


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
        events = [await drv.next_event(5) for _ in range(5)]
        await drv.stop()
        assert isinstance(events[0], Connecting)
        assert isinstance(events[3], Failed)
        assert events[3].reason is FailureReason.NO_VALID_READING

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
