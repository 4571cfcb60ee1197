"""Simulated BLE thermometer and pulse oximeter that send spec-encoded bytes.

They encode with the same dataclasses the parsers return (`bytes(measurement)`),
so a simulator bug and a parser bug cannot cancel out unseen: the parser tests
pin those bytes against fixtures built by hand from the specification.
The operator panel drives them through `fault`, `next_*` and `measure_delay_s`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from decimal import Decimal

from drivers.ble import health_thermometer as ht
from drivers.ble import plx
from drivers.ble.gatt_fields import DateTime
from drivers.ble.sim_air import BleFault, CharacteristicSpec, ServiceSpec, SimulatedPeripheral
from drivers.ieee11073 import SpecialValue, encode_float, encode_sfloat


def _now() -> DateTime:
    t = dt.datetime.now().replace(microsecond=0)
    return DateTime(t.year, t.month, t.day, t.hour, t.minute, t.second)


class SimulatedThermometer(SimulatedPeripheral):
    """An ear thermometer: indicates one Temperature Measurement after `measure_delay_s`."""

    def __init__(
        self,
        address: str,
        name: str = "SIM-THERMO",
        *,
        measure_delay_s: float = 0.05,
        **kwargs: float,
    ) -> None:
        super().__init__(
            address,
            name,
            [
                ServiceSpec(
                    ht.SERVICE_UUID,
                    (CharacteristicSpec(ht.TEMPERATURE_MEASUREMENT_UUID, ("indicate",)),),
                )
            ],
            **kwargs,
        )
        self.measure_delay_s = measure_delay_s
        self.next_value = Decimal("36.8")
        self.next_unit = "Cel"
        self.temperature_type: ht.TemperatureType | None = ht.TemperatureType.EAR

    def on_subscribed(self, char_uuid: str) -> None:
        if char_uuid == ht.TEMPERATURE_MEASUREMENT_UUID:
            self.spawn(self._measure)

    def measurement_bytes(self) -> bytes:
        if self.fault is BleFault.SPECIAL_VALUE:
            return bytes((0x00,)) + encode_float(SpecialValue.NAN)
        return bytes(
            ht.TemperatureMeasurement(
                value=self.next_value,
                unit=self.next_unit,
                timestamp=_now(),
                temperature_type=self.temperature_type,
            )
        )

    async def _measure(self) -> None:
        delay = self.measure_delay_s
        if self.fault is BleFault.SLOW:
            delay += self.slow_delay_s
        if self.fault is BleFault.DISCONNECT_MID_MEASUREMENT:
            await asyncio.sleep(delay / 2)
            self.drop_links()
            return
        await asyncio.sleep(delay)
        self.notify(ht.TEMPERATURE_MEASUREMENT_UUID, self.measurement_bytes())


class SimulatedOximeter(SimulatedPeripheral):
    """A finger oximeter with both PLX characteristics.

    mode "continuous": streams Continuous Measurements every `sample_interval_s`,
    the first `settling_samples` flagged early-estimated and off target (as a
    real sensor settles), then steady values. mode "spot-check": indicates one
    Spot-check Measurement after `measure_delay_s`.
    """

    def __init__(
        self,
        address: str,
        name: str = "SIM-OXI",
        *,
        mode: str = "continuous",
        measure_delay_s: float = 0.05,
        sample_interval_s: float = 0.02,
        settling_samples: int = 2,
        **kwargs: float,
    ) -> None:
        super().__init__(
            address,
            name,
            [
                ServiceSpec(
                    plx.SERVICE_UUID,
                    (
                        CharacteristicSpec(plx.SPOT_CHECK_UUID, ("indicate",)),
                        CharacteristicSpec(plx.CONTINUOUS_UUID, ("notify",)),
                        CharacteristicSpec(plx.FEATURES_UUID, ("read",)),
                    ),
                )
            ],
            **kwargs,
        )
        self.mode = mode
        self.measure_delay_s = measure_delay_s
        self.sample_interval_s = sample_interval_s
        self.settling_samples = settling_samples
        self.next_spo2 = Decimal("97")
        self.next_pulse_rate = Decimal("72")
        self.sensor_off = False  # finger out of the sensor: device and sensor status bit 11

    def read(self, char_uuid: str) -> bytes:
        if char_uuid == plx.FEATURES_UUID:
            return (0x0003).to_bytes(2, "little")  # measurement status + device status supported
        return b""

    def on_subscribed(self, char_uuid: str) -> None:
        if char_uuid == plx.CONTINUOUS_UUID and self.mode == "continuous":
            self.spawn(self._stream)
        elif char_uuid == plx.SPOT_CHECK_UUID and self.mode == "spot-check":
            self.spawn(self._spot_check)

    def _device_status(self) -> int:
        return 1 << 11 if self.sensor_off else 0

    def spot_check_bytes(self) -> bytes:
        spo2: Decimal | SpecialValue = self.next_spo2
        if self.fault is BleFault.SPECIAL_VALUE:
            return (
                bytes((0x00,)) + encode_sfloat(SpecialValue.NAN) + encode_sfloat(SpecialValue.NAN)
            )
        return bytes(
            plx.SpotCheckMeasurement(
                spo2=Decimal(spo2),
                pulse_rate=self.next_pulse_rate,
                timestamp=_now(),
                measurement_status=1 << 7,  # validated data
                device_sensor_status=self._device_status(),
            )
        )

    def continuous_bytes(self, index: int) -> bytes:
        if self.fault is BleFault.SPECIAL_VALUE:
            return (
                bytes((0x00,)) + encode_sfloat(SpecialValue.NAN) + encode_sfloat(SpecialValue.NRES)
            )
        settling = index < self.settling_samples
        offset = Decimal(self.settling_samples - index) * 2 if settling else Decimal(0)
        return bytes(
            plx.ContinuousMeasurement(
                spo2=min(self.next_spo2 - offset, Decimal(100)),
                pulse_rate=self.next_pulse_rate + offset * 3,
                measurement_status=(1 << 6) if settling else 0,
                device_sensor_status=self._device_status(),
                pulse_amplitude_index=Decimal("5.2"),
            )
        )

    async def _spot_check(self) -> None:
        delay = self.measure_delay_s + (self.slow_delay_s if self.fault is BleFault.SLOW else 0)
        if self.fault is BleFault.DISCONNECT_MID_MEASUREMENT:
            await asyncio.sleep(delay / 2)
            self.drop_links()
            return
        await asyncio.sleep(delay)
        self.notify(plx.SPOT_CHECK_UUID, self.spot_check_bytes())

    async def _stream(self) -> None:
        delay = self.measure_delay_s + (self.slow_delay_s if self.fault is BleFault.SLOW else 0)
        await asyncio.sleep(delay)
        index = 0
        while self.subscribed(plx.CONTINUOUS_UUID):
            if self.fault is BleFault.DISCONNECT_MID_MEASUREMENT and index == 1:
                self.drop_links()
                return
            self.notify(plx.CONTINUOUS_UUID, self.continuous_bytes(index))
            index += 1
            await asyncio.sleep(self.sample_interval_s)
