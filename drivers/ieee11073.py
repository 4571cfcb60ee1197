"""IEEE 11073-20601 SFLOAT (16 bit) and FLOAT (32 bit), the numbers of every health GATT profile.

Why Decimal: the device tells its precision through the exponent (an exponent of
-1 means one decimal), and the doctor must see 36.5, not 36.499999. A Decimal
built from (mantissa, exponent) keeps that exponent, so `encode(decode(x)) == x`.

Why an error for the special values: NaN, NRes, +INF, -INF and the reserved
code mean "the device has no valid reading"; turning them into a float NaN
would let a wrong number travel. Callers get `Ieee11073Error` with a reason and
decide (the GATT parsers turn it into "no valid reading").
"""

from __future__ import annotations

import enum
from decimal import Decimal

__all__ = [
    "FLOAT_SPECIALS",
    "SFLOAT_SPECIALS",
    "Ieee11073Error",
    "Ieee11073Reason",
    "SpecialValue",
    "decode_float",
    "decode_sfloat",
    "encode_float",
    "encode_sfloat",
]


class SpecialValue(enum.StrEnum):
    NAN = "NaN"
    NRES = "NRes"
    PLUS_INFINITY = "+INF"
    MINUS_INFINITY = "-INF"
    RESERVED = "reserved"


class Ieee11073Reason(enum.StrEnum):
    SPECIAL_VALUE = "special-value"  # the device sent NaN / NRes / ±INF / reserved
    TRUNCATED = "truncated"  # fewer bytes than the type needs
    NOT_REPRESENTABLE = "not-representable"  # encoder: the value does not fit the type


# Special values are these mantissas (11073-20601 defines them at exponent 0). A
# mantissa in this set under another exponent is no reading either: no encoder
# produces it, and treating it as a number would let a garbage value through.
SFLOAT_SPECIALS: dict[int, SpecialValue] = {
    0x07FF: SpecialValue.NAN,
    0x0800: SpecialValue.NRES,
    0x07FE: SpecialValue.PLUS_INFINITY,
    0x0802: SpecialValue.MINUS_INFINITY,
    0x0801: SpecialValue.RESERVED,
}
FLOAT_SPECIALS: dict[int, SpecialValue] = {
    0x007FFFFF: SpecialValue.NAN,
    0x00800000: SpecialValue.NRES,
    0x007FFFFE: SpecialValue.PLUS_INFINITY,
    0x00800002: SpecialValue.MINUS_INFINITY,
    0x00800001: SpecialValue.RESERVED,
}
_SFLOAT_CODES = {v: k for k, v in SFLOAT_SPECIALS.items()}
_FLOAT_CODES = {v: k for k, v in FLOAT_SPECIALS.items()}


class Ieee11073Error(Exception):
    """A number that is not a valid reading, or bytes too short to hold one."""

    def __init__(
        self, reason: Ieee11073Reason, message: str, special: SpecialValue | None = None
    ) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.special = special


def _signed(value: int, bits: int) -> int:
    """Two's-complement sign extension of the low `bits` bits."""
    sign = 1 << (bits - 1)
    value &= (1 << bits) - 1
    return (value ^ sign) - sign


def _need(data: bytes, size: int, what: str) -> None:
    if len(data) < size:
        raise Ieee11073Error(
            Ieee11073Reason.TRUNCATED,
            f"An IEEE-11073 {what} needs {size} bytes but only {len(data)} were given.",
        )


def _special_error(special: SpecialValue, what: str) -> Ieee11073Error:
    return Ieee11073Error(
        Ieee11073Reason.SPECIAL_VALUE,
        f"The device sent the {what} special value {special.value}: there is no valid reading.",
        special,
    )


def decode_sfloat(data: bytes) -> Decimal:
    """The first two bytes (little-endian) as a Decimal with the device's exponent."""
    _need(data, 2, "SFLOAT")
    raw = int.from_bytes(data[:2], "little")
    mantissa_bits = raw & 0x0FFF
    if mantissa_bits in SFLOAT_SPECIALS:
        raise _special_error(SFLOAT_SPECIALS[mantissa_bits], "SFLOAT")
    mantissa = _signed(mantissa_bits, 12)
    exponent = _signed(raw >> 12, 4)
    return Decimal(mantissa).scaleb(exponent)


def decode_float(data: bytes) -> Decimal:
    """The first four bytes (little-endian) as a Decimal; the 24-bit mantissa is sign-extended."""
    _need(data, 4, "FLOAT")
    raw = int.from_bytes(data[:4], "little")
    mantissa_bits = raw & 0x00FFFFFF
    if mantissa_bits in FLOAT_SPECIALS:
        raise _special_error(FLOAT_SPECIALS[mantissa_bits], "FLOAT")
    mantissa = _signed(mantissa_bits, 24)
    exponent = _signed(raw >> 24, 8)
    return Decimal(mantissa).scaleb(exponent)


def _mantissa_exponent(value: Decimal) -> tuple[int, int]:
    sign, digits, exponent = value.as_tuple()
    if not isinstance(exponent, int):
        raise Ieee11073Error(
            Ieee11073Reason.NOT_REPRESENTABLE,
            "Only finite numbers can be encoded; use a SpecialValue for NaN or infinity.",
        )
    mantissa = int("".join(map(str, digits)) or "0")
    return (-mantissa if sign else mantissa), exponent


def _encode(
    value: Decimal | SpecialValue,
    *,
    mantissa_bits: int,
    exponent_bits: int,
    codes: dict[SpecialValue, int],
    what: str,
) -> bytes:
    size = (mantissa_bits + exponent_bits) // 8
    if isinstance(value, SpecialValue):
        return codes[value].to_bytes(size, "little")
    mantissa, exponent = _mantissa_exponent(value)
    m_max = (1 << (mantissa_bits - 1)) - 1
    # The top mantissas (and their negatives near the bottom) are the special codes.
    m_lo, m_hi = -(m_max - 2), m_max - 2
    e_lo, e_hi = -(1 << (exponent_bits - 1)), (1 << (exponent_bits - 1)) - 1
    # Normalise without losing digits: drop trailing zeros, or add them, to fit.
    while not m_lo <= mantissa <= m_hi and mantissa % 10 == 0 and exponent < e_hi:
        mantissa //= 10
        exponent += 1
    while exponent > e_hi and m_lo <= mantissa * 10 <= m_hi:
        mantissa *= 10
        exponent -= 1
    if not (m_lo <= mantissa <= m_hi and e_lo <= exponent <= e_hi):
        raise Ieee11073Error(
            Ieee11073Reason.NOT_REPRESENTABLE,
            f"The value {value} does not fit an IEEE-11073 {what} without losing precision.",
        )
    raw = ((exponent & ((1 << exponent_bits) - 1)) << mantissa_bits) | (
        mantissa & ((1 << mantissa_bits) - 1)
    )
    return raw.to_bytes(size, "little")


def encode_sfloat(value: Decimal | SpecialValue) -> bytes:
    """Two little-endian bytes; the Decimal's exponent is kept when it fits."""
    return _encode(value, mantissa_bits=12, exponent_bits=4, codes=_SFLOAT_CODES, what="SFLOAT")


def encode_float(value: Decimal | SpecialValue) -> bytes:
    """Four little-endian bytes; the Decimal's exponent is kept when it fits."""
    return _encode(value, mantissa_bits=24, exponent_bits=8, codes=_FLOAT_CODES, what="FLOAT")
