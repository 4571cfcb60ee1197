"""ISO/IEC 7816-4 command and response APDUs, sans I/O.

`CommandApdu` and `ResponseApdu` are frozen values; `X.parse(data)` reads
bytes and `bytes(x)` gives them back (the card simulator parses commands with
the same code the reader uses to build them). Only short APDUs are supported
(Lc <= 255, Le <= 256): the identity files of a Carte Vitale are read in
256-byte chunks and nothing here needs extended length.

The status word table is the part of ISO 7816-4 §5.6 a technician meets; it
gives a sentence for a status word so that logs and `kiosk devices decode
card` say what the card meant, not only four hex digits.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from drivers.card.errors import CardErrorReason, CardProtocolError

INS_SELECT = 0xA4
INS_READ_BINARY = 0xB0
INS_GET_RESPONSE = 0xC0

SW_OK = 0x9000
SW_END_OF_FILE = 0x6282  # end of file reached before Le bytes (data still returned)
SW_WRONG_OFFSET = 0x6B00
SW_FILE_NOT_FOUND = 0x6A82
SW_SECURITY_NOT_SATISFIED = 0x6982


class StatusCategory(enum.StrEnum):
    SUCCESS = "success"
    WARNING = "warning"
    ERROR = "error"


_EXACT: dict[int, str] = {
    0x9000: "success",
    0x6200: "no information given, the card's state is unchanged",
    0x6281: "part of the returned data may be corrupted",
    0x6282: "end of file reached before reading the expected number of bytes",
    0x6283: "the selected file is deactivated",
    0x6284: "the file control information is not formatted as expected",
    0x6300: "no information given, the card's state has changed",
    0x6581: "memory failure",
    0x6700: "wrong length",
    0x6881: "logical channel not supported",
    0x6882: "secure messaging not supported",
    0x6981: "command incompatible with the file structure",
    0x6982: "security status not satisfied",
    0x6983: "authentication method blocked",
    0x6984: "reference data not usable",
    0x6985: "conditions of use not satisfied",
    0x6986: "command not allowed (no current file)",
    0x6A80: "incorrect data in the command",
    0x6A81: "function not supported",
    0x6A82: "file or application not found",
    0x6A83: "record not found",
    0x6A84: "not enough memory space in the file",
    0x6A86: "incorrect parameters P1-P2",
    0x6A88: "referenced data not found",
    0x6B00: "wrong parameters (offset outside the file)",
    0x6D00: "instruction not supported",
    0x6E00: "class not supported",
    0x6F00: "no precise diagnosis",
}

_BY_SW1: dict[int, str] = {
    0x62: "warning, the card's state is unchanged",
    0x63: "warning, the card's state has changed",
    0x64: "execution error, the card's state is unchanged",
    0x65: "execution error, the card's state has changed",
    0x66: "security-related error",
    0x67: "wrong length",
    0x68: "functions in the class byte not supported",
    0x69: "command not allowed",
    0x6A: "wrong parameters P1-P2",
    0x6B: "wrong parameters P1-P2",
    0x6D: "instruction not supported",
    0x6E: "class not supported",
    0x6F: "no precise diagnosis",
}


def status_word_phrase(sw: int) -> str:
    """What a status word means (ISO 7816-4 §5.6), as a phrase to put in a sentence."""
    sw1, sw2 = sw >> 8, sw & 0xFF
    if sw in _EXACT:
        return _EXACT[sw]
    if sw1 == 0x61:
        return f"success, {sw2 or 256} more bytes are available (GET RESPONSE)"
    if sw1 == 0x6C:
        return f"wrong expected length, the card has {sw2 or 256} bytes"
    if sw1 == 0x63 and sw2 & 0xF0 == 0xC0:
        return f"verification failed, {sw2 & 0x0F} tries left"
    if sw1 in _BY_SW1:
        return _BY_SW1[sw1]
    if 0x90 <= sw1 <= 0x9F:
        return "proprietary status word"
    return "unknown status word"


def status_word_meaning(sw: int) -> str:
    """The same as a sentence, never empty."""
    phrase = status_word_phrase(sw)
    return phrase[0].upper() + phrase[1:] + "."


def status_category(sw: int) -> StatusCategory:
    sw1 = sw >> 8
    if sw == SW_OK or sw1 == 0x61:
        return StatusCategory.SUCCESS
    if sw1 in (0x62, 0x63):
        return StatusCategory.WARNING
    return StatusCategory.ERROR


@dataclass(frozen=True, slots=True)
class CommandApdu:
    """A short command APDU: CLA INS P1 P2 [Lc data] [Le]. `le=256` is sent as 0x00."""

    cla: int
    ins: int
    p1: int
    p2: int
    data: bytes = b""
    le: int | None = None

    def __post_init__(self) -> None:
        for name in ("cla", "ins", "p1", "p2"):
            value = getattr(self, name)
            if not 0 <= value <= 0xFF:
                raise CardProtocolError(
                    CardErrorReason.MALFORMED, f"{name.upper()} must be one byte; got {value}."
                )
        if len(self.data) > 255:
            raise CardProtocolError(
                CardErrorReason.MALFORMED,
                f"A short APDU carries at most 255 data bytes; got {len(self.data)}.",
            )
        if self.le is not None and not 1 <= self.le <= 256:
            raise CardProtocolError(
                CardErrorReason.MALFORMED, f"Le must be between 1 and 256; got {self.le}."
            )

    def __bytes__(self) -> bytes:
        out = bytes([self.cla, self.ins, self.p1, self.p2])
        if self.data:
            out += bytes([len(self.data)]) + self.data
        if self.le is not None:
            out += bytes([self.le & 0xFF])
        return out

    @classmethod
    def parse(cls, data: bytes) -> CommandApdu:
        """ISO 7816-3 §12.1.3 cases 1, 2S, 3S and 4S."""
        if len(data) < 4:
            raise CardProtocolError(
                CardErrorReason.TRUNCATED,
                f"A command APDU needs at least 4 header bytes; got {len(data)}.",
            )
        cla, ins, p1, p2 = data[0], data[1], data[2], data[3]
        body = data[4:]
        if not body:
            return cls(cla, ins, p1, p2)
        if len(body) == 1:
            return cls(cla, ins, p1, p2, le=body[0] or 256)
        lc = body[0]
        if lc == 0:
            raise CardProtocolError(
                CardErrorReason.MALFORMED, "Extended-length command APDUs are not supported."
            )
        if len(body) == 1 + lc:
            return cls(cla, ins, p1, p2, data=bytes(body[1:]))
        if len(body) == 2 + lc:
            return cls(cla, ins, p1, p2, data=bytes(body[1:-1]), le=body[-1] or 256)
        raise CardProtocolError(
            CardErrorReason.MALFORMED,
            f"The command APDU announces {lc} data bytes but its body has {len(body) - 1}.",
        )


@dataclass(frozen=True, slots=True)
class ResponseApdu:
    """Response data followed by the status word SW1 SW2."""

    data: bytes
    sw: int

    def __post_init__(self) -> None:
        if not 0 <= self.sw <= 0xFFFF:
            raise CardProtocolError(
                CardErrorReason.MALFORMED, f"A status word is two bytes; got {self.sw}."
            )

    @property
    def sw1(self) -> int:
        return self.sw >> 8

    @property
    def sw2(self) -> int:
        return self.sw & 0xFF

    @property
    def ok(self) -> bool:
        return self.sw == SW_OK

    def __bytes__(self) -> bytes:
        return self.data + self.sw.to_bytes(2, "big")

    @classmethod
    def parse(cls, data: bytes) -> ResponseApdu:
        if len(data) < 2:
            raise CardProtocolError(
                CardErrorReason.TRUNCATED,
                f"A response APDU needs at least the two status bytes; got {len(data)} byte(s).",
            )
        if len(data) > 65536 + 2:
            raise CardProtocolError(
                CardErrorReason.MALFORMED,
                f"A response APDU carries at most 65536 data bytes; got {len(data) - 2}.",
            )
        return cls(bytes(data[:-2]), int.from_bytes(data[-2:], "big"))

    def describe(self) -> str:
        return f"{status_word_phrase(self.sw)} ({self.sw:04X})"


def select_by_aid(aid: bytes) -> CommandApdu:
    """SELECT by DF name (P1=04), first or only occurrence, FCI requested."""
    if not 5 <= len(aid) <= 16:
        raise CardProtocolError(
            CardErrorReason.MALFORMED, f"An AID has 5 to 16 bytes; got {len(aid)}."
        )
    return CommandApdu(0x00, INS_SELECT, 0x04, 0x00, data=aid, le=256)


def select_file(file_id: int) -> CommandApdu:
    """SELECT an EF under the current DF by its two-byte identifier (P1=02), no answer data."""
    if not 0 <= file_id <= 0xFFFF:
        raise CardProtocolError(
            CardErrorReason.MALFORMED, f"A file identifier is two bytes; got {file_id}."
        )
    return CommandApdu(0x00, INS_SELECT, 0x02, 0x0C, data=file_id.to_bytes(2, "big"))


def read_binary(offset: int, length: int = 256) -> CommandApdu:
    """READ BINARY of the current EF from a 15-bit offset (P1 bit 8 clear)."""
    if not 0 <= offset <= 0x7FFF:
        raise CardProtocolError(
            CardErrorReason.MALFORMED, f"READ BINARY offsets go up to 32767; got {offset}."
        )
    return CommandApdu(0x00, INS_READ_BINARY, offset >> 8, offset & 0xFF, le=length)


def get_response(length: int) -> CommandApdu:
    return CommandApdu(0x00, INS_GET_RESPONSE, 0x00, 0x00, le=length)
