"""Command and response APDUs (ISO 7816-3/-4): exact bytes, exact errors, round trip, fuzz."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers.card import apdu
from drivers.card.apdu import CommandApdu, ResponseApdu, StatusCategory
from drivers.card.errors import CardErrorReason, CardProtocolError
from drivers.card.vitale import AID_MF_VITALE, AID_VITALE


def test_builders_give_the_bytes_of_the_standard() -> None:
    assert bytes(apdu.select_by_aid(AID_VITALE)).hex().upper() == (
        "00A404000BD250000002564954414C4500"
    )
    assert bytes(apdu.select_by_aid(AID_MF_VITALE)).hex().upper() == (
        "00A404000ED2500000024D465F564954414C4500"
    )
    assert bytes(apdu.select_file(0x0101)).hex().upper() == "00A4020C020101"
    assert bytes(apdu.read_binary(0)).hex().upper() == "00B0000000"
    assert bytes(apdu.read_binary(0x0100, 16)).hex().upper() == "00B0010010"
    assert bytes(apdu.get_response(0x20)).hex().upper() == "00C0000020"


@pytest.mark.parametrize(
    ("hex_data", "expected"),
    [
        ("00A40400", CommandApdu(0x00, 0xA4, 0x04, 0x00)),  # case 1
        ("00B0000000", CommandApdu(0x00, 0xB0, 0, 0, le=256)),  # case 2S, Le=00
        ("00B0000010", CommandApdu(0x00, 0xB0, 0, 0, le=16)),
        ("00A4020C020101", CommandApdu(0x00, 0xA4, 0x02, 0x0C, data=b"\x01\x01")),  # 3S
        ("00A4040002AABB00", CommandApdu(0x00, 0xA4, 0x04, 0, data=b"\xaa\xbb", le=256)),  # 4S
    ],
)
def test_command_cases_parse_and_round_trip(hex_data: str, expected: CommandApdu) -> None:
    parsed = CommandApdu.parse(bytes.fromhex(hex_data))
    assert parsed == expected
    assert bytes(parsed).hex().upper() == hex_data


@pytest.mark.parametrize(
    ("hex_data", "reason", "message"),
    [
        (
            "00A404",
            CardErrorReason.TRUNCATED,
            "A command APDU needs at least 4 header bytes; got 3.",
        ),
        (
            "00A4040000000102",
            CardErrorReason.MALFORMED,
            "Extended-length command APDUs are not supported.",
        ),
        (
            "00A4040003AABB",
            CardErrorReason.MALFORMED,
            "The command APDU announces 3 data bytes but its body has 2.",
        ),
    ],
)
def test_bad_commands_raise_exact_errors(
    hex_data: str, reason: CardErrorReason, message: str
) -> None:
    with pytest.raises(CardProtocolError) as caught:
        CommandApdu.parse(bytes.fromhex(hex_data))
    assert (caught.value.reason, caught.value.message) == (reason, message)


def test_invalid_command_fields_are_refused() -> None:
    with pytest.raises(CardProtocolError, match=r"^P1 must be one byte; got 256\.$"):
        CommandApdu(0, 0xB0, 256, 0)
    with pytest.raises(CardProtocolError, match=r"^Le must be between 1 and 256; got 0\.$"):
        CommandApdu(0, 0xB0, 0, 0, le=0)
    with pytest.raises(CardProtocolError, match="at most 255 data bytes; got 256"):
        CommandApdu(0, 0xD6, 0, 0, data=bytes(256))
    with pytest.raises(CardProtocolError, match=r"^An AID has 5 to 16 bytes; got 4\.$"):
        apdu.select_by_aid(b"\xd2\x50\x00\x00")
    with pytest.raises(
        CardProtocolError, match=r"^READ BINARY offsets go up to 32767; got 32768\.$"
    ):
        apdu.read_binary(0x8000)


def test_response_parse_and_round_trip() -> None:
    response = ResponseApdu.parse(bytes.fromhex("41429000"))
    assert response == ResponseApdu(b"AB", 0x9000)
    assert (response.sw1, response.sw2, response.ok) == (0x90, 0x00, True)
    assert bytes(response) == bytes.fromhex("41429000")
    refused = ResponseApdu.parse(bytes.fromhex("6982"))
    assert (refused.data, refused.ok) == (b"", False)
    assert refused.describe() == "security status not satisfied (6982)"


def test_response_errors() -> None:
    with pytest.raises(CardProtocolError) as caught:
        ResponseApdu.parse(b"\x90")
    assert caught.value.reason is CardErrorReason.TRUNCATED
    assert caught.value.message == (
        "A response APDU needs at least the two status bytes; got 1 byte(s)."
    )


@pytest.mark.parametrize(
    ("sw", "meaning", "category"),
    [
        (0x9000, "Success.", StatusCategory.SUCCESS),
        (0x6110, "Success, 16 more bytes are available (GET RESPONSE).", StatusCategory.SUCCESS),
        (
            0x6282,
            "End of file reached before reading the expected number of bytes.",
            StatusCategory.WARNING,
        ),
        (0x63C2, "Verification failed, 2 tries left.", StatusCategory.WARNING),
        (0x6982, "Security status not satisfied.", StatusCategory.ERROR),
        (0x6A82, "File or application not found.", StatusCategory.ERROR),
        (0x6C20, "Wrong expected length, the card has 32 bytes.", StatusCategory.ERROR),
        (0x6999, "Command not allowed.", StatusCategory.ERROR),
        (0x9F10, "Proprietary status word.", StatusCategory.ERROR),
        (0x1234, "Unknown status word.", StatusCategory.ERROR),
    ],
)
def test_status_words(sw: int, meaning: str, category: StatusCategory) -> None:
    assert apdu.status_word_meaning(sw) == meaning
    assert apdu.status_category(sw) is category


@given(st.binary(max_size=300))
def test_command_parse_only_raises_the_typed_error(data: bytes) -> None:
    try:
        command = CommandApdu.parse(data)
    except CardProtocolError as exc:
        assert exc.reason in (CardErrorReason.TRUNCATED, CardErrorReason.MALFORMED)
    else:
        assert CommandApdu.parse(bytes(command)) == command


@given(
    st.builds(
        CommandApdu,
        st.integers(0, 255),
        st.integers(0, 255),
        st.integers(0, 255),
        st.integers(0, 255),
        st.binary(max_size=255),
        st.one_of(st.none(), st.integers(1, 256)),
    )
)
def test_every_short_command_round_trips(command: CommandApdu) -> None:
    assert CommandApdu.parse(bytes(command)) == command


@given(st.binary(max_size=600))
def test_response_parse_only_raises_the_typed_error(data: bytes) -> None:
    try:
        response = ResponseApdu.parse(data)
    except CardProtocolError as exc:
        assert exc.reason is CardErrorReason.TRUNCATED
    else:
        assert bytes(response) == data
        assert apdu.status_word_meaning(response.sw).endswith(".")
