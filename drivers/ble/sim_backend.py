"""bleak backend classes that talk to a `SimulatedAir` instead of a Bluetooth radio.

They implement bleak 3.1's `BaseBleakClient` and `BaseBleakScanner` contracts
as the BlueZ backend does: connect() builds a `BleakGATTServiceCollection` with
a CCCD (0x2902) under every notifying characteristic, start_notify() refuses a
characteristic that can neither notify nor indicate, the disconnected callback
fires only on an unsolicited link loss, and the scanner fills `seen_devices`
and calls the detection callbacks for every advertisement.
Use through `SimulatedAir.client_backend()` / `.scanner_backend()`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any, ClassVar

from bleak.args import SizedBuffer
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.client import BaseBleakClient, NotifyCallback
from bleak.backends.descriptor import BleakGATTDescriptor
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData, AdvertisementDataCallback, BaseBleakScanner
from bleak.backends.service import BleakGATTService, BleakGATTServiceCollection
from bleak.exc import BleakDBusError, BleakDeviceNotFoundError, BleakError

from drivers.ble.sim_air import BleFault, SimulatedAir, SimulatedPeripheral

CCCD_UUID = "00002902-0000-1000-8000-00805f9b34fb"
_MTU = 247


class SimBleakClient(BaseBleakClient):
    air: ClassVar[SimulatedAir]

    def __init__(
        self,
        address_or_ble_device: BLEDevice | str,
        *,
        disconnected_callback: Callable[[], None] | None,
        timeout: float,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            address_or_ble_device, disconnected_callback=disconnected_callback, timeout=timeout
        )
        self._peripheral: SimulatedPeripheral | None = None
        self._callbacks: dict[str, NotifyCallback] = {}
        self._cccd: dict[int, bytes] = {}

    @property
    def name(self) -> str:
        return self._peripheral.name if self._peripheral else self.address.replace(":", "-")

    @property
    def mtu_size(self) -> int:
        return _MTU

    @property
    def is_connected(self) -> bool:
        return self._peripheral is not None

    async def connect(self, pair: bool, **kwargs: Any) -> None:
        peripheral = self.air.get(self.address)
        if peripheral is None or not peripheral.advertising:
            raise BleakDeviceNotFoundError(
                self.address, f"Device with address {self.address} was not found."
            )
        if peripheral.failing_connects > 0:
            peripheral.failing_connects -= 1
            await asyncio.sleep(peripheral.connect_delay_s)
            raise BleakError(f"Connection to {self.address} failed (le-connection-abort-by-local)")
        if peripheral.fault is BleFault.NEVER_CONNECTS:
            await asyncio.sleep(self._timeout)
            raise TimeoutError(f"connecting to {self.address} timed out")
        if pair:
            peripheral.pair_requests += 1
        delay = peripheral.connect_delay_s
        if peripheral.fault is BleFault.SLOW:
            delay += peripheral.slow_delay_s
        await asyncio.sleep(delay)
        self.services = self._build_services(peripheral)
        self._peripheral = peripheral
        peripheral.attach(self)

    def _build_services(self, peripheral: SimulatedPeripheral) -> BleakGATTServiceCollection:
        collection = BleakGATTServiceCollection()
        handle = 1
        for spec in peripheral.services:
            service = BleakGATTService(spec, handle, spec.uuid)
            collection.add_service(service)
            handle += 1
            for cspec in spec.characteristics:
                char = BleakGATTCharacteristic(
                    cspec,
                    handle + 1,  # handle of the value attribute, as BlueZ reports it
                    cspec.uuid,
                    list(cspec.properties),  # type: ignore[arg-type]
                    lambda: _MTU - 3,
                    service,
                )
                collection.add_characteristic(char)
                handle += 2
                if {"notify", "indicate"} & set(cspec.properties):
                    collection.add_descriptor(BleakGATTDescriptor(None, handle, CCCD_UUID, char))
                    self._cccd[handle] = b"\x00\x00"
                    handle += 1
        return collection

    async def disconnect(self) -> None:
        peripheral, self._peripheral = self._peripheral, None
        self._callbacks.clear()
        if peripheral is not None:
            peripheral.detach(self)

    async def pair(self, *args: Any, passkey: str | None = None, **kwargs: Any) -> None:
        """Bond as the device asks (`SimulatedPeripheral.bonding`).

        `passkey` is this backend's own keyword (bleak lets a backend have some): the
        digits the technician typed, where BlueZ would ask its registered agent
        (`org.bluez.Agent1.RequestPasskey`). Failures are raised as BlueZ's D-Bus
        errors (`BleakDBusError`), the same type and names the real backend raises.
        """
        peripheral = self._require()
        peripheral.pair_attempts += 1
        if peripheral.pair_delay_s:
            await asyncio.sleep(peripheral.pair_delay_s)
        if peripheral.bonding == "none" or peripheral.bonded:
            return
        if peripheral.refuses_bonding:
            raise BleakDBusError("org.bluez.Error.AuthenticationRejected", [])
        if peripheral.bonding == "passkey":
            if passkey is None:
                raise BleakDBusError("org.bluez.Error.AuthenticationCanceled", [])
            if passkey != peripheral.passkey:
                raise BleakDBusError("org.bluez.Error.AuthenticationFailed", [])
        peripheral.bonded = True

    async def unpair(self) -> None:
        """The device forgets the bond, and the link drops (as BlueZ's RemoveDevice)."""
        peripheral = self.air.get(self.address)
        if peripheral is not None:
            peripheral.bonded = False
        await self.disconnect()

    def _require(self) -> SimulatedPeripheral:
        if self._peripheral is None:
            raise BleakError("Not connected")
        return self._peripheral

    async def read_gatt_char(
        self, characteristic: BleakGATTCharacteristic, *, use_cached: bool = False, **kwargs: Any
    ) -> bytearray:
        peripheral = self._require()
        if "read" not in characteristic.properties:
            raise BleakError(f"Characteristic {characteristic.uuid} does not support read")
        return bytearray(peripheral.read(characteristic.uuid))

    async def read_gatt_descriptor(
        self, descriptor: BleakGATTDescriptor, *, use_cached: bool = False, **kwargs: Any
    ) -> bytearray:
        self._require()
        return bytearray(self._cccd.get(descriptor.handle, b""))

    async def write_gatt_char(
        self, characteristic: BleakGATTCharacteristic, data: SizedBuffer, response: bool
    ) -> None:
        peripheral = self._require()
        if not {"write", "write-without-response"} & set(characteristic.properties):
            raise BleakError(f"Characteristic {characteristic.uuid} is not writable")
        peripheral.write(characteristic.uuid, bytes(data))

    async def write_gatt_descriptor(
        self, descriptor: BleakGATTDescriptor, data: SizedBuffer
    ) -> None:
        self._require()
        raise BleakError(f"Descriptor {descriptor.handle} is not writable")

    async def start_notify(
        self, characteristic: BleakGATTCharacteristic, callback: NotifyCallback, **kwargs: Any
    ) -> None:
        peripheral = self._require()
        props = characteristic.properties
        if "notify" in props:
            cccd = b"\x01\x00"  # notifications are preferred when both exist, as bleak asks
        elif "indicate" in props:
            cccd = b"\x02\x00"
        else:
            raise BleakError(
                f"Characteristic {characteristic.uuid} does not support notifications or indications"
            )
        for desc in characteristic.descriptors:
            self._cccd[desc.handle] = cccd
        self._callbacks[characteristic.uuid] = callback
        peripheral.subscribe(self, characteristic.uuid)

    async def stop_notify(self, characteristic: BleakGATTCharacteristic) -> None:
        peripheral = self._require()
        self._callbacks.pop(characteristic.uuid, None)
        for desc in characteristic.descriptors:
            self._cccd[desc.handle] = b"\x00\x00"
        peripheral.unsubscribe(self, characteristic.uuid)

    # -- Link, called by the peripheral ------------------------------------------
    def deliver(self, char_uuid: str, data: bytes) -> None:
        callback = self._callbacks.get(char_uuid)
        if callback is not None and self._peripheral is not None:
            callback(bytearray(data))

    def link_lost(self) -> None:
        if self._peripheral is None:
            return
        self._peripheral = None
        self._callbacks.clear()
        if self._disconnected_callback is not None:
            asyncio.get_running_loop().call_soon(self._disconnected_callback)


class SimBleakScanner(BaseBleakScanner):
    air: ClassVar[SimulatedAir]

    def __init__(
        self,
        detection_callback: AdvertisementDataCallback | None,
        service_uuids: list[str] | None,
        scanning_mode: str = "active",
        **kwargs: Any,
    ) -> None:
        super().__init__(detection_callback, service_uuids)
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.seen_devices = {}
        self._task = asyncio.get_running_loop().create_task(self._listen())

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _listen(self) -> None:
        while True:
            for peripheral in self.air.advertising():
                if not self.is_allowed_uuid(peripheral.advertised_uuids):
                    continue
                adv = AdvertisementData(
                    local_name=peripheral.name,
                    manufacturer_data={},
                    service_data={},
                    service_uuids=peripheral.advertised_uuids,
                    tx_power=None,
                    rssi=peripheral.rssi,
                    platform_data=(),
                )
                device = self.create_or_update_device(
                    peripheral.address, peripheral.address, peripheral.name, peripheral, adv
                )
                self.call_detection_callbacks(device, adv)
            await asyncio.sleep(self.air.advertising_interval_s)
