"""A simulated Vitale 2 card: the card side of the APDU exchange, pure.

`CardApplet.process(command_bytes)` answers like a card would (or returns
None for a mute card), using the same APDU and TLV code the reader uses, so
a simulator test exercises both directions. `drivers/card/sim_vpcd.py` puts
an applet behind the real vpcd socket; tests may also call it directly.

The demo's fictional patients are in kiosk_demo/cards.py (not in the cabin's install).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from drivers.card import apdu, tlv
from drivers.card.apdu import CommandApdu, ResponseApdu
from drivers.card.errors import CardProtocolError
from drivers.card.profile import FID_BENEFICIARIES, FID_CARD_DATA
from drivers.card.vitale import (
    AID_MF_VITALE,
    AID_VITALE,
    CardValidity,
    encode_beneficiary,
    encode_validity,
)
from drivers.events import Beneficiary

# TS=3B (direct convention), T0=80 (TD1 follows, no historical bytes),
# TD1=80 (TD2 follows, T=0), TD2=01 (T=1), TCK=01: a plain T=1 card.
SIMULATED_ATR = bytes.fromhex("3B80800101")


@dataclass(frozen=True)
class VirtualCard:
    """What a simulated card holds, and how it misbehaves."""

    label: str
    beneficiaries: tuple[Beneficiary, ...]
    validity: CardValidity
    refuse_read: dict[int, int] = field(default_factory=dict)  # file id -> status word
    mute: bool = False  # answers the ATR, never a command APDU
    atr: bytes = SIMULATED_ATR
    file_size: int = 384  # files are padded with FF to this size, as on a real card

    def files(self) -> dict[bytes, dict[int, bytes]]:
        people = tlv.encode([encode_beneficiary(person) for person in self.beneficiaries])
        card = bytes(encode_validity(self.validity))
        return {
            AID_MF_VITALE: {FID_CARD_DATA: self._pad(card)},
            AID_VITALE: {FID_BENEFICIARIES: self._pad(people)},
        }

    def _pad(self, content: bytes) -> bytes:
        return content + b"\xff" * max(0, self.file_size - len(content))


class CardApplet:
    """ISO 7816-4 SELECT / READ BINARY over the files of one `VirtualCard`."""

    def __init__(self, card: VirtualCard) -> None:
        self.card = card
        self._files = card.files()
        self._application: bytes | None = None
        self._file: int | None = None
        self.commands_seen = 0

    def reset(self) -> None:
        self._application = None
        self._file = None

    def process(self, raw: bytes) -> bytes | None:
        """The response APDU's bytes, or None when the card stays mute."""
        self.commands_seen += 1
        if self.card.mute:
            return None
        try:
            command = CommandApdu.parse(raw)
        except CardProtocolError:
            return bytes(ResponseApdu(b"", 0x6700))
        return bytes(self._answer(command))

    def _answer(self, command: CommandApdu) -> ResponseApdu:
        if command.cla != 0x00:
            return ResponseApdu(b"", 0x6E00)
        if command.ins == apdu.INS_SELECT:
            return self._select(command)
        if command.ins == apdu.INS_READ_BINARY:
            return self._read_binary(command)
        return ResponseApdu(b"", 0x6D00)

    def _select(self, command: CommandApdu) -> ResponseApdu:
        if command.p1 == 0x04:
            if command.data not in self._files:
                return ResponseApdu(b"", apdu.SW_FILE_NOT_FOUND)
            self._application, self._file = command.data, None
            fci = tlv.Tlv(0x6F, children=(tlv.Tlv(0x84, command.data),))
            return ResponseApdu(bytes(fci), apdu.SW_OK)
        if command.p1 in (0x00, 0x02) and len(command.data) == 2:
            file_id = int.from_bytes(command.data, "big")
            files = self._files.get(self._application or b"", {})
            if file_id not in files:
                return ResponseApdu(b"", apdu.SW_FILE_NOT_FOUND)
            self._file = file_id
            return ResponseApdu(b"", apdu.SW_OK)
        return ResponseApdu(b"", 0x6A86)

    def _read_binary(self, command: CommandApdu) -> ResponseApdu:
        if self._application is None or self._file is None:
            return ResponseApdu(b"", 0x6986)
        if command.p1 & 0x80:
            return ResponseApdu(b"", 0x6A81)  # short EF identifiers: not on this card
        refused = self.card.refuse_read.get(self._file)
        if refused is not None:
            return ResponseApdu(b"", refused)
        content = self._files[self._application][self._file]
        offset = (command.p1 << 8) | command.p2
        if offset >= len(content):
            return ResponseApdu(b"", apdu.SW_WRONG_OFFSET)
        wanted = command.le or 256
        chunk = content[offset : offset + wanted]
        return ResponseApdu(chunk, apdu.SW_OK if len(chunk) == wanted else apdu.SW_END_OF_FILE)
