"""Numbers as each language writes them: a French patient reads 37,2 °C, never 37.2."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.ui.i18n import Catalogues, Msg, format_number, format_quantity, parse_number


@pytest.mark.parametrize(
    ("lang", "temperature", "pressure", "big"),
    [
        ("fr", "37,2\u00a0°C", "120\u00a0mm\u00a0Hg", "1\u202f234,5"),
        ("en", "37.2\u00a0°C", "120\u00a0mm\u00a0Hg", "1,234.5"),
        ("ar", "37.2\u00a0°C", "120\u00a0mm\u00a0Hg", "1,234.5"),
    ],
)
def test_measurements_are_written_in_the_language(
    lang: str, temperature: str, pressure: str, big: str
) -> None:
    assert format_quantity(Decimal("37.2"), "Cel", lang) == temperature
    assert format_quantity(Decimal(120), "mm[Hg]", lang) == pressure
    assert format_number(Decimal("1234.5"), lang) == big


def test_a_decimal_keeps_the_precision_it_was_read_with() -> None:
    assert format_number(Decimal("37.20"), "fr") == "37,20"
    assert format_number(Decimal("98"), "fr") == "98"
    assert format_number(36.666, "fr") == "36,67"  # a float: at most two decimals
    assert format_number(Decimal("36.66"), "fr", decimals=1) == "36,7"
    assert format_number(Decimal("NaN"), "fr") == "NaN"
    assert format_number(Decimal("37.2"), "xx-not-a-language") == "37,2"  # French as fallback


def test_catalogue_parameters_that_are_numbers_are_formatted(catalogues: Catalogues) -> None:
    assert catalogues.text("fr", "common.step", index=Decimal("2.5"), total=8) == "Étape 2,5 sur 8"
    assert catalogues.text("en", Msg("no.such", "{v}"), v=37.25) == "37.25"


@pytest.mark.parametrize(
    ("typed", "value"),
    [
        ("37,2", "37.2"),
        ("37.2", "37.2"),
        ("٣٧٫٢", "37.2"),
        ("１２０", "120"),
        (" 98 ", "98"),
        ("−3,5", "-3.5"),
    ],
)
def test_typed_numbers_are_read_whatever_the_script(typed: str, value: str) -> None:
    assert parse_number(typed) == Decimal(value)


@pytest.mark.parametrize("typed", ["", "abc", "1.2.3", "-", "3-", "1e5", "37,2 °C"])
def test_what_is_not_a_number_is_none(typed: str) -> None:
    assert parse_number(typed) is None


@given(
    st.decimals(min_value=-1000, max_value=1000, places=2, allow_nan=False),
    st.sampled_from(["fr", "en", "ar"]),
)
def test_a_formatted_number_reads_back(value: Decimal, lang: str) -> None:
    if abs(value) >= 1000:  # thousands separators are not typed back
        return
    assert parse_number(format_number(value, lang)) == value
