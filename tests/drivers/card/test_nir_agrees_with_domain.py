"""The card driver's NIR check and the identity domain's parser agree on validity.

Why: drivers may not import app/, so the driver keeps its own check; if it
were looser (département 00, order 000...), a card would be read as fine and
then refused by the domain halfway through a session.
"""

from __future__ import annotations

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from app.domain.nir import InvalidNir, parse_nir
from vocabulary.nir import is_valid_nir

_CHARS = "0123456789AB"


def _domain_accepts(text: str) -> bool:
    try:
        parse_nir(text)
    except InvalidNir:
        return False
    return True


def _key(first13: str) -> str | None:
    digits = first13[:5] + {"2A": "19", "2B": "18"}.get(first13[5:7], first13[5:7]) + first13[7:]
    if not (digits.isascii() and digits.isdigit()):
        return None
    return f"{97 - int(digits) % 97:02d}"


@st.composite
def _near_nirs(draw: st.DrawFn) -> str:
    """15 characters, often with the right key, so that both outcomes are common."""
    parts = [
        draw(st.sampled_from("0123456789")),  # sex: 1, 2, 7, 8 valid
        draw(st.text(_CHARS, min_size=2, max_size=2)),  # year
        f"{draw(st.integers(0, 99)):02d}",  # month: every range edge
        draw(st.sampled_from(["00", "01", "19", "20", "2A", "2B", "2C", "97", "98", "99", "A1"])),
        draw(st.text(_CHARS, min_size=3, max_size=3)),  # commune (overseas: 1 + 2)
        draw(
            st.sampled_from(["000", "001", "999", "0A0"]) | st.text(_CHARS, min_size=3, max_size=3)
        ),
    ]
    first13 = "".join(parts)
    key = _key(first13)
    if key is not None and draw(st.booleans()):
        return first13 + key
    return first13 + draw(st.text(_CHARS, min_size=2, max_size=2))


@example("184050012300081")  # département 00: the reviewer's case
@example("184057612300066")  # order 000
@example("184052A12300152")
@given(_near_nirs())
def test_driver_and_domain_agree_on_near_nirs(text: str) -> None:
    assert is_valid_nir(text) == _domain_accepts(text)


_COMPACT_UPPER = st.characters(exclude_categories=("Ll", "Lt", "Zs", "Zl", "Zp", "Cc", "Cs"))


@given(st.text(_COMPACT_UPPER | st.sampled_from(_CHARS), min_size=15, max_size=15))
def test_driver_and_domain_agree_on_any_compact_text(text: str) -> None:
    # The domain also accepts spaces and lower-case 2a/2b (typed input); the
    # driver reads cards, so the comparison is on text the domain would not change.
    assume(text == "".join(text.split()).upper())
    assert is_valid_nir(text) == _domain_accepts(text)


@pytest.mark.parametrize(
    "text",
    ["184050012300081", "184057612300066"],
)
def test_departement_00_and_order_000_are_refused_by_the_driver(text: str) -> None:
    assert _key(text[:13]) == text[13:]  # the key matches: only the part is wrong
    assert not is_valid_nir(text)
