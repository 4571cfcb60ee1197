"""Datascope Accutorr ASCII protocol, host side, sans-I/O (the h11 model).

The host sends one ASCII letter; the monitor answers:
  `C` -> `>`                                   (alive / prompt, no line end)
  `P` -> `P:aaa,bbb,ccc,ddd,eee,fff,ggg,hhh,iii<CR><LF>`
         SpO2, pulse rate, systolic, mean, diastolic, status 0, status 1,
         status 2, minutes since the last NIBP measurement
  `L` -> `L:aaa,bbb,ccc,ddd,eee,fff,ggg,hhh<CR><LF>` (our documented record)
         SpO2 low, SpO2 high, pulse low, pulse high, systolic low, systolic
         high, diastolic low, diastolic high
Fields are decimal, up to three digits, zero- or space-padded; an unused field
is `--` (one to three dashes accepted). Status bytes are decimal 0-255 and
their bits are in STATUS*_BITS below (docs/drivers-ble-serial.md says why).

`AccutorrFramer.receive_data(bytes)` / `next_event()` turns any byte stream into
`Prompt`, `PatientRecord`, `AlarmLimits` and `GarbageSkipped` events, or
`NEED_DATA`: noise on the line and records cut in the middle are skipped and
reported (length and reason only, never the bytes: they may hold values).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, fields

__all__ = [
    "DEVICE_ERROR_FLAGS",
    "NEED_DATA",
    "AccutorrError",
    "AccutorrFramer",
    "AccutorrReason",
    "AlarmLimits",
    "Command",
    "GarbageSkipped",
    "NeedData",
    "PatientRecord",
    "Prompt",
    "parse_record",
]

MAX_RECORD = 80  # a patient record is 40 bytes; anything much longer is noise


class Command(enum.StrEnum):
    CHECK = "C"
    PATIENT = "P"
    LIMITS = "L"

    def __bytes__(self) -> bytes:
        return self.value.encode("ascii")


class AccutorrReason(enum.StrEnum):
    NOT_A_RECORD = "not-a-record"  # does not start with P: or L:
    NO_TERMINATOR = "no-terminator"  # missing <CR><LF>
    FIELD_COUNT = "field-count"
    BAD_FIELD = "bad-field"  # not digits, not dashes, or out of range
    CUT_RECORD = "cut-record"  # a new record began before this one ended
    TOO_LONG = "too-long"
    NOISE = "noise"  # bytes between records


class AccutorrError(Exception):
    """Bytes from the monitor that are not a valid record (the monitor's fault)."""

    def __init__(self, reason: AccutorrReason, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


STATUS0_BITS: dict[int, str] = {  # NIBP
    0: "cuff-error",  # cuff loose, leaking or hose kinked
    1: "cuff-overpressure",
    2: "nibp-in-progress",
    3: "motion-artifact",
    4: "nibp-timeout",
    5: "irregular-pulse",
}
STATUS1_BITS: dict[int, str] = {  # SpO2
    0: "spo2-probe-off",
    1: "spo2-no-pulse",
    2: "spo2-low-perfusion",
}
STATUS2_BITS: dict[int, str] = {  # system
    0: "alarm-active",
    1: "low-battery",
    7: "equipment-fault",
}
DEVICE_ERROR_FLAGS = frozenset(
    {"cuff-error", "cuff-overpressure", "nibp-timeout", "equipment-fault"}
)


def _names(value: int | None, bits: dict[int, str]) -> tuple[str, ...]:
    if value is None:
        return ()
    return tuple(name for bit, name in sorted(bits.items()) if value >> bit & 1)


def _field(value: int | None) -> bytes:
    return b"--" if value is None else b"%03d" % value


@dataclass(frozen=True, slots=True)
class Prompt:
    """The monitor's `>` answer to `C`."""


@dataclass(frozen=True, slots=True)
class PatientRecord:
    # The vital signs are hidden from repr: a record must never reach a log line.
    spo2: int | None = field(repr=False)
    pulse_rate: int | None = field(repr=False)
    systolic: int | None = field(repr=False)
    mean: int | None = field(repr=False)
    diastolic: int | None = field(repr=False)
    status0: int | None
    status1: int | None
    status2: int | None
    minutes_since_nibp: int | None

    @property
    def status_names(self) -> tuple[str, ...]:
        return (
            _names(self.status0, STATUS0_BITS)
            + _names(self.status1, STATUS1_BITS)
            + _names(self.status2, STATUS2_BITS)
        )

    @property
    def device_errors(self) -> tuple[str, ...]:
        return tuple(n for n in self.status_names if n in DEVICE_ERROR_FLAGS)

    @property
    def pressures(self) -> tuple[int | None, int | None, int | None]:
        return (self.systolic, self.diastolic, self.mean)

    def __bytes__(self) -> bytes:
        values = [getattr(self, f.name) for f in fields(self)]
        return b"P:" + b",".join(_field(v) for v in values) + b"\r\n"


@dataclass(frozen=True, slots=True)
class AlarmLimits:
    spo2_low: int | None
    spo2_high: int | None
    pulse_low: int | None
    pulse_high: int | None
    systolic_low: int | None
    systolic_high: int | None
    diastolic_low: int | None
    diastolic_high: int | None

    def __bytes__(self) -> bytes:
        values = [getattr(self, f.name) for f in fields(self)]
        return b"L:" + b",".join(_field(v) for v in values) + b"\r\n"


@dataclass(frozen=True, slots=True)
class GarbageSkipped:
    """Bytes dropped from the stream: how many and why (never the bytes themselves)."""

    length: int
    reason: AccutorrReason


class NeedData(enum.Enum):
    NEED_DATA = "need-data"


NEED_DATA = NeedData.NEED_DATA
Event = Prompt | PatientRecord | AlarmLimits | GarbageSkipped

_PATIENT_FIELDS = (
    "SpO2",
    "pulse rate",
    "systolic",
    "mean",
    "diastolic",
    "status byte 0",
    "status byte 1",
    "status byte 2",
    "minutes since the last NIBP",
)
_LIMIT_FIELDS = (
    "SpO2 low",
    "SpO2 high",
    "pulse low",
    "pulse high",
    "systolic low",
    "systolic high",
    "diastolic low",
    "diastolic high",
)


def _parse_field(raw: bytes, name: str, limit: int) -> int | None:
    text = raw.strip(b" ")
    if text and len(text) <= 3 and text == b"-" * len(text):
        return None
    if not (1 <= len(text) <= 3 and text.isdigit()):
        raise AccutorrError(
            AccutorrReason.BAD_FIELD,
            f"The {name} field ({len(raw)} byte(s)) is neither 1 to 3 digits nor '--'.",
        )
    value = int(text)
    if value > limit:
        raise AccutorrError(
            AccutorrReason.BAD_FIELD, f"The {name} field is above its maximum of {limit}."
        )
    return value


def parse_record(line: bytes) -> PatientRecord | AlarmLimits:
    """One `P:` or `L:` record, with its <CR><LF>."""
    line = bytes(line)
    if not line.startswith((b"P:", b"L:")):
        raise AccutorrError(
            AccutorrReason.NOT_A_RECORD,
            f"A record starts with 'P:' or 'L:'; these {len(line)} byte(s) do not.",
        )
    if not line.endswith(b"\r\n"):
        raise AccutorrError(AccutorrReason.NO_TERMINATOR, "The record does not end with <CR><LF>.")
    parts = line[2:-2].split(b",")
    names = _PATIENT_FIELDS if line[:1] == b"P" else _LIMIT_FIELDS
    kind = "patient" if line[:1] == b"P" else "alarm-limits"
    if len(parts) != len(names):
        raise AccutorrError(
            AccutorrReason.FIELD_COUNT,
            f"A {kind} record has {len(names)} fields; this one has {len(parts)}.",
        )
    values = [
        _parse_field(raw, name, 255 if name.startswith("status") else 999)
        for raw, name in zip(parts, names, strict=True)
    ]
    if kind == "patient":
        return PatientRecord(*values)
    return AlarmLimits(*values)


_MARKERS = (b"P:", b"L:", b">")


def _first_marker(buf: bytes | bytearray, start: int) -> int:
    hits = [i for i in (buf.find(m, start) for m in _MARKERS) if i >= 0]
    return min(hits) if hits else -1


class AccutorrFramer:
    """Host-side stream state: bytes in with `receive_data`, events out with `next_event`."""

    def __init__(self) -> None:
        self._buf = bytearray()

    @staticmethod
    def send(command: Command) -> bytes:
        return bytes(command)

    @property
    def buffered(self) -> int:
        return len(self._buf)

    def receive_data(self, data: bytes) -> None:
        self._buf += data

    def _skip(self, length: int, reason: AccutorrReason) -> GarbageSkipped:
        del self._buf[:length]
        return GarbageSkipped(length, reason)

    def next_event(self) -> Event | NeedData:
        buf = self._buf
        if not buf:
            return NEED_DATA
        start = _first_marker(buf, 0)
        if start < 0:
            # Keep a trailing 'P' or 'L': its ':' may be in the next read.
            keep = 1 if bytes(buf[-1:]) in (b"P", b"L") else 0
            if len(buf) - keep == 0:
                return NEED_DATA
            return self._skip(len(buf) - keep, AccutorrReason.NOISE)
        if start > 0:
            return self._skip(start, AccutorrReason.NOISE)
        if buf[:1] == b">":
            del buf[:1]
            return Prompt()
        end = buf.find(b"\n")
        following = _first_marker(buf, 2)
        if following >= 0 and (end < 0 or following < end):
            return self._skip(following, AccutorrReason.CUT_RECORD)
        if end < 0:
            if len(buf) > MAX_RECORD:
                return self._skip(len(buf), AccutorrReason.TOO_LONG)
            return NEED_DATA
        line = bytes(buf[: end + 1])
        try:
            record = parse_record(line)
        except AccutorrError as exc:
            return self._skip(len(line), exc.reason)
        del buf[: end + 1]
        return record
