"""Health Thermometer service 0x1809, Temperature Measurement 0x2A1C (indicate). Pure.

Layout (little-endian): flags u8 (bit0 Fahrenheit, bit1 timestamp present, bit2
temperature type present) · FLOAT · [Date Time, 7 bytes] · [temperature type u8].

The parser keeps what the device said: the value with its exponent and its unit
(UCUM `Cel` or `[degF]`). Converting Fahrenheit to Celsius is the driver's job
(`to_celsius`), so that `kiosk devices decode` shows the technician the raw
reading and `bytes(parse(x)) == x` holds.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal, localcontext

from drivers.ble.errors import GattDecodeError, GattReason
from drivers.ble.gatt_fields import Cursor, DateTime
from drivers.ieee11073 import encode_float

SERVICE_UUID = "00001809-0000-1000-8000-00805f9b34fb"
TEMPERATURE_MEASUREMENT_UUID = "00002a1c-0000-1000-8000-00805f9b34fb"

_FAHRENHEIT = 0x01
_TIMESTAMP = 0x02
_TYPE = 0x04
_WHAT = "Temperature Measurement (0x2A1C)"


class TemperatureType(enum.IntEnum):
    """Where the temperature was taken (Temperature Type 0x2A1D)."""

    ARMPIT = 1
    BODY = 2
    EAR = 3
    FINGER = 4
    GASTRO_INTESTINAL = 5
    MOUTH = 6
    RECTUM = 7
    TOE = 8
    TYMPANUM = 9


@dataclass(frozen=True, slots=True)
class TemperatureMeasurement:
    value: Decimal = field(repr=False)  # a health value: never in a log line
    unit: str  # UCUM: "Cel" or "[degF]"
    timestamp: DateTime | None = None
    temperature_type: TemperatureType | None = None
    reserved_flags: int = 0  # bits 3-7, kept so that bytes() gives the input back

    @property
    def flags(self) -> tuple[str, ...]:
        out = ["fahrenheit"] if self.unit == "[degF]" else []
        if self.temperature_type is not None:
            out.append(f"site:{self.temperature_type.name.lower().replace('_', '-')}")
        return tuple(out)

    def __bytes__(self) -> bytes:
        flags = self.reserved_flags & 0xF8
        flags |= _FAHRENHEIT if self.unit == "[degF]" else 0
        flags |= _TIMESTAMP if self.timestamp is not None else 0
        flags |= _TYPE if self.temperature_type is not None else 0
        out = bytes((flags,)) + encode_float(self.value)
        if self.timestamp is not None:
            out += bytes(self.timestamp)
        if self.temperature_type is not None:
            out += bytes((int(self.temperature_type),))
        return out


def parse_temperature_measurement(data: bytes) -> TemperatureMeasurement:
    cur = Cursor(data, _WHAT)
    flags = cur.u8("flags")
    value = cur.float32("temperature")
    timestamp = cur.date_time() if flags & _TIMESTAMP else None
    temperature_type: TemperatureType | None = None
    if flags & _TYPE:
        code = cur.u8("temperature type")
        try:
            temperature_type = TemperatureType(code)
        except ValueError:
            raise GattDecodeError(
                GattReason.INVALID_FIELD,
                f"The {_WHAT} has temperature type {code}, which is not a defined body site (1 to 9).",
                characteristic=_WHAT,
                field="temperature type",
            ) from None
    cur.finish()
    return TemperatureMeasurement(
        value=value,
        unit="[degF]" if flags & _FAHRENHEIT else "Cel",
        timestamp=timestamp,
        temperature_type=temperature_type,
        reserved_flags=flags & 0xF8,
    )


def to_celsius(value: Decimal, unit: str) -> Decimal:
    """Celsius with the device's number of decimals (at least one: 1 °F is 0.56 °C).

    98.6 [degF] -> 37.0 Cel; 100.4 [degF] -> 38.0 Cel. Rounded half-even, as the
    device's last digit is already rounded.
    """
    if unit == "Cel":
        return value
    exponent = value.as_tuple().exponent
    assert isinstance(exponent, int)
    quantum = Decimal(1).scaleb(min(exponent, -1))
    # Enough digits for any FLOAT (7-digit mantissa, exponent -128..127): no InvalidOperation.
    with localcontext(prec=300):
        return ((value - 32) * 5 / 9).quantize(quantum, rounding=ROUND_HALF_EVEN)
