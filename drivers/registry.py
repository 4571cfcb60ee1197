"""Drivers built from the site configuration, with the real/simulated choice made here only.

As bleak picks its backend in one function and imports the concrete class
lazily, `build_driver` is the one place that reads `Device.backend`: callers
(the session controller, `kiosk devices check`, the demo) never branch on
"simulated". Concrete driver modules are imported on first use, so a cabin
without a camera never imports OpenCV, and a kind whose driver is missing
raises a typed `DeviceUnavailable` that names what is missing.

Each builder imports its driver with a plain `from … import` inside the
function (as bleak imports its backend), so a missing module is a typed
error, not an import failure at start-up. The simulators live beside the
drivers, in drivers/simulators.py (`SimulatorHub`); a simulated device gets
its transport from the hub passed here.

The QR scanner's only profile is the TEST one (the real appli carte Vitale
payload is not public): a site in production mode never gets a QR scanner
from here until a licensed profile exists.
"""

from __future__ import annotations

import contextlib
import enum
import hashlib
import logging
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from drivers.base import Driver
from kiosk_config.schema import BLE_TENSIOMETER_PROTOCOLS as SCHEMA_BLE_TENSIOMETER_PROTOCOLS
from kiosk_config.schema import Device, KioskConfig, Timeouts
from vocabulary.devices import DeviceKind

if TYPE_CHECKING:
    from drivers.simulators import SimulatorHub

log = logging.getLogger(__name__)

__all__ = [
    "DeviceUnavailable",
    "UnavailableReason",
    "build_driver",
    "build_drivers",
    "simulated_ble_address",
]


class UnavailableReason(enum.StrEnum):
    NOT_BUILT = "not-built"  # the driver module for this kind is not in this build
    NO_SIMULATOR = "no-simulator"  # backend "simulated" but no SimulatorHub runs it
    MISCONFIGURED = "misconfigured"  # e.g. an unknown monitor protocol
    NO_LICENSED_PROFILE = "no-licensed-profile"  # production site, only the TEST QR profile


class DeviceUnavailable(Exception):
    """This device cannot be driven here; the message says what is missing."""

    def __init__(self, device_id: str, kind: str, reason: UnavailableReason, message: str) -> None:
        super().__init__(message)
        self.device_id = device_id
        self.kind = kind
        self.reason = reason
        self.message = message


@contextlib.contextmanager
def _importing(device: Device, what: str) -> Iterator[None]:
    """Around a builder's lazy `from … import`: DeviceUnavailable naming `what` when absent."""
    try:
        yield
    except ImportError as exc:
        raise DeviceUnavailable(
            device.id,
            device.kind.value,
            UnavailableReason.NOT_BUILT,
            f"The {device.kind.value} driver is not available: {what} is missing "
            f"({type(exc).__name__}).",
        ) from None


def simulated_ble_address(device_id: str) -> str:
    """A stable, locally administered BLE address for a simulated device id."""
    digest = hashlib.sha256(device_id.encode()).digest()[:6]
    first = (digest[0] | 0xC0) & 0xFE  # random static address: top two bits set
    return ":".join(f"{b:02X}" for b in (first, *digest[1:]))


def build_driver(
    device: Device,
    timeouts: Timeouts | None = None,
    *,
    hub: SimulatorHub | None = None,
    site_mode: str | None = None,
) -> Driver:
    """The driver for one configured device. `hub` is required for simulated devices.

    `site_mode` is the configuration's `site.mode`. Pass it: a real camera is only
    built when it is "test" (see `_camera`); `build_drivers` always passes it.
    """
    timeouts = timeouts or Timeouts()
    if device.backend == "simulated" and hub is None:
        raise DeviceUnavailable(
            device.id,
            device.kind.value,
            UnavailableReason.NO_SIMULATOR,
            f"Device '{device.id}' is simulated but no simulator hub is running.",
        )
    builder = _BUILDERS.get(device.kind)
    assert builder is not None, f"no builder for {device.kind}"  # every kind is registered below
    mode = None if site_mode is None else str(site_mode)
    return builder(device, timeouts, hub if device.backend == "simulated" else None, mode)


def build_drivers(config: KioskConfig, *, hub: SimulatorHub | None = None) -> dict[str, Driver]:
    """Every configured device's driver, by device id (raises on the first unavailable one)."""
    mode = config.site.mode.value
    return {d.id: build_driver(d, config.timeouts, hub=hub, site_mode=mode) for d in config.devices}


# -- one builder per kind ----------------------------------------------------------
Builder = Callable[[Device, Timeouts, "SimulatorHub | None", "str | None"], Driver]


def _ble_kwargs(timeouts: Timeouts, hub: SimulatorHub | None) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        "connect_timeout_s": timeouts.device_connect_s,
        "measure_timeout_s": timeouts.device_measure_s,
    }
    if hub is not None:
        air = hub.air
        kwargs["client_backend"] = air.client_backend()
        kwargs["scanner_backend"] = air.scanner_backend()
        kwargs["retry_delay_s"] = 0.05
    return kwargs


def _thermometer(
    device: Device, timeouts: Timeouts, hub: SimulatorHub | None, site_mode: str | None
) -> Driver:
    with _importing(device, "drivers.ble.thermometer.ThermometerDriver"):
        from drivers.ble.thermometer import ThermometerDriver
    address = device.ble_address or simulated_ble_address(device.id)
    return ThermometerDriver(device.id, address, **_ble_kwargs(timeouts, hub))


OXIMETER_PROTOCOLS = ("plx", "berrymed")
BLE_TENSIOMETER_PROTOCOLS = SCHEMA_BLE_TENSIOMETER_PROTOCOLS  # Blood Pressure service 0x1810


