"""The publicly described content of a Vitale 2 card, as values.

Pure: the bytes of a file in, beneficiaries or validity dates (or a
`CardProtocolError`) out; and the way back, which the card simulator uses.

Public facts (reverse engineering, see docs/drivers-card-qr.md): applications
D250000002564954414C45 ("VITALE") and D2500000024D465F564954414C45; BER-TLV
with, under tag 65, 80 = surname, 81 = first name, 82 = date of birth (ASCII
YYYYMMDD), 93 = NIR; under tag 66, 80 = start of validity.

Our conventions where the facts stop:
- Several beneficiaries are several 65 groups in one file, in order; the
  first is the holder (rank 1), the others the people attached to the card
  (ranks 2, 3, ...).
- End of validity: tag DF10 under 66 (ASCII YYYYMMDD). This is a SIMULATOR
  CONVENTION, not a public fact: real cards carry no such object we know of,
  and a card without it is never treated as expired.
- A NIR under 93 may be 13 characters (the key is then computed) or 15
  (the key is checked).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from drivers.card import tlv
from drivers.card.errors import CardErrorReason, CardProtocolError
from drivers.events import Beneficiary
from vocabulary.nir import is_valid_nir, nir_key

AID_VITALE = bytes.fromhex("D250000002564954414C45")
AID_MF_VITALE = bytes.fromhex("D2500000024D465F564954414C45")

TAG_BENEFICIARY = 0x65
TAG_SURNAME = 0x80
TAG_FIRST_NAME = 0x81
TAG_BIRTH_DATE = 0x82
TAG_NIR = 0x93

TAG_CARD = 0x66
TAG_VALID_FROM = 0x80
TAG_VALID_UNTIL = 0xDF10  # simulator convention, see the module docstring

MAX_NAME_LENGTH = 64


@dataclass(frozen=True, slots=True)
class CardValidity:
    valid_from: dt.date | None
    valid_until: dt.date | None


def parse_beneficiaries(data: bytes) -> tuple[Beneficiary, ...]:
    """Every 65 group of a file, in order; at least one is required."""
    groups = [obj for obj in tlv.parse(data) if obj.tag == TAG_BENEFICIARY]
    if not groups:
        raise CardProtocolError(
            CardErrorReason.MISSING_FIELD, "The card holds no beneficiary (no tag 65)."
        )
    return tuple(_beneficiary(group, rank) for rank, group in enumerate(groups, start=1))


def parse_validity(data: bytes) -> CardValidity:
    card = next((obj for obj in tlv.parse(data) if obj.tag == TAG_CARD), None)
    if card is None:
        raise CardProtocolError(
            CardErrorReason.MISSING_FIELD, "The card holds no card data object (no tag 66)."
        )
    start = card.first(TAG_VALID_FROM)
    end = card.first(TAG_VALID_UNTIL)
    return CardValidity(
        valid_from=None if start is None else _strict_date(start.value, "start of validity"),
        valid_until=None if end is None else _strict_date(end.value, "end of validity"),
    )


def encode_beneficiary(person: Beneficiary) -> tlv.Tlv:
    """A 65 group for the simulator; the birth date goes back to YYYYMMDD."""
    digits = person.birth_date.replace("-", "")
    digits = digits + "0" * (8 - len(digits))
    return tlv.Tlv(
        TAG_BENEFICIARY,
        children=(
            tlv.Tlv(TAG_SURNAME, person.surname.encode("latin-1")),
            tlv.Tlv(TAG_FIRST_NAME, person.first_name.encode("latin-1")),
            tlv.Tlv(TAG_BIRTH_DATE, digits.encode("ascii")),
            tlv.Tlv(TAG_NIR, person.nir.encode("ascii")),
        ),
    )


def _yyyymmdd(day: dt.date) -> bytes:
    """Eight digits always (strftime's %Y does not pad a year under 1000)."""
    return f"{day.year:04d}{day.month:02d}{day.day:02d}".encode()


def encode_validity(validity: CardValidity) -> tlv.Tlv:
    children = []
    if validity.valid_from is not None:
        children.append(tlv.Tlv(TAG_VALID_FROM, _yyyymmdd(validity.valid_from)))
    if validity.valid_until is not None:
        children.append(tlv.Tlv(TAG_VALID_UNTIL, _yyyymmdd(validity.valid_until)))
    return tlv.Tlv(TAG_CARD, children=tuple(children))


def _beneficiary(group: tlv.Tlv, rank: int) -> Beneficiary:
    return Beneficiary(
        surname=_text(_field(group, TAG_SURNAME, rank, "surname"), rank, "surname"),
        first_name=_text(_field(group, TAG_FIRST_NAME, rank, "first name"), rank, "first name"),
        birth_date=_birth_date(_field(group, TAG_BIRTH_DATE, rank, "date of birth"), rank),
        nir=_nir(_field(group, TAG_NIR, rank, "NIR"), rank),
        rank=rank,
    )


def _field(group: tlv.Tlv, tag: int, rank: int, what: str) -> bytes:
    obj = group.first(tag)
    if obj is None:
        raise CardProtocolError(
            CardErrorReason.MISSING_FIELD,
            f"Beneficiary {rank} on the card has no {what} (tag {tag:X} under 65).",
        )
    return obj.value


def _text(raw: bytes, rank: int, what: str) -> str:
    text = raw.decode("latin-1").rstrip(" \x00")
    if not text or len(text) > MAX_NAME_LENGTH or not text.isprintable():
        raise CardProtocolError(
            CardErrorReason.BAD_FIELD,
            f"The {what} of beneficiary {rank} is empty, too long or not printable "
            f"({len(raw)} bytes).",
        )
    return text


def _birth_date(raw: bytes, rank: int) -> str:
    """YYYYMMDD to ISO; unknown parts (00) give a partial date, as on the card.

    French civil status knows dates that no calendar has (a "lunar" 31
    February, a day 00): they are kept as written, never "corrected".
    """
    if len(raw) != 8 or not raw.isascii() or not raw.isdigit():
        raise CardProtocolError(
            CardErrorReason.BAD_FIELD,
            f"The date of birth of beneficiary {rank} is not 8 ASCII digits ({len(raw)} bytes).",
        )
    text = raw.decode("ascii")
    year, month, day = text[:4], text[4:6], text[6:]
    if year == "0000" or int(month) > 12 or int(day) > 31:
        raise CardProtocolError(
            CardErrorReason.BAD_FIELD,
            f"The date of birth of beneficiary {rank} is out of range.",
        )
    if month == "00":
        return year
    if day == "00":
        return f"{year}-{month}"
    return f"{year}-{month}-{day}"


def _nir(raw: bytes, rank: int) -> str:
    text = raw.decode("latin-1").strip()
    if len(text) == 13 and text.isascii():
        try:
            text = f"{text}{nir_key(text):02d}"
        except ValueError:
            pass
    if not is_valid_nir(text):
        raise CardProtocolError(
            CardErrorReason.BAD_FIELD,
            f"The NIR of beneficiary {rank} is malformed or its key does not match "
            f"({len(raw)} bytes).",
        )
    return text


def _strict_date(raw: bytes, what: str) -> dt.date:
    try:
        if len(raw) != 8 or not raw.isascii() or not raw.isdigit():
            raise ValueError
        return dt.date(int(raw[:4]), int(raw[4:6]), int(raw[6:]))
    except ValueError:
        raise CardProtocolError(
            CardErrorReason.BAD_FIELD,
            f"The card's {what} is not a date in YYYYMMDD form ({len(raw)} bytes).",
        ) from None
