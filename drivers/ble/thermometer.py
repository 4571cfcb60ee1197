"""The BLE thermometer driver (Health Thermometer 0x1809, Temperature Measurement 0x2A1C).

A Fahrenheit reading is converted to Celsius here, with the device's number of
decimals (at least one), and flagged "converted-from-degF" so the doctor can
tell: the kiosk speaks `Cel` to the platform (FR Core body temperature).
"""

from __future__ import annotations

from typing import Any

from drivers.ble import health_thermometer as ht
from drivers.ble.measurement_driver import WAIT, BleMeasurementDriver, Outcome
from drivers.events import Reading, ReadingValue
from vocabulary.devices import DeviceKind


class ThermometerDriver(BleMeasurementDriver):
    SERVICE_UUID = ht.SERVICE_UUID
    CHARACTERISTICS = (ht.TEMPERATURE_MEASUREMENT_UUID,)
    LABEL = "thermometer"

    def __init__(self, device_id: str, address: str, **kwargs: Any) -> None:
        super().__init__(device_id, DeviceKind.THERMOMETER, address, **kwargs)

    def interpret(self, char_uuid: str, data: bytes) -> Outcome:
        if char_uuid != ht.TEMPERATURE_MEASUREMENT_UUID:
            return WAIT
        m = ht.parse_temperature_measurement(data)
        flags = m.flags
        if m.unit == "[degF]":
            flags = (*flags, "converted-from-degF")
        value = ht.to_celsius(m.value, m.unit)
        return Outcome(
            reading=Reading(
                self.device_id,
                self.kind,
                (ReadingValue("body-temperature", value, "Cel"),),
                flags=flags,
                device_time=m.timestamp.iso() if m.timestamp else None,
            )
        )
