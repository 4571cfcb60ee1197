"""Drivers built from the site configuration, with the real/simulated choice made here only.

As bleak picks its backend in one function and imports the concrete class
lazily, `build_driver` is the one place that reads `Device.backend`: callers
(the session controller, `kiosk devices check`, the demo) never branch on
"simulated". Concrete driver modules are imported on first use, so a cabin
without a camera never imports OpenCV, and a kind whose driver is missing
raises a typed `DeviceUnavailable` that names what is missing.

`SimulatorHub` owns the simulators of the demo and the tests: the simulated
BLE air (thermometer, oximeter), the Accutorr monitor on its pty, the virtual
card behind pcscd/vpcd and the simulated camera. Its methods are what the
operator panel calls (make a device fail, change the next value, start a
measurement, insert a card, show a QR code).

The QR scanner's only profile is the TEST one (the real appli carte Vitale
payload is not public): a site in production mode never gets a QR scanner
from here until a licensed profile exists.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import hashlib
import importlib
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from drivers.base import Driver
from drivers.events import DeviceKind
from kiosk_config.schema import Device, KioskConfig, Timeouts

log = logging.getLogger(__name__)

__all__ = [
    "DeviceUnavailable",
    "SimulatorHub",
    "SimulatorStatus",
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


def _load(device: Device, module: str, name: str) -> Any:
    """`module.name`, imported now; DeviceUnavailable naming both when absent."""
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as exc:
        raise DeviceUnavailable(
            device.id,
            device.kind.value,
            UnavailableReason.NOT_BUILT,
            f"The {device.kind.value} driver is not available: {module}.{name} is missing "
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
    builder = _BUILDERS.get(DeviceKind(device.kind.value))
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
    cls = _load(device, "drivers.ble.thermometer", "ThermometerDriver")
    address = device.ble_address or simulated_ble_address(device.id)
    return cls(device.id, address, **_ble_kwargs(timeouts, hub))  # type: ignore[no-any-return]


OXIMETER_PROTOCOLS = ("plx", "berrymed")
BLE_TENSIOMETER_PROTOCOLS = ("ble-bps",)  # Bluetooth SIG Blood Pressure service 0x1810


def device_transport(device: Device) -> str:
    """ "ble" or "serial" for a tensiometer; "ble" for every other measuring device.

    Read from the configuration's `transport` when the schema has it, else from
    the protocol: "ble-bps" is the Bluetooth SIG Blood Pressure service, anything
    else a serial monitor (docs/drivers-ble-serial.md, "Configuration").
    """
    transport = getattr(device, "transport", None)
    if transport is not None:
        return str(getattr(transport, "value", transport))
    if device.kind.value != "tensiometer":
        return "ble"
    return "ble" if (device.protocol or "") in BLE_TENSIOMETER_PROTOCOLS else "serial"


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
    if protocol == "berrymed":
        cls = _load(device, "drivers.ble.berrymed_driver", "BerryMedOximeterDriver")
    else:
        cls = _load(device, "drivers.ble.oximeter", "OximeterDriver")
    address = device.ble_address or simulated_ble_address(device.id)
    kwargs = _ble_kwargs(timeouts, hub)
    if protocol == "berrymed" and hub is not None and hub.fast:
        kwargs["frames_per_sample"] = 10  # the fast simulator streams at 1 kHz
    return cls(device.id, address, **kwargs)  # type: ignore[no-any-return]


def _ble_tensiometer(device: Device, timeouts: Timeouts, hub: SimulatorHub | None) -> Driver:
    cls = _load(device, "drivers.ble.blood_pressure_driver", "BloodPressureDriver")
    address = device.ble_address
    if address is None and hub is None:
        raise _misconfigured(
            device, f"The Bluetooth blood-pressure monitor '{device.id}' needs 'ble_address'."
        )
    address = address or simulated_ble_address(device.id)
    return cls(device.id, address, **_ble_kwargs(timeouts, hub))  # type: ignore[no-any-return]


def _tensiometer(
    device: Device, timeouts: Timeouts, hub: SimulatorHub | None, site_mode: str | None
) -> Driver:
    if device_transport(device) == "ble":
        return _ble_tensiometer(device, timeouts, hub)
    cls = _load(device, "drivers.serial.tensiometer", "TensiometerDriver")
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
        return cls(  # type: ignore[no-any-return]
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
    cls = _load(device, "drivers.card.driver", "CardReaderDriver")
    return cls(  # type: ignore[no-any-return]
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
    cls = _load(device, "drivers.qr.driver", "QrScannerDriver")
    if hub is not None:
        return cls(device.id, source=hub.camera_source(device.id))  # type: ignore[no-any-return]
    return cls(device.id, camera_index=device.camera_index)  # type: ignore[no-any-return]


_BUILDERS: dict[DeviceKind, Builder] = {
    DeviceKind.THERMOMETER: _thermometer,
    DeviceKind.OXIMETER: _oximeter,
    DeviceKind.TENSIOMETER: _tensiometer,
    DeviceKind.CARD_READER: _card_reader,
    DeviceKind.CAMERA: _camera,
}


# -- the simulators --------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class SimulatorStatus:
    """One simulated device as the operator panel lists it (no health data)."""

    device_id: str
    kind: str
    running: bool
    fault: str | None
    faults: tuple[str, ...]  # what set_fault accepts for this device
    detail: str


class SimulatorHub:
    """Owns the simulators for the demo and the tests; `async with SimulatorHub(devices)`.

    `fast=True` shortens the simulated devices' delays (tests, benchmarks); the
    demo keeps human-scale delays so the operator sees each step.

    Ordering constraint (simulated card reader): libpcsclite reads
    PCSCLITE_CSOCK_NAME once per process, at the first PC/SC call, and keeps
    it. `start()` therefore enters `shared_pcscd()` (which points this process
    at the private pcscd when the system one is absent) before it starts any
    other simulator, and the hub must be started before anything in the process
    makes a PC/SC call: build and check the card reader driver only after
    `await hub.start()`. If PC/SC was already used with another socket, the card
    simulator is not started (logged) and the card reader fails its check.
    """

    def __init__(
        self,
        devices: Iterable[Device] = (),
        *,
        fast: bool = False,
        workdir: Path | None = None,
        poll_interval_s: float | None = None,
    ) -> None:
        from drivers.ble.sim_air import SimulatedAir

        self.devices = {d.id: d for d in devices if d.backend == "simulated"}
        self.fast = fast
        self.workdir = workdir
        self.poll_interval_s = (
            poll_interval_s if poll_interval_s is not None else (0.02 if fast else 0.5)
        )
        self.air = SimulatedAir()
        self._ble: dict[str, Any] = {}
        self._serial: dict[str, Any] = {}
        self._card_slots: dict[str, Any] = {}
        self._cameras: dict[str, Any] = {}
        self._qr_seed = 0  # each code shown gets other noise, as a real camera would
        for device in self.devices.values():  # no I/O: ready before start(), for build_driver
            if device.kind.value == "camera":
                camera = _load(device, "drivers.qr.sim_frames", "simulated_camera")
                self._cameras[device.id] = camera(period_s=0.02 if fast else 0.1)
        self._card_stack: contextlib.ExitStack | None = None
        self._card_port = 0
        self._started = False

    async def __aenter__(self) -> SimulatorHub:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def start(self) -> None:
        """Create every simulator; a card simulator that cannot start is reported, not fatal."""
        if self._started:
            return
        from drivers.ble.sim_berrymed import SimulatedBerryMed
        from drivers.ble.sim_blood_pressure import SimulatedBloodPressureMonitor
        from drivers.ble.sim_devices import SimulatedOximeter, SimulatedThermometer
        from drivers.serial.sim_accutorr import SimulatedAccutorr

        delay = 0.05 if self.fast else 1.5
        # The card first: shared_pcscd() must come before any PC/SC call (class docstring).
        for device in self.devices.values():
            if device.kind.value == "card-reader":
                try:
                    await self._start_card_reader(device)
                except DeviceUnavailable as exc:
                    log.warning("simulated card reader %s not started: %s", device.id, exc.reason)
        for device in self.devices.values():
            address = device.ble_address or simulated_ble_address(device.id)
            if device.kind.value == "thermometer":
                self._ble[device.id] = self.air.add(
                    SimulatedThermometer(address, f"SIM-THERMO {device.id}", measure_delay_s=delay)
                )
            elif device.kind.value == "oximeter" and device.protocol == "berrymed":
                self._ble[device.id] = self.air.add(
                    SimulatedBerryMed(
                        address,
                        f"BerryMed {device.id}",
                        frame_rate_hz=1000 if self.fast else 100,
                        settling_frames=20 if self.fast else 150,
                        measure_delay_s=delay,
                    )
                )
            elif device.kind.value == "tensiometer" and device_transport(device) == "ble":
                self._ble[device.id] = self.air.add(
                    SimulatedBloodPressureMonitor(
                        address,
                        f"SIM-BP {device.id}",
                        measure_delay_s=0.05 if self.fast else 6.0,
                        cuff_steps=6 if self.fast else 24,
                    )
                )
            elif device.kind.value == "oximeter":
                self._ble[device.id] = self.air.add(
                    SimulatedOximeter(
                        address,
                        f"SIM-OXI {device.id}",
                        measure_delay_s=delay,
                        sample_interval_s=0.02 if self.fast else 0.5,
                    )
                )
            elif device.kind.value == "tensiometer":
                sim = SimulatedAccutorr(
                    baud_rate=device.baud_rate,
                    link_dir=self.workdir,
                    link_name=f"accutorr-{device.id}",
                    measure_duration_s=0.05 if self.fast else 4.0,
                    jitter=0 if self.fast else 4,
                )
                await sim.start()
                self._serial[device.id] = sim
        self._started = True

    async def stop(self) -> None:
        for sim in self._serial.values():
            await sim.stop()
        self._serial.clear()
        self.air.close()
        for source in self._cameras.values():
            await source.close()
        slots = list(self._card_slots.values())
        self._card_slots.clear()
        stack, self._card_stack = self._card_stack, None
        loop = asyncio.get_running_loop()
        for slot in slots:
            await loop.run_in_executor(None, slot.close)
        if stack is not None:
            await loop.run_in_executor(None, stack.close)
        self._started = False

    # -- card (the other room's simulator: pcscd + vpcd + virtual card) ---------------
    async def _start_card_reader(self, device: Device) -> None:
        shared_pcscd = _load(device, "drivers.card.sim_pcscd", "shared_pcscd")
        slot_cls = _load(device, "drivers.card.sim_vpcd", "VirtualCardSlot")
        if self._card_stack is None:
            stack = contextlib.ExitStack()
            loop = asyncio.get_running_loop()
            try:
                endpoint = await loop.run_in_executor(None, stack.enter_context, shared_pcscd())
            except Exception as exc:  # pcscd missing, ports busy: the demo goes on without it
                stack.close()
                raise DeviceUnavailable(
                    device.id,
                    device.kind.value,
                    UnavailableReason.NO_SIMULATOR,
                    f"The simulated card reader needs pcscd with vpcd ({type(exc).__name__}).",
                ) from None
            self._card_stack = stack
            self._card_port = int(endpoint.vpcd_port)
        self._card_slots[device.id] = slot_cls(port=self._card_port)

    async def insert_card(self, device_id: str, label: str) -> None:
        """Insert one of drivers.card.test_patients' cards by its label (e.g. the family card)."""
        slot = self._card_slots[device_id]
        patients = importlib.import_module("drivers.card.test_patients")
        cards = [
            v
            for v in vars(patients).values()
            if getattr(v, "label", None) == label and hasattr(v, "files")
        ]
        if not cards:
            raise KeyError(f"No test card labelled '{label}'.")
        await asyncio.get_running_loop().run_in_executor(None, slot.insert, cards[0])

    async def remove_card(self, device_id: str) -> None:
        await asyncio.get_running_loop().run_in_executor(None, self._card_slots[device_id].remove)

    # -- camera: what the patient holds up to it --------------------------------------
    def camera_source(self, device_id: str) -> Any:
        """The camera's SimulatedFrameSource (what the QR scanner of `device_id` reads).

        For frames of your own: `hub.camera_source(id).play(phone_showing_identity(now))`.
        """
        try:
            return self._cameras[device_id]
        except KeyError:
            raise KeyError(f"No simulated camera '{device_id}'.") from None

    def qr_codes(self) -> tuple[str, ...]:
        """What `show_qr(..., valid=...)` accepts besides True."""
        from drivers.qr.sim_frames import QrShown

        return tuple(v.value for v in QrShown)

    def show_qr(
        self,
        device_id: str,
        *,
        valid: bool | str = True,
        now: Any = None,
        hold_frames: int = 24,
    ) -> None:
        """A patient holds up the appli carte Vitale in front of the camera, then lowers it.

        `valid=True` (or "valid") shows the demo identity, signed and fresh; "expired",
        "bad-signature", "malformed" or "other" show what the scanner must refuse
        (False means "bad-signature"). The code stays for `hold_frames` camera frames
        (about 3.5 s at the scanner's pace; it waits while nobody reads the camera),
        then the camera sees an empty scene again. `now` (aware datetime) dates the code.
        """
        import datetime as dt

        from drivers.qr.sim_frames import QrShown, code_text, phone_showing, scene

        source = self.camera_source(device_id)
        if valid is True:
            shown = QrShown.VALID
        elif valid is False:
            shown = QrShown.BAD_SIGNATURE
        else:
            try:
                shown = QrShown(valid)
            except ValueError:
                raise ValueError(
                    f"'{valid}' is not a QR code the simulated patient can show; "
                    f"known: {', '.join(self.qr_codes())}."
                ) from None
        moment = now if now is not None else dt.datetime.now(dt.UTC)
        self._qr_seed += 3
        frames = phone_showing(code_text(shown, moment), seed=self._qr_seed)
        held = [frames[i % len(frames)] for i in range(max(hold_frames, 1))]
        source.play(held, afterwards=[scene(None)])
        log.info("simulated camera %s shows a %s code", device_id, shown.value)

    def hide_qr(self, device_id: str) -> None:
        """The patient lowers the phone now: the camera sees an empty scene."""
        from drivers.qr.sim_frames import scene

        self.camera_source(device_id).play([scene(None)])

    # -- what the operator panel drives -----------------------------------------------
    def tensiometer_port(self, device_id: str) -> str:
        return str(self._serial[device_id].port)

    def ble_device(self, device_id: str) -> Any:
        """The SimulatedThermometer / SimulatedOximeter for a device id."""
        return self._ble[device_id]

    def serial_device(self, device_id: str) -> Any:
        """The SimulatedAccutorr for a device id."""
        return self._serial[device_id]

    def faults(self, device_id: str) -> tuple[str, ...]:
        from drivers.ble.sim_air import BleFault
        from drivers.serial.sim_accutorr import SerialFault

        if device_id in self._ble:
            behaviours = getattr(self._ble[device_id], "BEHAVIOURS", None)
            extra = tuple(b.value for b in behaviours or () if b.value != "normal")
            return tuple(f.value for f in BleFault) + extra
        if device_id in self._serial:
            return tuple(f.value for f in SerialFault)
        if device_id in self._cameras:
            from drivers.camera.simulated import CameraFault

            return tuple(f.value for f in CameraFault)
        return ()

    def set_fault(self, device_id: str, fault: str | None) -> None:
        """Make a simulated device misbehave (None: behave). Unknown names raise ValueError."""
        from drivers.ble.sim_air import BleFault
        from drivers.serial.sim_accutorr import SerialFault

        if device_id in self._ble:
            sim = self._ble[device_id]
            behaviours = getattr(sim, "BEHAVIOURS", None)
            if behaviours is not None:  # BLE BP monitor, BerryMed: device behaviours
                sim.behaviour = behaviours("normal")
                if fault in {b.value for b in behaviours}:
                    sim.fault = None
                    sim.behaviour = behaviours(fault)
                    return
            sim.fault = BleFault(fault) if fault else None
        elif device_id in self._serial:
            self._serial[device_id].fault = SerialFault(fault) if fault else None
        elif device_id in self._cameras:
            from drivers.camera.simulated import CameraFault

            self._cameras[device_id].fault = CameraFault(fault) if fault else None
        else:
            raise KeyError(f"No simulated device with faults named '{device_id}'.")

    def set_next_reading(self, device_id: str, **values: Decimal | int | str) -> None:
        """The values the next measurement gives, e.g. (thermometer) value=Decimal("38.2"),
        unit="[degF]"; (oximeter) spo2=95, pulse_rate=80; (tensiometer) systolic=150,
        diastolic=95, mean=113, pulse=88."""
        names = {
            "value": "next_value",
            "unit": "next_unit",
            "spo2": "next_spo2",
            "pulse_rate": "next_pulse_rate",
            "systolic": "next_systolic",
            "diastolic": "next_diastolic",
            "mean": "next_mean",
            "pulse": "next_pulse",
        }
        target = self._ble.get(device_id) or self._serial.get(device_id)
        if target is None:
            raise KeyError(f"No simulated measuring device '{device_id}'.")
        for key, value in values.items():
            attr = names.get(key)
            if attr is None or not hasattr(target, attr):
                raise KeyError(f"'{key}' is not a value of simulated device '{device_id}'.")
            current = getattr(target, attr)
            if isinstance(current, Decimal):
                value = Decimal(str(value))
            setattr(target, attr, value)

    def start_measurement(self, device_id: str) -> None:
        """Press the monitor's start button (tensiometer); BLE devices measure on subscribe."""
        if device_id in self._ble:
            return
        self._serial[device_id].start_measurement()

    def pull_cable(self, device_id: str) -> None:
        self._serial[device_id].pull_cable()

    def drop_link(self, device_id: str) -> None:
        """The BLE device goes out of range now."""
        self._ble[device_id].drop_links()

    def status(self) -> list[SimulatorStatus]:
        out: list[SimulatorStatus] = []
        for device_id, dev in self.devices.items():
            if device_id in self._ble:
                sim = self._ble[device_id]
                detail = f"{sim.address}, {'connected' if sim.connected else 'idle'}"
                behaviour = getattr(sim, "behaviour", None)
                fault = sim.fault.value if sim.fault else None
                if fault is None and behaviour is not None and behaviour.value != "normal":
                    fault = behaviour.value
                out.append(
                    SimulatorStatus(
                        device_id,
                        dev.kind.value,
                        sim.advertising,
                        fault,
                        self.faults(device_id),
                        detail,
                    )
                )
            elif device_id in self._serial:
                ser = self._serial[device_id]
                out.append(
                    SimulatorStatus(
                        device_id,
                        dev.kind.value,
                        ser.running,
                        ser.fault.value if ser.fault else None,
                        self.faults(device_id),
                        f"{ser.port} at {ser.baud_rate} baud",
                    )
                )
            elif device_id in self._cameras:
                cam = self._cameras[device_id]
                out.append(
                    SimulatorStatus(
                        device_id,
                        dev.kind.value,
                        cam.fault is None or cam.fault.value != "no-camera",
                        cam.fault.value if cam.fault else None,
                        self.faults(device_id),
                        f"{cam.name}, {'in use' if cam.is_open else 'idle'}",
                    )
                )
            elif device_id in self._card_slots:
                slot = self._card_slots[device_id]
                state = "card inserted" if slot.inserted else "no card"
                out.append(
                    SimulatorStatus(
                        device_id, dev.kind.value, True, None, (), f"vpcd port {slot.port}, {state}"
                    )
                )
            else:
                out.append(
                    SimulatorStatus(device_id, dev.kind.value, False, None, (), "no simulator here")
                )
        return out
