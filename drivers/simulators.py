"""The simulators of every device, beside their drivers: `SimulatorHub`.

`SimulatorHub` owns the simulators the demo and the tests run on: the
simulated BLE air (thermometer, oximeter, blood-pressure monitor), the
Accutorr monitor on its pty, the virtual card reader behind pcscd/vpcd and the
simulated camera. `drivers.registry.build_driver` takes a started hub for
devices whose backend is "simulated", so the code under test is the driver
that runs in the cabin.

It holds no patient and no key: a card to insert and a QR code's text are
given by the caller. The demo's fictional patients and its signed codes are
the demo's (kiosk_demo/simulators.py adds them to this hub).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Self

from drivers.card.sim_card import VirtualCard
from drivers.registry import (
    DeviceUnavailable,
    UnavailableReason,
    device_transport,
    simulated_ble_address,
)
from kiosk_config.schema import Device

log = logging.getLogger(__name__)

__all__ = ["SimulatorHub", "SimulatorStatus"]


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
                from drivers.qr.sim_frames import simulated_camera

                self._cameras[device.id] = simulated_camera(period_s=0.02 if fast else 0.1)
        self._card_stack: contextlib.ExitStack | None = None
        self._card_port = 0
        self._started = False

    async def __aenter__(self) -> Self:
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
        from drivers.card.sim_pcscd import shared_pcscd
        from drivers.card.sim_vpcd import VirtualCardSlot

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
        self._card_slots[device.id] = VirtualCardSlot(port=self._card_port)

    async def insert_virtual_card(self, device_id: str, card: VirtualCard) -> None:
        """Put `card` into the virtual reader of `device_id` (the card driver then reads it)."""
        slot = self._card_slots[device_id]
        await asyncio.get_running_loop().run_in_executor(None, slot.insert, card)

    async def remove_card(self, device_id: str) -> None:
        await asyncio.get_running_loop().run_in_executor(None, self._card_slots[device_id].remove)

    # -- camera: what the patient holds up to it --------------------------------------
    def camera_source(self, device_id: str) -> Any:
        """The camera's SimulatedFrameSource (what the QR scanner of `device_id` reads).

        For frames of your own: `hub.camera_source(id).play(phone_showing(text))`.
        """
        try:
            return self._cameras[device_id]
        except KeyError:
            raise KeyError(f"No simulated camera '{device_id}'.") from None

    def show_code(self, device_id: str, text: str, *, seed: int = 0, hold_frames: int = 24) -> None:
        """A QR code with `text` held up to the camera for `hold_frames` frames, then lowered.

        About 3.5 s at the scanner's pace (the source waits while nobody reads the
        camera); afterwards the camera sees an empty scene again.
        """
        from drivers.qr.sim_frames import phone_showing, scene

        source = self.camera_source(device_id)
        frames = phone_showing(text, seed=seed)
        held = [frames[i % len(frames)] for i in range(max(hold_frames, 1))]
        source.play(held, afterwards=[scene(None)])

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
