"""IEEE-11073 SFLOAT/FLOAT: spec-built fixtures, exact values and messages, round trip, fuzzing."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.ieee11073 import (
    Ieee11073Error,
    Ieee11073Reason,
    SpecialValue,
    decode_float,
    decode_sfloat,
    encode_float,
    encode_sfloat,
)

SFLOAT_CASES = [
    ("6200", "98"),  # exponent 0, mantissa 98
    ("6df1", "36.5"),  # 0xF16D: exponent -1, mantissa 365
    ("e7ff", "-2.5"),  # 0xFFE7: exponent -1, mantissa 0xFE7 = -25 (12-bit sign)
    ("0000", "0"),
    ("fd07", "2045"),  # largest ordinary mantissa
    ("0308", "-2045"),  # smallest ordinary mantissa
    ("0120", "1E+2"),  # 0x2001: exponent 2, mantissa 1
]
FLOAT_CASES = [
    ("6d0100ff", "36.5"),  # mantissa 365, exponent -1
    ("8d0e00fe", "37.25"),  # mantissa 3725, exponent -2: two decimals kept
    ("f1ffffff", "-1.5"),  # mantissa 0xFFFFF1 = -15 once sign-extended from 24 bits
    ("da0300ff", "98.6"),
    ("01000002", "1E+2"),
]


@pytest.mark.parametrize(("hexbytes", "expected"), SFLOAT_CASES)
def test_sfloat_decodes_spec_fixtures_and_keeps_the_exponent(hexbytes: str, expected: str) -> None:
    value = decode_sfloat(bytes.fromhex(hexbytes))
    assert value == Decimal(expected)
    assert str(value) == expected  # precision kept: 36.5 not 36.50 nor 36.499…
    assert encode_sfloat(value) == bytes.fromhex(hexbytes)


@pytest.mark.parametrize(("hexbytes", "expected"), FLOAT_CASES)
def test_float_decodes_spec_fixtures_with_sign_extension(hexbytes: str, expected: str) -> None:
    value = decode_float(bytes.fromhex(hexbytes))
    assert str(value) == expected
    assert encode_float(value) == bytes.fromhex(hexbytes)


@pytest.mark.parametrize(
    ("hexbytes", "special"),
    [
        ("ff07", SpecialValue.NAN),
        ("0008", SpecialValue.NRES),
        ("fe07", SpecialValue.PLUS_INFINITY),
        ("0208", SpecialValue.MINUS_INFINITY),
        ("0108", SpecialValue.RESERVED),
        ("fff7", SpecialValue.NAN),  # a special mantissa under another exponent is no number either
    ],
)
def test_sfloat_special_values_are_no_valid_reading(hexbytes: str, special: SpecialValue) -> None:
    with pytest.raises(Ieee11073Error) as info:
        decode_sfloat(bytes.fromhex(hexbytes))
    assert info.value.reason is Ieee11073Reason.SPECIAL_VALUE
    assert info.value.special is special
    assert str(info.value) == (
        f"The device sent the SFLOAT special value {special.value}: there is no valid reading."
    )


@pytest.mark.parametrize(
    ("hexbytes", "special"),
    [
        ("ffff7f00", SpecialValue.NAN),
        ("00008000", SpecialValue.NRES),
        ("feff7f00", SpecialValue.PLUS_INFINITY),
        ("02008000", SpecialValue.MINUS_INFINITY),
        ("01008000", SpecialValue.RESERVED),
    ],
)
def test_float_special_values_round_trip(hexbytes: str, special: SpecialValue) -> None:
    with pytest.raises(Ieee11073Error) as info:
        decode_float(bytes.fromhex(hexbytes))
    assert info.value.special is special
    assert encode_float(special) == bytes.fromhex(hexbytes)


def test_truncated_input_names_sizes() -> None:
    with pytest.raises(Ieee11073Error) as info:
        decode_float(b"\x01\x02\x03")
    assert info.value.reason is Ieee11073Reason.TRUNCATED
    assert info.value.message == "An IEEE-11073 FLOAT needs 4 bytes but only 3 were given."


def test_encoder_refuses_what_it_cannot_represent() -> None:
    with pytest.raises(Ieee11073Error) as info:
        encode_sfloat(Decimal("36.55555"))
    assert info.value.reason is Ieee11073Reason.NOT_REPRESENTABLE
    assert info.value.message == (
        "The value 36.55555 does not fit an IEEE-11073 SFLOAT without losing precision."
    )
    with pytest.raises(Ieee11073Error):
        encode_float(Decimal("NaN"))


def test_encoder_normalises_trailing_zeros_without_losing_digits() -> None:
    assert decode_sfloat(encode_sfloat(Decimal("300000"))) == Decimal(300000)
    assert encode_sfloat(Decimal("300000")) == bytes.fromhex("2c31")  # 300 x 10^3


@settings(max_examples=500, print_blob=True)
@given(st.binary(min_size=0, max_size=6))
def test_fuzz_decoders_raise_only_their_typed_error(data: bytes) -> None:
    for decode, encode in ((decode_sfloat, encode_sfloat), (decode_float, encode_float)):
        try:
            value = decode(data)
        except Ieee11073Error:
            continue
        assert decode(encode(value)) == value


@settings(max_examples=300, print_blob=True)
@given(st.integers(-2045, 2045), st.integers(-8, 7))
def test_sfloat_round_trip_every_ordinary_value(mantissa: int, exponent: int) -> None:
    value = Decimal(mantissa).scaleb(exponent)
    assert decode_sfloat(encode_sfloat(value)) == value
