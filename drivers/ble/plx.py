"""Pulse Oximeter service 0x1822: PLX Spot-check 0x2A5E and PLX Continuous 0x2A5F. Pure.

Spot-check flags: bit0 TIMESTAMP present (not "fast": one public library gets
this wrong), bit1 measurement status, bit2 device and sensor status, bit3 pulse
amplitude index, bit4 device clock not set.
Continuous flags: bit0 SpO2PR-Fast, bit1 SpO2PR-Slow, bit2 measurement status,
bit3 device and sensor status, bit4 pulse amplitude index.

SpO2 and pulse rate are the primary values: a special value there is "no valid
reading" (`GattDecodeError`). The secondary numbers (fast/slow averages, PAI)
keep a special value as a `SpecialValue`, since the reading itself is still good.
Status words are kept raw (so `bytes()` round-trips, reserved bits included);
`.measurement_status_names` etc. give the named bits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from drivers.ble.gatt_fields import Cursor, DateTime, bit_names, sfloat_bytes
from drivers.ieee11073 import SpecialValue

SERVICE_UUID = "00001822-0000-1000-8000-00805f9b34fb"
SPOT_CHECK_UUID = "00002a5e-0000-1000-8000-00805f9b34fb"
CONTINUOUS_UUID = "00002a5f-0000-1000-8000-00805f9b34fb"
FEATURES_UUID = "00002a60-0000-1000-8000-00805f9b34fb"

SPOT_CHECK = "PLX Spot-check Measurement (0x2A5E)"
CONTINUOUS = "PLX Continuous Measurement (0x2A5F)"

MEASUREMENT_STATUS_BITS: dict[int, str] = {
    5: "measurement-ongoing",
    6: "early-estimated-data",
    7: "validated-data",
    8: "fully-qualified-data",
    9: "data-from-measurement-storage",
    10: "data-for-demonstration",
    11: "data-for-testing",
    12: "calibration-ongoing",
    13: "measurement-unavailable",
    14: "questionable-measurement-detected",
    15: "invalid-measurement-detected",
}
DEVICE_SENSOR_STATUS_BITS: dict[int, str] = {
    0: "extended-display-update-ongoing",
    1: "equipment-malfunction-detected",
    2: "signal-processing-irregularity-detected",
    3: "inadequate-signal-detected",
    4: "poor-signal-detected",
    5: "low-perfusion-detected",
    6: "erratic-signal-detected",
    7: "nonpulsatile-signal-detected",
    8: "questionable-pulse-detected",
    9: "signal-analysis-ongoing",
    10: "sensor-interference-detected",
    11: "sensor-unconnected-to-user",
    12: "unknown-sensor-connected",
    13: "sensor-displaced",
    14: "sensor-malfunctioning",
    15: "sensor-disconnected",
}
Number = Decimal | SpecialValue


@dataclass(frozen=True, slots=True)
class SpotCheckMeasurement:
    spo2: Decimal = field(repr=False)  # %
    pulse_rate: Decimal = field(repr=False)  # /min
    timestamp: DateTime | None = None
    measurement_status: int | None = None
    device_sensor_status: int | None = None
    pulse_amplitude_index: Number | None = field(default=None, repr=False)
    device_clock_not_set: bool = False
    reserved_flags: int = 0  # bits 5-7

    @property
    def measurement_status_names(self) -> tuple[str, ...]:
        return bit_names(self.measurement_status or 0, MEASUREMENT_STATUS_BITS)

    @property
    def device_sensor_status_names(self) -> tuple[str, ...]:
        return bit_names(self.device_sensor_status or 0, DEVICE_SENSOR_STATUS_BITS)

    def __bytes__(self) -> bytes:
        flags = self.reserved_flags & 0xE0
        flags |= 0x01 if self.timestamp is not None else 0
        flags |= 0x02 if self.measurement_status is not None else 0
        flags |= 0x04 if self.device_sensor_status is not None else 0
        flags |= 0x08 if self.pulse_amplitude_index is not None else 0
        flags |= 0x10 if self.device_clock_not_set else 0
        out = bytes((flags,)) + sfloat_bytes(self.spo2) + sfloat_bytes(self.pulse_rate)
        if self.timestamp is not None:
            out += bytes(self.timestamp)
        if self.measurement_status is not None:
            out += self.measurement_status.to_bytes(2, "little")
        if self.device_sensor_status is not None:
            out += self.device_sensor_status.to_bytes(3, "little")
        if self.pulse_amplitude_index is not None:
            out += sfloat_bytes(self.pulse_amplitude_index)
        return out


@dataclass(frozen=True, slots=True)
class ContinuousMeasurement:
    spo2: Decimal = field(repr=False)  # % (SpO2PR-Normal)
    pulse_rate: Decimal = field(repr=False)  # /min
    fast: tuple[Number, Number] | None = field(default=None, repr=False)  # SpO2PR-Fast
    slow: tuple[Number, Number] | None = field(default=None, repr=False)  # SpO2PR-Slow
    measurement_status: int | None = None
    device_sensor_status: int | None = None
    pulse_amplitude_index: Number | None = field(default=None, repr=False)
    reserved_flags: int = 0  # bits 5-7

    @property
    def measurement_status_names(self) -> tuple[str, ...]:
        return bit_names(self.measurement_status or 0, MEASUREMENT_STATUS_BITS)

    @property
    def device_sensor_status_names(self) -> tuple[str, ...]:
        return bit_names(self.device_sensor_status or 0, DEVICE_SENSOR_STATUS_BITS)

    def __bytes__(self) -> bytes:
        flags = self.reserved_flags & 0xE0
        flags |= 0x01 if self.fast is not None else 0
        flags |= 0x02 if self.slow is not None else 0
        flags |= 0x04 if self.measurement_status is not None else 0
        flags |= 0x08 if self.device_sensor_status is not None else 0
        flags |= 0x10 if self.pulse_amplitude_index is not None else 0
        out = bytes((flags,)) + sfloat_bytes(self.spo2) + sfloat_bytes(self.pulse_rate)
        for pair in (self.fast, self.slow):
            if pair is not None:
                out += sfloat_bytes(pair[0]) + sfloat_bytes(pair[1])
        if self.measurement_status is not None:
            out += self.measurement_status.to_bytes(2, "little")
        if self.device_sensor_status is not None:
            out += self.device_sensor_status.to_bytes(3, "little")
        if self.pulse_amplitude_index is not None:
            out += sfloat_bytes(self.pulse_amplitude_index)
        return out


def parse_spot_check(data: bytes) -> SpotCheckMeasurement:
    cur = Cursor(data, SPOT_CHECK)
    flags = cur.u8("flags")
    spo2 = cur.sfloat("SpO2")
    pulse_rate = cur.sfloat("pulse rate")
    timestamp = cur.date_time() if flags & 0x01 else None
    status = cur.u16("measurement status") if flags & 0x02 else None
    device = cur.u24("device and sensor status") if flags & 0x04 else None
    pai = cur.optional_sfloat("pulse amplitude index") if flags & 0x08 else None
    cur.finish()
    return SpotCheckMeasurement(
        spo2=spo2,
        pulse_rate=pulse_rate,
        timestamp=timestamp,
        measurement_status=status,
        device_sensor_status=device,
        pulse_amplitude_index=pai,
        device_clock_not_set=bool(flags & 0x10),
        reserved_flags=flags & 0xE0,
    )


def parse_continuous(data: bytes) -> ContinuousMeasurement:
    cur = Cursor(data, CONTINUOUS)
    flags = cur.u8("flags")
    spo2 = cur.sfloat("SpO2")
    pulse_rate = cur.sfloat("pulse rate")
    fast = slow = None
    if flags & 0x01:
        fast = (cur.optional_sfloat("SpO2PR-Fast SpO2"), cur.optional_sfloat("SpO2PR-Fast PR"))
    if flags & 0x02:
        slow = (cur.optional_sfloat("SpO2PR-Slow SpO2"), cur.optional_sfloat("SpO2PR-Slow PR"))
    status = cur.u16("measurement status") if flags & 0x04 else None
    device = cur.u24("device and sensor status") if flags & 0x08 else None
    pai = cur.optional_sfloat("pulse amplitude index") if flags & 0x10 else None
    cur.finish()
    return ContinuousMeasurement(
        spo2=spo2,
        pulse_rate=pulse_rate,
        fast=fast,
        slow=slow,
        measurement_status=status,
        device_sensor_status=device,
        pulse_amplitude_index=pai,
        reserved_flags=flags & 0xE0,
    )
