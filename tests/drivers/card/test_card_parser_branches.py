"""Card byte parsers at their edges: tags, lengths, status words, NIR keys, validity dates."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers.card import tlv
from drivers.card.apdu import ResponseApdu, select_file
from drivers.card.decode import decode_response
from drivers.card.errors import CardErrorReason, CardProtocolError
from drivers.card.tlv import Tlv
from drivers.card.vitale import (
    CardValidity,
    encode_validity,
    parse_beneficiaries,
    parse_validity,
)
from vocabulary.nir import is_valid_nir, nir_key


def reason_of(call: object, *args: object) -> CardErrorReason:
    assert callable(call)
    with pytest.raises(CardProtocolError) as caught:
        call(*args)
    return caught.value.reason


@pytest.mark.parametrize("tag", [0, -1])
def test_a_tag_is_a_positive_number(tag: int) -> None:
    assert reason_of(tlv.tag_bytes, tag) is CardErrorReason.MALFORMED
    assert reason_of(Tlv, tag) is CardErrorReason.MALFORMED


@pytest.mark.parametrize(
    "tag",
    [
        0x0150,  # first byte does not announce more bytes, yet two are given
        0x9F81,  # the last byte of a tag still says "more follows"
        0x9F0101,  # a middle byte says "last" before the end
    ],
)
def test_malformed_multi_byte_tags_are_refused(tag: int) -> None:
    assert reason_of(Tlv, tag) is CardErrorReason.MALFORMED


@given(st.integers(min_value=1, max_value=0xFFFFFF))
def test_any_tag_is_either_refused_or_round_trips(tag: int) -> None:
    try:
        obj = Tlv(tag)
    except CardProtocolError as exc:
        assert exc.reason is CardErrorReason.MALFORMED
    else:
        assert tlv.parse(bytes(obj)) == (obj,)


@pytest.mark.parametrize("length", [-1, 0x1_0000_0000])
def test_lengths_outside_ber_are_refused(length: int) -> None:
    assert reason_of(tlv.encode_length, length) is CardErrorReason.MALFORMED


def test_status_words_and_file_ids_are_two_bytes() -> None:
    assert reason_of(ResponseApdu, b"", 0x1_0000) is CardErrorReason.MALFORMED
    assert reason_of(ResponseApdu, b"", -1) is CardErrorReason.MALFORMED
    assert reason_of(select_file, 0x1_0000) is CardErrorReason.MALFORMED
    assert reason_of(select_file, -1) is CardErrorReason.MALFORMED
    assert bytes(select_file(0xFFFF))[-2:] == b"\xff\xff"


def test_a_response_carries_at_most_65536_data_bytes() -> None:
    assert len(ResponseApdu.parse(bytes(65536) + b"\x90\x00").data) == 65536
    assert reason_of(ResponseApdu.parse, bytes(65537) + b"\x90\x00") is CardErrorReason.MALFORMED


def test_decode_shows_an_unknown_binary_object_as_hex_only() -> None:
    decoded = decode_response(bytes.fromhex("C101FF9000"))
    assert decoded["tlv"] == [{"tag": "C1", "length": 1, "value_hex": "FF"}]


@pytest.mark.parametrize(
    "first13", ["123", "12345678901234", "1480375X56123", "１４８０３７５０５６１２３"]
)
def test_the_nir_key_needs_13_ascii_digits(first13: str) -> None:
    with pytest.raises(ValueError):
        nir_key(first13)


@given(st.text(min_size=13, max_size=13))
def test_the_nir_key_is_a_key_or_a_value_error(first13: str) -> None:
    try:
        key = nir_key(first13)
    except ValueError:
        return
    assert 1 <= key <= 97


def beneficiary(nir: bytes) -> bytes:
    return bytes(
        Tlv(
            0x65,
            children=(
                Tlv(0x80, b"DUPONT"),
                Tlv(0x81, b"JEAN"),
                Tlv(0x82, b"19480312"),
                Tlv(0x93, nir),
            ),
        )
    )


def test_a_13_character_nir_gets_its_key_only_when_it_is_digits() -> None:
    (person,) = parse_beneficiaries(beneficiary(b"1480375056123"))
    assert person.nir == "1480375056123" + f"{nir_key('1480375056123'):02d}"
    assert is_valid_nir(person.nir)
    assert (
        reason_of(parse_beneficiaries, beneficiary(b"1480375X56123")) is CardErrorReason.BAD_FIELD
    )


@pytest.mark.parametrize(
    "raw", [b"2025", b"202501011", b"2025AB01", b"20251301", "2025０１01".encode()]
)
def test_a_validity_date_is_eight_digits_of_a_real_day(raw: bytes) -> None:
    data = bytes(Tlv(0x66, children=(Tlv(0x80, raw),)))
    assert reason_of(parse_validity, data) is CardErrorReason.BAD_FIELD


# Every year, 1 to 9999: encode_validity pads to four digits (strftime's %Y did not below
# 1000, and year 999 gave 7 bytes that parse_validity rightly refused).
CARD_DATES = st.one_of(st.none(), st.dates())


@given(CARD_DATES, CARD_DATES)
def test_validity_dates_round_trip_each_one_optional(
    valid_from: dt.date | None, valid_until: dt.date | None
) -> None:
    validity = CardValidity(valid_from=valid_from, valid_until=valid_until)
    assert parse_validity(bytes(encode_validity(validity))) == validity
