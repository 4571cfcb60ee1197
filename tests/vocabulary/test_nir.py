"""The one NIR check: part by part, and as strict as the shape the card driver had.

Before the check moved here, the card driver held a regular expression and
the identity domain a part-by-part parser (they agreed, a test said so). The
regular expression is kept below as the reference: the check must accept
exactly what it accepted.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from vocabulary.nir import NirErrorReason, is_valid_nir, nir_key, nir_problem, with_key

_REFERENCE = re.compile(
    r"[1278]\d{2}(?:0[1-9]|1[0-2]|[2-3]\d|4[0-2]|[5-9]\d)"
    r"(?:(?!00)\d{2}|2[AB])\d{3}(?!000)\d{3}\d{2}"
)


def _reference_valid(value: str) -> bool:
    if len(value) != 15 or not value.isascii() or _REFERENCE.fullmatch(value) is None:
        return False
    digits = value[:5] + {"2A": "19", "2B": "18"}.get(value[5:7], value[5:7]) + value[7:13]
    return 97 - int(digits) % 97 == int(value[13:])


_CHARS = "0123456789AB"


@st.composite
def _near_nirs(draw: st.DrawFn) -> str:
    first13 = "".join(
        (
            draw(st.sampled_from("0123456789")),
            draw(st.text(_CHARS, min_size=2, max_size=2)),
            f"{draw(st.integers(0, 99)):02d}",
            draw(st.sampled_from(["00", "01", "2A", "2B", "2C", "97", "98", "A1"])),
            draw(st.text(_CHARS, min_size=3, max_size=3)),
            draw(st.sampled_from(["000", "001", "0A0"]) | st.text(_CHARS, min_size=3, max_size=3)),
        )
    )
    try:
        key = f"{nir_key(first13):02d}"
    except ValueError:
        key = draw(st.text(_CHARS, min_size=2, max_size=2))
    return first13 + (key if draw(st.booleans()) else draw(st.text(_CHARS, min_size=2, max_size=2)))


@example("184050012300081")  # département 00, key right
@example("184057612300066")  # order 000, key right
@example("184052A12300152")
@given(_near_nirs() | st.text(min_size=0, max_size=17))
def test_the_check_accepts_exactly_what_the_drivers_shape_did(text: str) -> None:
    assert is_valid_nir(text) == _reference_valid(text)
    assert (nir_problem(text) is None) == is_valid_nir(text)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("18405761230001", NirErrorReason.LENGTH),
        ("384057612345678", NirErrorReason.SEX),
        ("1A4057612345678", NirErrorReason.YEAR),
        ("184137612345678", NirErrorReason.MONTH),
        ("1844A7612345678", NirErrorReason.MONTH),
        ("184050012345678", NirErrorReason.DEPARTMENT),
        ("18405977A345678", NirErrorReason.COMMUNE),
        ("1840597A2345678", NirErrorReason.DEPARTMENT),  # overseas: the third is the département's
        ("1840576A2345678", NirErrorReason.COMMUNE),
        ("184057612300078", NirErrorReason.ORDER),
        ("1840576123A5678", NirErrorReason.ORDER),
        ("1840576123456A8", NirErrorReason.KEY_FORMAT),
        (with_key("1840576123456")[:13] + "00", NirErrorReason.KEY_MISMATCH),
    ],
)
def test_the_wrong_part_is_named(text: str, reason: NirErrorReason) -> None:
    assert nir_problem(text) is reason


def test_corsica_counts_as_19_and_18_for_the_key() -> None:
    assert nir_key("184052A123001") == nir_key("1840519123001")
    assert nir_key("184052B123001") == nir_key("1840518123001")
    assert is_valid_nir(with_key("184052B123001"))


@pytest.mark.parametrize(
    "first13", ["123", "12345678901234", "1480375X56123", "１４８０３７５０５６１２３"]
)
def test_the_key_needs_13_ascii_digits(first13: str) -> None:
    with pytest.raises(ValueError):
        nir_key(first13)


@given(st.text(min_size=13, max_size=13))
def test_the_key_is_a_key_or_a_value_error(first13: str) -> None:
    try:
        key = nir_key(first13)
    except ValueError:
        return
    assert 1 <= key <= 97