def device_transport(device: Device) -> str:
    """ "ble" or "serial" for a tensiometer; "ble" for every other measuring device.

    The configuration's `transport` when written, else read from the protocol:
    "ble-bps" is the Bluetooth SIG Blood Pressure service, anything else a
    serial monitor (docs/drivers-ble-serial.md, "Configuration").
    """
    if device.kind.value != "tensiometer":
        return "ble"
    return device.tensiometer_transport()


def _misconfigured(device: Device, message: str) -> DeviceUnavailable:
    return DeviceUnavailable(device.id, device.kind.value, UnavailableReason.MISCONFIGURED, message)


def _oximeter(
    device: Device, timeouts: Timeouts, hub: SimulatorHub | None, site_mode: str | None
) -> Driver:
    protocol = device.protocol or "plx"
    if protocol not in OXIMETER_PROTOCOLS:
        raise _misconfigured(
            device,
            f"The oximeter '{device.id}' has protocol '{protocol}'; known: "
            f"{', '.join(OXIMETER_PROTOCOLS)}.",
        )
    address = device.ble_address or simulated_ble_address(device.id)
    kwargs = _ble_kwargs(timeouts, hub)
    if protocol == "berrymed":
        with _importing(device, "drivers.ble.berrymed_driver.BerryMedOximeterDriver"):
            from drivers.ble.berrymed_driver import BerryMedOximeterDriver
        if hub is not None and hub.fast:
            kwargs["frames_per_sample"] = 10  # the fast simulator streams at 1 kHz
        return BerryMedOximeterDriver(device.id, address, **kwargs)
    with _importing(device, "drivers.ble.oximeter.OximeterDriver"):
        from drivers.ble.oximeter import OximeterDriver
    return OximeterDriver(device.id, address, **kwargs)


def _ble_tensiometer(device: Device, timeouts: Timeouts, hub: SimulatorHub | None) -> Driver:
    with _importing(device, "drivers.ble.blood_pressure_driver.BloodPressureDriver"):
        from drivers.ble.blood_pressure_driver import BloodPressureDriver
    address = device.ble_address
    if address is None and hub is None:
        raise _misconfigured(
            device, f"The Bluetooth blood-pressure monitor '{device.id}' needs 'ble_address'."
        )
    address = address or simulated_ble_address(device.id)
    return BloodPressureDriver(device.id, address, **_ble_kwargs(timeouts, hub))


def _tensiometer(
    device: Device, timeouts: Timeouts, hub: SimulatorHub | None, site_mode: str | None
) -> Driver:
    if device_transport(device) == "ble":
        return _ble_tensiometer(device, timeouts, hub)
    with _importing(device, "drivers.serial.tensiometer.TensiometerDriver"):
        from drivers.serial.tensiometer import TensiometerDriver
    port = device.serial_port
    poll = 1.0
    if hub is not None:
        port = hub.tensiometer_port(device.id)
        poll = hub.poll_interval_s
    if port is None:  # the schema requires serial_port for real devices
        raise DeviceUnavailable(
            device.id, device.kind.value, UnavailableReason.MISCONFIGURED, "No serial port."
        )
    try:
        return TensiometerDriver(
            device.id,
            port,
            baud_rate=device.baud_rate,
            protocol=device.protocol or "accutorr",
            connect_timeout_s=timeouts.device_connect_s,
            measure_timeout_s=timeouts.device_measure_s,
            poll_interval_s=poll,
        )
    except ValueError as exc:
        raise DeviceUnavailable(
            device.id, device.kind.value, UnavailableReason.MISCONFIGURED, str(exc)
        ) from None


def _card_reader(
    device: Device, timeouts: Timeouts, hub: SimulatorHub | None, site_mode: str | None
) -> Driver:
    with _importing(device, "drivers.card.driver.CardReaderDriver"):
        from drivers.card.driver import CardReaderDriver
    return CardReaderDriver(
        device.id, reader_name=device.reader_name, read_timeout_s=timeouts.device_connect_s
    )


def _camera(
    device: Device, timeouts: Timeouts, hub: SimulatorHub | None, site_mode: str | None
) -> Driver:
    """The QR scanner (drivers.qr) on the camera (drivers.camera), with the TEST profile.

    Production: refused, whatever the backend (no licensed ApCV profile exists).
    Mode not given: a simulated camera is allowed (it only ever sees the hub's
    generated test codes), a real one is refused, since a patient's phone
    would then be read with a key anyone can sign with.
    """
    if site_mode == "production" or (site_mode is None and hub is None):
        why = (
            "this site runs in production mode"
            if site_mode == "production"
            else "the site mode was not given for a real camera"
        )
        raise DeviceUnavailable(
            device.id,
            device.kind.value,
            UnavailableReason.NO_LICENSED_PROFILE,
            f"The QR scanner '{device.id}' is not started: {why} and no licensed appli carte "
            f"Vitale (ApCV) profile is installed; the TEST profile reads only test codes.",
        )
    with _importing(device, "drivers.qr.driver.QrScannerDriver"):
        from drivers.qr.apcv_standin import TestApcvProfile
        from drivers.qr.driver import QrScannerDriver
    profile = TestApcvProfile()  # the only profile there is; chosen here, given explicitly
    if hub is not None:
        return QrScannerDriver(device.id, profile=profile, source=hub.camera_source(device.id))
    return QrScannerDriver(device.id, profile=profile, camera_index=device.camera_index)


_BUILDERS: dict[DeviceKind, Builder] = {
    DeviceKind.THERMOMETER: _thermometer,
    DeviceKind.OXIMETER: _oximeter,
    DeviceKind.TENSIOMETER: _tensiometer,
    DeviceKind.CARD_READER: _card_reader,
    DeviceKind.CAMERA: _camera,
}
