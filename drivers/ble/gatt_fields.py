"""Reading and writing the fields GATT measurements share: a cursor over the bytes,
IEEE-11073 numbers, and the 7-byte Date Time.

The cursor raises `GattDecodeError` naming the characteristic and the field, so
every parser gets exact, whole-sentence messages without repeating itself.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from drivers.ble.errors import GattDecodeError, GattReason
from drivers.ieee11073 import (
    Ieee11073Error,
    SpecialValue,
    decode_float,
    decode_sfloat,
    encode_sfloat,
)


@dataclass(frozen=True, slots=True)
class DateTime:
    """The GATT Date Time (0x2A08) as sent: year 0 or month/day 0 mean "not known"."""

    year: int
    month: int
    day: int
    hours: int
    minutes: int
    seconds: int

    def iso(self) -> str | None:
        """ISO 8601 local time, or None when the device does not know the date or sent a bad one."""
        try:
            return dt.datetime(
                self.year, self.month, self.day, self.hours, self.minutes, self.seconds
            ).isoformat()
        except ValueError:
            return None

    def to_datetime(self) -> dt.datetime | None:
        """The naive local datetime, or None when the device does not know the date."""
        try:
            return dt.datetime(
                self.year, self.month, self.day, self.hours, self.minutes, self.seconds
            )
        except ValueError:
            return None

    @classmethod
    def from_datetime(cls, moment: dt.datetime) -> DateTime:
        """What the kiosk writes to a device's Date Time (0x2A08): local time, whole seconds."""
        return cls(moment.year, moment.month, moment.day, moment.hour, moment.minute, moment.second)

    def __bytes__(self) -> bytes:
        return self.year.to_bytes(2, "little") + bytes(
            (self.month, self.day, self.hours, self.minutes, self.seconds)
        )


DATE_TIME = "Date Time (0x2A08)"
_DATE_TIME_LIMITS = (("month", 12), ("day", 31), ("hours", 23), ("minutes", 59), ("seconds", 59))


def parse_date_time(data: bytes) -> DateTime:
    """A Date Time characteristic value (exactly 7 bytes), each field within its GATT range.

    Year 0, month 0 and day 0 mean "not known" (GATT allows them); a year outside
    1582-9999 or a field above its maximum is an INVALID_FIELD.
    """
    cur = Cursor(data, DATE_TIME)
    value = cur.date_time("date time")
    cur.finish()
    if value.year != 0 and not 1582 <= value.year <= 9999:
        raise GattDecodeError(
            GattReason.INVALID_FIELD,
            f"The {DATE_TIME} has year {value.year}, outside 1582 to 9999 (or 0 for unknown).",
            characteristic=DATE_TIME,
            field="year",
        )
    for name, limit in _DATE_TIME_LIMITS:
        number = getattr(value, name)
        if number > limit:
            raise GattDecodeError(
                GattReason.INVALID_FIELD,
                f"The {DATE_TIME} has {name} {number}, above its maximum of {limit}.",
                characteristic=DATE_TIME,
                field=name,
            )
    return value


class Cursor:
    """Consumes `data` left to right for the characteristic named `what`."""

    def __init__(self, data: bytes, what: str) -> None:
        self._data = bytes(data)
        self._pos = 0
        self.what = what

    def take(self, size: int, field: str) -> bytes:
        end = self._pos + size
        if end > len(self._data):
            raise GattDecodeError(
                GattReason.TRUNCATED,
                f"The {self.what} is truncated: the {field} needs {size} byte(s) at offset "
                f"{self._pos} but the value is {len(self._data)} byte(s) long.",
                characteristic=self.what,
                field=field,
            )
        chunk = self._data[self._pos : end]
        self._pos = end
        return chunk

    def u8(self, field: str) -> int:
        return self.take(1, field)[0]

    def u16(self, field: str) -> int:
        return int.from_bytes(self.take(2, field), "little")

    def u24(self, field: str) -> int:
        return int.from_bytes(self.take(3, field), "little")

    def _number(self, size: int, field: str, *, primary: bool) -> Decimal | SpecialValue:
        raw = self.take(size, field)
        try:
            return decode_sfloat(raw) if size == 2 else decode_float(raw)
        except Ieee11073Error as exc:
            assert exc.special is not None  # length was checked by take()
            if not primary:
                return exc.special
            raise GattDecodeError(
                GattReason.NO_VALID_READING,
                f"The {self.what} carries no valid reading: the {field} is the special value "
                f"{exc.special.value}.",
                characteristic=self.what,
                field=field,
                special=exc.special,
            ) from exc

    def sfloat(self, field: str) -> Decimal:
        value = self._number(2, field, primary=True)
        assert isinstance(value, Decimal)
        return value

    def float32(self, field: str) -> Decimal:
        value = self._number(4, field, primary=True)
        assert isinstance(value, Decimal)
        return value

    def optional_sfloat(self, field: str) -> Decimal | SpecialValue:
        """A secondary number (fast/slow averages, PAI): a special value is kept, not fatal."""
        return self._number(2, field, primary=False)

    def date_time(self, field: str = "timestamp") -> DateTime:
        raw = self.take(7, field)
        return DateTime(int.from_bytes(raw[:2], "little"), *raw[2:7])

    def finish(self) -> None:
        extra = len(self._data) - self._pos
        if extra:
            raise GattDecodeError(
                GattReason.TRAILING_BYTES,
                f"The {self.what} has {extra} byte(s) after the last field its flags announce.",
                characteristic=self.what,
            )


def sfloat_bytes(value: Decimal | SpecialValue) -> bytes:
    return encode_sfloat(value)


def bit_names(value: int, names: dict[int, str]) -> tuple[str, ...]:
    """The names of the set bits, in bit order; unnamed (reserved) bits are ignored."""
    return tuple(name for bit, name in sorted(names.items()) if value >> bit & 1)
