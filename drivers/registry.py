"""Drivers built from the site configuration, with the real/simulated choice made here only.

As bleak picks its backend in one function and imports the concrete class
lazily, `build_driver` is the one place that reads `Device.backend`: callers
(the session controller, `kiosk devices check`, the demo) never branch on
"simulated". Concrete driver modules are imported on first use, so a cabin
without a camera never imports OpenCV, and a kind whose driver is missing
raises a typed `DeviceUnavailable` that names what is missing.

`SimulatorHub` owns the simulators of the demo and the tests: the simulated
BLE air (thermometer, oximeter), the Accutorr monitor on its pty, and the
virtual card behind pcscd/vpcd. Its methods are what the operator panel calls
(make a device fail, change the next value, start a measurement, insert a card).
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
    device: Device, timeouts: Timeouts | None = None, *, hub: SimulatorHub | None = None
) -> Driver:
    """The driver for one configured device. `hub` is required for simulated devices."""
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
    return builder(device, timeouts, hub if device.backend == "simulated" else None)


def build_drivers(config: KioskConfig, *, hub: SimulatorHub | None = None) -> dict[str, Driver]:
    """Every configured device's driver, by device id (raises on the first unavailable one)."""
    return {d.id: build_driver(d, config.timeouts, hub=hub) for d in config.devices}


# -- one builder per kind ----------------------------------------------------------
Builder = Callable[[Device, Timeouts, "SimulatorHub | None"], Driver]


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


def _thermometer(device: Device, timeouts: Timeouts, hub: SimulatorHub | None) -> Driver:
    cls = _load(device, "drivers.ble.thermometer", "ThermometerDriver")
    address = device.ble_address or simulated_ble_address(device.id)
    return cls(device.id, address, **_ble_kwargs(timeouts, hub))  # type: ignore[no-any-return]


def _oximeter(device: Device, timeouts: Timeouts, hub: SimulatorHub | None) -> Driver:
    cls = _load(device, "drivers.ble.oximeter", "OximeterDriver")
    address = device.ble_address or simulated_ble_address(device.id)
    return cls(device.id, address, **_ble_kwargs(timeouts, hub))  # type: ignore[no-any-return]


def _tensiometer(device: Device, timeouts: Timeouts, hub: SimulatorHub | None) -> Driver:
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


def _card_reader(device: Device, timeouts: Timeouts, hub: SimulatorHub | None) -> Driver:
    cls = _load(device, "drivers.card.driver", "CardReaderDriver")
    return cls(device.id, reader_name=device.reader_name)  # type: ignore[no-any-return]


def _camera(device: Device, timeouts: Timeouts, hub: SimulatorHub | None) -> Driver:
    # The QR scanner (drivers.qr) reads frames from the camera (drivers.camera).
    cls = _load(device, "drivers.qr.driver", "QrScannerDriver")
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
        from drivers.ble.sim_devices import SimulatedOximeter, SimulatedThermometer
        from drivers.serial.sim_accutorr import SimulatedAccutorr

        delay = 0.05 if self.fast else 1.5
        for device in self.devices.values():
            address = device.ble_address or simulated_ble_address(device.id)
            if device.kind.value == "thermometer":
                self._ble[device.id] = self.air.add(
                    SimulatedThermometer(address, f"SIM-THERMO {device.id}", measure_delay_s=delay)
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
            elif device.kind.value == "card-reader":
                try:
                    await self._start_card_reader(device)
                except DeviceUnavailable as exc:
                    log.warning("simulated card reader %s not started: %s", device.id, exc.reason)
        self._started = True

    async def stop(self) -> None:
        for sim in self._serial.values():
            await sim.stop()
        self._serial.clear()
        self.air.close()
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
            return tuple(f.value for f in BleFault)
        if device_id in self._serial:
            return tuple(f.value for f in SerialFault)
        return ()

    def set_fault(self, device_id: str, fault: str | None) -> None:
        """Make a simulated device misbehave (None: behave). Unknown names raise ValueError."""
        from drivers.ble.sim_air import BleFault
        from drivers.serial.sim_accutorr import SerialFault

        if device_id in self._ble:
            self._ble[device_id].fault = BleFault(fault) if fault else None
        elif device_id in self._serial:
            self._serial[device_id].fault = SerialFault(fault) if fault else None
        else:
            raise KeyError(f"No simulated measuring device '{device_id}'.")

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
                out.append(
                    SimulatorStatus(
                        device_id,
                        dev.kind.value,
                        sim.advertising,
                        sim.fault.value if sim.fault else None,
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
