"""Vitale 2 content (public facts + our conventions), the NIR check, the technician decoder."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum.fr import nir as stdnum_nir

from drivers.card import tlv
from drivers.card.decode import decode_response, parse_hex
from drivers.card.errors import CardErrorReason, CardProtocolError
from drivers.card.vitale import (
    CardValidity,
    encode_beneficiary,
    encode_validity,
    parse_beneficiaries,
    parse_validity,
)
from drivers.events import Beneficiary
from vocabulary.nir import is_valid_nir, nir_key, with_key

# One beneficiary, built by hand from the public layout:
# 65 { 80 "DUPONT", 81 "JEAN", 82 "19700101", 93 "170017511300144" }
ONE = bytes.fromhex(
    "6529"
    "8006" + b"DUPONT".hex() + "8104" + b"JEAN".hex() + "8208" + b"19700101".hex() + "930F"
    "" + b"170017511300144".hex()
)
# 66 { 80 "20190101", DF10 "20991231" }
CARD = bytes.fromhex("66158008" + b"20190101".hex() + "DF1008" + b"20991231".hex())


def test_spec_built_beneficiary_bytes() -> None:
    assert len(ONE) == 43
    assert parse_beneficiaries(ONE + b"\xff" * 20) == (
        Beneficiary("DUPONT", "JEAN", "1970-01-01", "170017511300144", rank=1),
    )


def test_beneficiary_repr_hides_the_identity() -> None:
    (person,) = parse_beneficiaries(ONE)
    assert repr(person) == "Beneficiary(rank=1)"


def test_several_groups_are_ranked_in_order() -> None:
    second = ONE.replace(b"JEAN", b"LUCE")
    people = parse_beneficiaries(ONE + second)
    assert [(p.rank, p.first_name) for p in people] == [(1, "JEAN"), (2, "LUCE")]


def test_validity_with_and_without_the_simulator_end_date() -> None:
    assert parse_validity(CARD) == CardValidity(dt.date(2019, 1, 1), dt.date(2099, 12, 31))
    assert parse_validity(bytes.fromhex("660A8008") + b"20190101") == CardValidity(
        dt.date(2019, 1, 1), None
    )
    assert bytes(encode_validity(parse_validity(CARD))) == CARD


def test_encode_beneficiary_round_trips() -> None:
    person = Beneficiary("DUPONT", "JEAN", "1970-01-01", "170017511300144", rank=1)
    assert bytes(encode_beneficiary(person)) == ONE


@pytest.mark.parametrize(
    ("raw", "iso"),
    [
        (b"19700101", "1970-01-01"),
        (b"19700100", "1970-01"),
        (b"19700000", "1970"),
        (b"19750231", "1975-02-31"),
    ],  # fmt: skip
)
def test_partial_and_lunar_birth_dates_are_kept_as_on_the_card(raw: bytes, iso: str) -> None:
    (person,) = parse_beneficiaries(ONE.replace(b"19700101", raw))
    assert person.birth_date == iso


def test_a_13_character_nir_gets_its_key() -> None:
    group = tlv.Tlv(
        0x65,
        children=(
            tlv.Tlv(0x80, b"DUPONT"),
            tlv.Tlv(0x81, b"JEAN"),
            tlv.Tlv(0x82, b"19700101"),
            tlv.Tlv(0x93, b"1700175113001"),
        ),
    )
    assert parse_beneficiaries(bytes(group))[0].nir == "170017511300144"


def _without(tag: int) -> bytes:
    (group,) = tlv.parse(ONE)
    return bytes(tlv.Tlv(0x65, children=tuple(c for c in group.children if c.tag != tag)))


@pytest.mark.parametrize(
    ("data", "reason", "message"),
    [
        (CARD, CardErrorReason.MISSING_FIELD, "The card holds no beneficiary (no tag 65)."),
        (
            _without(0x80),
            CardErrorReason.MISSING_FIELD,
            "Beneficiary 1 on the card has no surname (tag 80 under 65).",
        ),
        (
            _without(0x93),
            CardErrorReason.MISSING_FIELD,
            "Beneficiary 1 on the card has no NIR (tag 93 under 65).",
        ),
        (
            ONE.replace(b"19700101", b"1970AB01"),
            CardErrorReason.BAD_FIELD,
            "The date of birth of beneficiary 1 is not 8 ASCII digits (8 bytes).",
        ),
        (
            ONE.replace(b"19700101", b"19701301"),
            CardErrorReason.BAD_FIELD,
            "The date of birth of beneficiary 1 is out of range.",
        ),
        (
            ONE.replace(b"170017511300144", b"170017511300145"),
            CardErrorReason.BAD_FIELD,
            "The NIR of beneficiary 1 is malformed or its key does not match (15 bytes).",
        ),
        (
            ONE.replace(b"DUPONT", b"DU\x07ONT"),
            CardErrorReason.BAD_FIELD,
            "The surname of beneficiary 1 is empty, too long or not printable (6 bytes).",
        ),
    ],
)
def test_bad_beneficiaries_raise_exact_errors(
    data: bytes, reason: CardErrorReason, message: str
) -> None:
    with pytest.raises(CardProtocolError) as caught:
        parse_beneficiaries(data)
    assert (caught.value.reason, caught.value.message) == (reason, message)


def test_bad_validity_raises_exact_errors() -> None:
    with pytest.raises(CardProtocolError) as caught:
        parse_validity(ONE)
    assert caught.value.message == "The card holds no card data object (no tag 66)."
    with pytest.raises(CardProtocolError) as caught:
        parse_validity(CARD.replace(b"20991231", b"20991232"))
    assert caught.value.message == (
        "The card's end of validity is not a date in YYYYMMDD form (8 bytes)."
    )


@given(st.binary(max_size=400))
def test_content_parsers_only_raise_the_typed_error(data: bytes) -> None:
    for parser in (parse_beneficiaries, parse_validity):
        try:
            parser(data)
        except CardProtocolError as exc:
            assert exc.message.endswith(").") or exc.message.endswith(".")


@given(st.binary(max_size=60).map(lambda b: bytes.fromhex("6500")[:1] + bytes([len(b)]) + b))
def test_fuzzed_groups_only_raise_the_typed_error(data: bytes) -> None:
    try:
        parse_beneficiaries(data)
    except CardProtocolError:
        pass


# --- NIR ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first13", "key"),
    [("1700175113001", 44), ("179112A004012", 72), ("115092B033042", 72), ("2900597411123", 92)],
)
def test_nir_keys_including_corsica_and_overseas(first13: str, key: int) -> None:
    assert nir_key(first13) == key
    assert is_valid_nir(f"{first13}{key:02d}")
    assert stdnum_nir.is_valid(f"{first13}{key:02d}")


def test_nir_shape_is_checked() -> None:
    assert not is_valid_nir("370017511300142")  # sex 3 does not exist
    assert not is_valid_nir("17001751130014")  # 14 characters
    assert not is_valid_nir("170137511300142")  # month 13
    assert not is_valid_nir("17001751130014２")  # non-ASCII digit


nir13 = st.builds(
    lambda sex, yy, mm, dep, commune, order: f"{sex}{yy:02d}{mm:02d}{dep}{commune:03d}{order:03d}",
    st.sampled_from("1278"),
    st.integers(0, 99),
    st.integers(1, 12),
    st.sampled_from(["75", "69", "2A", "2B", "97"]),
    st.integers(0, 999),
    st.integers(1, 999),  # order 000 does not exist
)


@given(nir13)
def test_nir_key_agrees_with_python_stdnum(first13: str) -> None:
    assert is_valid_nir(with_key(first13))
    assert stdnum_nir.is_valid(with_key(first13))
    assert stdnum_nir.calc_check_digits(first13) == with_key(first13)[13:]


# --- technician decoder -----------------------------------------------------------


def test_decode_hides_identity_values_and_explains_the_status_word() -> None:
    result = decode_response(ONE + CARD + b"\x90\x00")
    assert json.loads(json.dumps(result)) == result
    assert result == {
        "kind": "card",
        "status_word": "9000",
        "meaning": "Success.",
        "category": "success",
        "data_length": 66,
        "tlv": [
            {
                "tag": "65",
                "length": 41,
                "label": "beneficiary",
                "children": [
                    {"tag": "80", "length": 6, "label": "surname", "value": "<hidden: 6 bytes>"},
                    {"tag": "81", "length": 4, "label": "first name", "value": "<hidden: 4 bytes>"},
                    {
                        "tag": "82",
                        "length": 8,
                        "label": "date of birth",
                        "value": "<hidden: 8 bytes>",
                    },  # fmt: skip
                    {"tag": "93", "length": 15, "label": "NIR", "value": "<hidden: 15 bytes>"},
                ],
            },
            {
                "tag": "66",
                "length": 21,
                "label": "card data",
                "children": [
                    {
                        "tag": "80",
                        "length": 8,
                        "label": "start of validity",
                        "value_hex": "3230313930313031",
                        "value_ascii": "20190101",
                    },  # fmt: skip
                    {
                        "tag": "DF10",
                        "length": 8,
                        "label": "end of validity (simulator convention)",
                        "value_hex": "3230393931323331",
                        "value_ascii": "20991231",
                    },  # fmt: skip
                ],
            },
        ],
    }


def test_decode_reveals_on_request_and_handles_bare_status_words() -> None:
    revealed = decode_response(ONE + b"\x90\x00", reveal=True)
    assert revealed["tlv"][0]["children"][0]["value_ascii"] == "DUPONT"
    assert decode_response(bytes.fromhex("6982")) == {
        "kind": "card",
        "status_word": "6982",
        "meaning": "Security status not satisfied.",
        "category": "error",
        "data_length": 0,
        "tlv": [],
    }


def test_decode_errors_and_hex_input() -> None:
    assert parse_hex(["90", "00"]) == b"\x90\x00"
    assert parse_hex("0x6F:02 84:00 90 00") == bytes.fromhex("6F0284009000")
    with pytest.raises(
        CardProtocolError, match=r"^The hex text has an odd number of digits \(3\)\.$"
    ):
        parse_hex("900")
    with pytest.raises(CardProtocolError, match=r"^The text is not hexadecimal bytes\.$"):
        parse_hex("zz")
    with pytest.raises(CardProtocolError) as caught:
        decode_response(bytes.fromhex("80059000"))
    assert caught.value.message == "Tag 80 announces 5 bytes of value but only 0 remain (byte 2)."
    with pytest.raises(CardProtocolError, match="at least the two status bytes"):
        decode_response(b"")
