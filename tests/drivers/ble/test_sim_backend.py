"""bleak's own BleakScanner / BleakClient driven end to end through the injected simulated backend."""

from __future__ import annotations

import asyncio

import pytest
from bleak import BleakClient, BleakScanner
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.exc import BleakDeviceNotFoundError, BleakError

from drivers.ble import health_thermometer as ht
from drivers.ble import plx
from drivers.ble.sim_air import BleFault, SimulatedAir
from drivers.ble.sim_devices import SimulatedOximeter, SimulatedThermometer
from tests.drivers.ble.conftest import OXI, THERMO


async def test_scanner_discovers_by_address_and_service(
    air: SimulatedAir, thermometer: SimulatedThermometer, oximeter: SimulatedOximeter
) -> None:
    found = await BleakScanner.find_device_by_address(
        THERMO.lower(), timeout=1, backend=air.scanner_backend()
    )
    assert found is not None and found.address == THERMO and found.name == "SIM-THERMO"
    scanner = BleakScanner(service_uuids=[plx.SERVICE_UUID], backend=air.scanner_backend())
    async with scanner:
        await asyncio.sleep(0.03)
    assert [d.address for d in scanner.discovered_devices] == [OXI]
    adv = scanner.discovered_devices_and_advertisement_data[OXI][1]
    assert adv.service_uuids == [plx.SERVICE_UUID] and adv.rssi == -55


async def test_absent_device_is_not_found(
    air: SimulatedAir, thermometer: SimulatedThermometer
) -> None:
    thermometer.fault = BleFault.ABSENT
    assert (
        await BleakScanner.find_device_by_address(
            THERMO, timeout=0.05, backend=air.scanner_backend()
        )
        is None
    )
    with pytest.raises(BleakDeviceNotFoundError):
        await BleakClient(THERMO, backend=air.client_backend()).connect()


async def test_services_cccd_and_indication(
    air: SimulatedAir, thermometer: SimulatedThermometer
) -> None:
    received: list[tuple[str, bytes]] = []

    def on_data(char: BleakGATTCharacteristic, data: bytearray) -> None:
        received.append((char.uuid, bytes(data)))

    async with BleakClient(THERMO, backend=air.client_backend()) as client:
        assert client.is_connected and client.mtu_size == 247
        char = client.services.get_characteristic(ht.TEMPERATURE_MEASUREMENT_UUID)
        assert char is not None and char.properties == ["indicate"]
        assert char.service_uuid == ht.SERVICE_UUID
        (cccd,) = char.descriptors
        assert cccd.uuid == "00002902-0000-1000-8000-00805f9b34fb"
        assert await client.read_gatt_descriptor(cccd) == bytearray(b"\x00\x00")
        await client.start_notify(char, on_data)
        assert await client.read_gatt_descriptor(cccd) == bytearray(b"\x02\x00")  # indications
        for _ in range(100):
            if received:
                break
            await asyncio.sleep(0.005)
        await client.stop_notify(char)
        assert await client.read_gatt_descriptor(cccd) == bytearray(b"\x00\x00")
        with pytest.raises(ValueError, match="Cannot write to CCCD"):
            await client.write_gatt_descriptor(cccd, b"\x01\x00")
    assert not client.is_connected
    assert len(received) == 1
    uuid, data = received[0]
    assert uuid == ht.TEMPERATURE_MEASUREMENT_UUID
    m = ht.parse_temperature_measurement(data)
    assert (str(m.value), m.unit, m.temperature_type) == ("36.8", "Cel", ht.TemperatureType.EAR)


async def test_notify_preferred_read_and_refusals(
    air: SimulatedAir, oximeter: SimulatedOximeter
) -> None:
    async with BleakClient(OXI, backend=air.client_backend()) as client:
        assert await client.read_gatt_char(plx.FEATURES_UUID) == bytearray(b"\x03\x00")
        with pytest.raises(BleakError, match="does not support read"):
            await client.read_gatt_char(plx.CONTINUOUS_UUID)
        with pytest.raises(BleakError, match="does not support notifications or indications"):
            await client.start_notify(plx.FEATURES_UUID, lambda c, d: None)
        await client.start_notify(plx.CONTINUOUS_UUID, lambda c, d: None)
        char = client.services.get_characteristic(plx.CONTINUOUS_UUID)
        assert char is not None
        assert await client.read_gatt_descriptor(char.descriptors[0]) == bytearray(b"\x01\x00")


async def test_unsolicited_disconnect_calls_back_once(
    air: SimulatedAir, thermometer: SimulatedThermometer
) -> None:
    calls: list[BleakClient] = []
    client = BleakClient(THERMO, disconnected_callback=calls.append, backend=air.client_backend())
    await client.connect()
    thermometer.drop_links()
    await asyncio.sleep(0.01)
    assert calls == [client] and not client.is_connected
    with pytest.raises(BleakError, match="Not connected"):
        await client.start_notify(ht.TEMPERATURE_MEASUREMENT_UUID, lambda c, d: None)
    # a solicited disconnect does not call back
    await client.connect()
    await client.disconnect()
    await asyncio.sleep(0.01)
    assert calls == [client]


async def test_never_connects_times_out(
    air: SimulatedAir, thermometer: SimulatedThermometer
) -> None:
    thermometer.fault = BleFault.NEVER_CONNECTS
    client = BleakClient(THERMO, timeout=0.05, backend=air.client_backend())
    with pytest.raises(TimeoutError):
        await client.connect()
    assert not client.is_connected
