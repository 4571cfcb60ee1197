"""Blood Pressure service 0x1810: Measurement 0x2A35 and Intermediate Cuff Pressure 0x2A36. Pure.

Layout (little-endian, Bluetooth SIG Blood Pressure Service 1.1): flags u8
(bit0 unit kPa, else mmHg · bit1 time stamp · bit2 pulse rate · bit3 user id ·
bit4 measurement status) · systolic, diastolic, mean arterial pressure (3 ×
IEEE-11073 SFLOAT) · [Date Time, 7 bytes] · [pulse rate SFLOAT] · [user id u8]
· [measurement status u16].

Measurement status bits: 0 body movement, 1 cuff fit too loose, 2 irregular
pulse, 3-4 pulse rate range (0 within, 1 above, 2 below, 3 reserved), 5
improper measurement position; 6-15 reserved. (A shorter table that puts "pulse
out of range" on 0x08 alone and "improper position" on 0x10 is wrong: the range
is a two-bit field, the position is bit 5.)

The three pressures are primary: a special value (NaN, NRes, ±INF, reserved) is
`GattDecodeError(NO_VALID_READING)`. Pulse rate is secondary: a special value is
kept as a `SpecialValue` (the pressures are still a reading). Intermediate Cuff
Pressure has the same layout with the current cuff pressure in the systolic
field and the other two NaN; its parser keeps whatever the device put there so
that `bytes(parse(x)) == x` always holds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from drivers.ble.gatt_fields import Cursor, DateTime, sfloat_bytes
from drivers.ieee11073 import SpecialValue

SERVICE_UUID = "00001810-0000-1000-8000-00805f9b34fb"
MEASUREMENT_UUID = "00002a35-0000-1000-8000-00805f9b34fb"
INTERMEDIATE_CUFF_PRESSURE_UUID = "00002a36-0000-1000-8000-00805f9b34fb"
FEATURE_UUID = "00002a49-0000-1000-8000-00805f9b34fb"
DATE_TIME_UUID = "00002a08-0000-1000-8000-00805f9b34fb"
RECORD_ACCESS_CONTROL_POINT_UUID = "00002a52-0000-1000-8000-00805f9b34fb"  # never written

MEASUREMENT = "Blood Pressure Measurement (0x2A35)"
INTERMEDIATE = "Intermediate Cuff Pressure (0x2A36)"

_KPA = 0x01
_TIMESTAMP = 0x02
_PULSE = 0x04
_USER = 0x08
_STATUS = 0x10

STATUS_BITS: dict[int, str] = {
    0: "body-movement",
    1: "cuff-too-loose",
    2: "irregular-pulse",
    5: "improper-measurement-position",
}
PULSE_RANGE_NAMES = {1: "pulse-rate-above-range", 2: "pulse-rate-below-range"}
MEASURE_AGAIN_FLAGS = frozenset(
    {"body-movement", "cuff-too-loose", "improper-measurement-position"}
)
"""Status flags after which the patient is asked to measure again ("keep your arm still")."""

Number = Decimal | SpecialValue


def status_names(status: int | None) -> tuple[str, ...]:
    """The named status bits, in bit order; the pulse-rate range field is named when not 0."""
    if status is None:
        return ()
    names = [name for bit, name in sorted(STATUS_BITS.items()) if bit < 3 and status >> bit & 1]
    pulse_range = status >> 3 & 0b11
    if pulse_range:
        names.append(PULSE_RANGE_NAMES.get(pulse_range, "pulse-rate-range-reserved"))
    if status >> 5 & 1:
        names.append(STATUS_BITS[5])
    return tuple(names)


def _unit(flags: int) -> str:
    return "kPa" if flags & _KPA else "mm[Hg]"


def _flags(
    unit: str,
    timestamp: DateTime | None,
    pulse_rate: Number | None,
    user_id: int | None,
    status: int | None,
    reserved: int,
) -> int:
    flags = reserved & 0xE0
    flags |= _KPA if unit == "kPa" else 0
    flags |= _TIMESTAMP if timestamp is not None else 0
    flags |= _PULSE if pulse_rate is not None else 0
    flags |= _USER if user_id is not None else 0
    flags |= _STATUS if status is not None else 0
    return flags


def _tail(
    timestamp: DateTime | None, pulse_rate: Number | None, user_id: int | None, status: int | None
) -> bytes:
    out = b""
    if timestamp is not None:
        out += bytes(timestamp)
    if pulse_rate is not None:
        out += sfloat_bytes(pulse_rate)
    if user_id is not None:
        out += bytes((user_id,))
    if status is not None:
        out += status.to_bytes(2, "little")
    return out


@dataclass(frozen=True, slots=True)
class BloodPressureMeasurement:
    systolic: Decimal = field(repr=False)  # health values: never in a log line
    diastolic: Decimal = field(repr=False)
    mean: Decimal = field(repr=False)
    unit: str = "mm[Hg]"  # UCUM: "mm[Hg]" or "kPa"
    timestamp: DateTime | None = None
    pulse_rate: Number | None = field(default=None, repr=False)  # /min
    user_id: int | None = None  # 255 = unknown user
    measurement_status: int | None = None  # raw u16, reserved bits kept
    reserved_flags: int = 0  # bits 5-7

    @classmethod
    def parse(cls, data: bytes) -> BloodPressureMeasurement:
        return parse_measurement(data)

    @property
    def status_names(self) -> tuple[str, ...]:
        return status_names(self.measurement_status)

    @property
    def measure_again(self) -> bool:
        """True when a status bit says the numbers are not to be trusted as they are."""
        return bool(MEASURE_AGAIN_FLAGS & set(self.status_names))

    def __bytes__(self) -> bytes:
        flags = _flags(
            self.unit,
            self.timestamp,
            self.pulse_rate,
            self.user_id,
            self.measurement_status,
            self.reserved_flags,
        )
        return (
            bytes((flags,))
            + sfloat_bytes(self.systolic)
            + sfloat_bytes(self.diastolic)
            + sfloat_bytes(self.mean)
            + _tail(self.timestamp, self.pulse_rate, self.user_id, self.measurement_status)
        )


@dataclass(frozen=True, slots=True)
class IntermediateCuffPressure:
    """The cuff pressure now; `diastolic`/`mean` are NaN by the specification (kept as sent)."""

    pressure: Decimal = field(repr=False)
    unit: str = "mm[Hg]"
    diastolic: Number = field(default=SpecialValue.NAN, repr=False)
    mean: Number = field(default=SpecialValue.NAN, repr=False)
    timestamp: DateTime | None = None
    pulse_rate: Number | None = field(default=None, repr=False)
    user_id: int | None = None
    measurement_status: int | None = None
    reserved_flags: int = 0

    @classmethod
    def parse(cls, data: bytes) -> IntermediateCuffPressure:
        return parse_intermediate_cuff_pressure(data)

    @property
    def status_names(self) -> tuple[str, ...]:
        return status_names(self.measurement_status)

    def __bytes__(self) -> bytes:
        flags = _flags(
            self.unit,
            self.timestamp,
            self.pulse_rate,
            self.user_id,
            self.measurement_status,
            self.reserved_flags,
        )
        return (
            bytes((flags,))
            + sfloat_bytes(self.pressure)
            + sfloat_bytes(self.diastolic)
            + sfloat_bytes(self.mean)
            + _tail(self.timestamp, self.pulse_rate, self.user_id, self.measurement_status)
        )


def _optional_tail(
    cur: Cursor, flags: int
) -> tuple[DateTime | None, Number | None, int | None, int | None]:
    timestamp = cur.date_time("time stamp") if flags & _TIMESTAMP else None
    pulse = cur.optional_sfloat("pulse rate") if flags & _PULSE else None
    user = cur.u8("user id") if flags & _USER else None
    status = cur.u16("measurement status") if flags & _STATUS else None
    cur.finish()
    return timestamp, pulse, user, status


def parse_measurement(data: bytes) -> BloodPressureMeasurement:
    cur = Cursor(data, MEASUREMENT)
    flags = cur.u8("flags")
    systolic = cur.sfloat("systolic pressure")
    diastolic = cur.sfloat("diastolic pressure")
    mean = cur.sfloat("mean arterial pressure")
    timestamp, pulse, user, status = _optional_tail(cur, flags)
    return BloodPressureMeasurement(
        systolic=systolic,
        diastolic=diastolic,
        mean=mean,
        unit=_unit(flags),
        timestamp=timestamp,
        pulse_rate=pulse,
        user_id=user,
        measurement_status=status,
        reserved_flags=flags & 0xE0,
    )


def parse_intermediate_cuff_pressure(data: bytes) -> IntermediateCuffPressure:
    cur = Cursor(data, INTERMEDIATE)
    flags = cur.u8("flags")
    pressure = cur.sfloat("current cuff pressure")
    diastolic = cur.optional_sfloat("diastolic field (unused)")
    mean = cur.optional_sfloat("mean arterial pressure field (unused)")
    timestamp, pulse, user, status = _optional_tail(cur, flags)
    return IntermediateCuffPressure(
        pressure=pressure,
        unit=_unit(flags),
        diastolic=diastolic,
        mean=mean,
        timestamp=timestamp,
        pulse_rate=pulse,
        user_id=user,
        measurement_status=status,
        reserved_flags=flags & 0xE0,
    )


_MMHG_PER_KPA = Decimal("7.500615758")


def to_mmhg(value: Decimal, unit: str) -> Decimal:
    """mm[Hg] as the doctor reads a blood pressure: kPa converted and rounded to a whole number."""
    if unit == "mm[Hg]":
        return value
    return (value * _MMHG_PER_KPA).quantize(Decimal(1))
