"""`kiosk devices decode card HEX…`: a response APDU explained to a technician.

The technician sees the status word and its meaning, and the BER-TLV tree
(tags, lengths, nesting). The identity data objects of a Vitale card
(surname, first name, date of birth, NIR) are shown by length only unless
`reveal=True`: a technician has no business reading health identity data,
even from a capture.
"""

from __future__ import annotations

from typing import Any

from drivers.card import tlv
from drivers.card.apdu import ResponseApdu, status_category, status_word_meaning
from drivers.card.errors import CardErrorReason, CardProtocolError
from drivers.card.vitale import (
    TAG_BENEFICIARY,
    TAG_BIRTH_DATE,
    TAG_CARD,
    TAG_FIRST_NAME,
    TAG_NIR,
    TAG_SURNAME,
    TAG_VALID_FROM,
    TAG_VALID_UNTIL,
)

_LABELS: dict[tuple[int, ...], str] = {
    (TAG_BENEFICIARY,): "beneficiary",
    (TAG_BENEFICIARY, TAG_SURNAME): "surname",
    (TAG_BENEFICIARY, TAG_FIRST_NAME): "first name",
    (TAG_BENEFICIARY, TAG_BIRTH_DATE): "date of birth",
    (TAG_BENEFICIARY, TAG_NIR): "NIR",
    (TAG_CARD,): "card data",
    (TAG_CARD, TAG_VALID_FROM): "start of validity",
    (TAG_CARD, TAG_VALID_UNTIL): "end of validity (simulator convention)",
    (0x6F,): "file control information",
    (0x6F, 0x84): "application identifier (DF name)",
}
_REDACTED = {
    (TAG_BENEFICIARY, TAG_SURNAME),
    (TAG_BENEFICIARY, TAG_FIRST_NAME),
    (TAG_BENEFICIARY, TAG_BIRTH_DATE),
    (TAG_BENEFICIARY, TAG_NIR),
}


def parse_hex(words: list[str] | str) -> bytes:
    """Hex as a technician types it: spaces, colons and an optional 0x allowed."""
    text = words if isinstance(words, str) else " ".join(words)
    cleaned = text.replace(":", " ").replace("0x", " ").replace("0X", " ").split()
    joined = "".join(cleaned)
    if len(joined) % 2:
        raise CardProtocolError(
            CardErrorReason.MALFORMED, f"The hex text has an odd number of digits ({len(joined)})."
        )
    try:
        return bytes.fromhex(joined)
    except ValueError:
        raise CardProtocolError(
            CardErrorReason.MALFORMED, "The text is not hexadecimal bytes."
        ) from None


def decode_response(data: bytes, *, reveal: bool = False) -> dict[str, Any]:
    """A JSON-ready explanation of a response APDU; CardProtocolError on bad bytes."""
    response = ResponseApdu.parse(data)
    result: dict[str, Any] = {
        "kind": "card",
        "status_word": f"{response.sw:04X}",
        "meaning": status_word_meaning(response.sw),
        "category": status_category(response.sw).value,
        "data_length": len(response.data),
        "tlv": [],
    }
    if response.data:
        result["tlv"] = [_node(obj, (obj.tag,), reveal) for obj in tlv.parse(response.data)]
    return result


def _node(obj: tlv.Tlv, path: tuple[int, ...], reveal: bool) -> dict[str, Any]:
    raw = tlv.tag_bytes(obj.tag).hex().upper()
    node: dict[str, Any] = {"tag": raw, "length": len(obj.content())}
    label = _LABELS.get(path[-2:]) or _LABELS.get(path[-1:])
    if label is not None:
        node["label"] = label
    if obj.constructed:
        node["children"] = [_node(child, (*path, child.tag), reveal) for child in obj.children]
    elif path[-2:] in _REDACTED and not reveal:
        node["value"] = f"<hidden: {len(obj.value)} bytes>"
    else:
        node["value_hex"] = obj.value.hex().upper()
        if obj.value.isascii() and obj.value.decode("ascii").isprintable():
            node["value_ascii"] = obj.value.decode("ascii")
    return node
