"""BER-TLV (ISO 7816-4 §5.2): spec-built bytes, exact errors, round trip, fuzzing."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.card import tlv
from drivers.card.errors import CardErrorReason, CardProtocolError
from drivers.card.tlv import Tlv


def test_primitive_single_byte_tag() -> None:
    assert tlv.parse(bytes.fromhex("8003414243")) == (Tlv(0x80, b"ABC"),)


def test_two_and_three_byte_tags() -> None:
    data = bytes.fromhex("9F0102AABBDF100832303230313233315F810101FF")
    assert tlv.parse(data) == (
        Tlv(0x9F01, bytes.fromhex("AABB")),
        Tlv(0xDF10, b"20201231"),
        Tlv(0x5F8101, b"\xff"),
    )


def test_long_form_lengths() -> None:
    value = bytes(range(200))
    assert tlv.parse(bytes.fromhex("8081C8") + value) == (Tlv(0x80, value),)
    big = b"\x41" * 300
    assert tlv.parse(bytes.fromhex("8082012C") + big) == (Tlv(0x80, big),)
    assert bytes(Tlv(0x80, big))[:4] == bytes.fromhex("8082012C")
    assert bytes(Tlv(0x80, value))[:3] == bytes.fromhex("8081C8")


def test_nested_constructed_tags_and_helpers() -> None:
    data = bytes.fromhex("650A800341424393033132336603800130")
    first, second = tlv.parse(data)
    assert first == Tlv(0x65, children=(Tlv(0x80, b"ABC"), Tlv(0x93, b"123")))
    assert second == Tlv(0x66, children=(Tlv(0x80, b"0"),))
    assert first.first(0x93) == Tlv(0x93, b"123")
    assert first.first(0x81) is None
    assert first.all(0x80) == (Tlv(0x80, b"ABC"),)
    assert [path for path, _ in tlv.walk((first, second))] == [
        (0x65,),
        (0x65, 0x80),
        (0x65, 0x93),
        (0x66,),
        (0x66, 0x80),
    ]


def test_padding_before_between_and_after_objects_is_skipped() -> None:
    data = bytes.fromhex("00FF800141FFFF00810142FFFFFFFF")
    assert tlv.parse(data) == (Tlv(0x80, b"A"), Tlv(0x81, b"B"))


def test_round_trip_of_canonical_bytes() -> None:
    data = bytes.fromhex("651280074245524E41524481045041554C9F0100")
    assert bytes(tlv.parse(data)[0]) == data
    assert tlv.encode(list(tlv.parse(data))) == data


@pytest.mark.parametrize(
    ("hex_data", "reason", "message"),
    [
        (
            "9F",
            CardErrorReason.TRUNCATED,
            "The TLV data ends inside the tag that starts at byte 0.",
        ),
        (
            "9F8001",
            CardErrorReason.MALFORMED,
            "The tag at byte 0 has a leading zero continuation byte.",
        ),
        (
            "9F818181",
            CardErrorReason.MALFORMED,
            "The tag at byte 0 is longer than 3 bytes.",
        ),
        (
            "80",
            CardErrorReason.TRUNCATED,
            "The TLV data ends before the length of tag 80 (byte 1).",
        ),
        (
            "8080",
            CardErrorReason.MALFORMED,
            "Tag 80 uses the indefinite length form, which ISO 7816-4 does not allow (byte 1).",
        ),
        (
            "8085FFFFFFFFFF",
            CardErrorReason.MALFORMED,
            "The length of tag 80 announces 5 length bytes; at most 4 are allowed (byte 1).",
        ),
        (
            "808201",
            CardErrorReason.TRUNCATED,
            "The TLV data ends inside the length of tag 80 (byte 1).",
        ),
        (
            "800541",
            CardErrorReason.TRUNCATED,
            "Tag 80 announces 5 bytes of value but only 1 remain (byte 2).",
        ),
        (
            "6505800541",
            CardErrorReason.TRUNCATED,
            "Tag 65 announces 5 bytes of value but only 3 remain (byte 2).",
        ),
        (
            "6504800541" + "42",
            CardErrorReason.TRUNCATED,
            "Tag 80 announces 5 bytes of value but only 2 remain (byte 4).",
        ),
    ],
)
def test_bad_bytes_raise_exact_errors(hex_data: str, reason: CardErrorReason, message: str) -> None:
    with pytest.raises(CardProtocolError) as caught:
        tlv.parse(bytes.fromhex(hex_data))
    assert (caught.value.reason, caught.value.message) == (reason, message)


def test_nesting_is_bounded() -> None:
    data = b""
    for _ in range(20):
        data = bytes([0x65, len(data)]) + data
    with pytest.raises(CardProtocolError) as caught:
        tlv.parse(data)
    assert caught.value.message == "The TLV data nests deeper than 16 levels at byte 34."


def test_inconsistent_objects_are_refused() -> None:
    with pytest.raises(CardProtocolError, match="constructed: give its children"):
        Tlv(0x65, b"raw")
    with pytest.raises(CardProtocolError, match="primitive: it cannot have children"):
        Tlv(0x80, children=(Tlv(0x80, b"x"),))
    with pytest.raises(CardProtocolError, match="Tag FF is not a valid BER tag"):
        Tlv(0xFF, b"")
    with pytest.raises(CardProtocolError, match="Tag 9F is not a valid BER tag"):
        Tlv(0x9F, b"")


# --- properties ------------------------------------------------------------------

_first_primitive = st.integers(0x01, 0xFE).filter(lambda b: not b & 0x20 and b & 0x1F != 0x1F)
_first_constructed = st.integers(0x01, 0xFE).filter(lambda b: b & 0x20 and b & 0x1F != 0x1F)


def _long_tag(first_class: int) -> st.SearchStrategy[int]:
    return st.one_of(
        st.integers(0x81, 0xFF).map(lambda x: (first_class | 0x1F) << 8 | (x & 0x7F or 1)),
        st.tuples(st.integers(0x81, 0xFF), st.integers(0x00, 0x7F)).map(
            lambda pair: ((first_class | 0x1F) << 16) | (pair[0] << 8) | pair[1]
        ),
    )


primitive_tags = st.one_of(
    _first_primitive, st.sampled_from([0x00, 0x40, 0x80, 0xC0]).flatmap(_long_tag)
)
constructed_tags = st.one_of(
    _first_constructed, st.sampled_from([0x20, 0x60, 0xA0]).flatmap(_long_tag)
)

trees: st.SearchStrategy[Tlv] = st.recursive(
    st.builds(Tlv, primitive_tags, st.binary(max_size=300)),
    lambda children: st.builds(
        lambda tag, kids: Tlv(tag, children=tuple(kids)),
        constructed_tags,
        st.lists(children, max_size=4),
    ),
    max_leaves=12,
)


@given(st.lists(trees, max_size=4))
def test_encode_then_parse_gives_the_same_tree(objects: list[Tlv]) -> None:
    assert tlv.parse(tlv.encode(objects)) == tuple(objects)


@given(st.binary(max_size=600))
@settings(max_examples=500)
def test_parse_never_raises_anything_but_the_typed_error(data: bytes) -> None:
    try:
        parsed = tlv.parse(data)
    except CardProtocolError as exc:
        assert exc.reason in CardErrorReason
        assert exc.message.endswith(".")
    else:  # whatever parses re-encodes to something that parses the same
        assert tlv.parse(tlv.encode(parsed)) == parsed
