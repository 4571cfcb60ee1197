"""BER-TLV as ISO/IEC 7816-4 uses it: parse bytes into a tree, and back.

Pure: bytes in, `Tlv` values or a `CardProtocolError` out. Rules applied
(ISO/IEC 7816-4 §5.2, X.690 §8.1):

- A tag is one byte, or, when its low five bits are all set, that byte
  followed by bytes whose top bit says "more follows". The first following
  byte may not be 0x80 (no leading zero bits). We accept tags of up to three
  bytes, as ISO 7816-4 does; a tag is kept as the integer of its bytes
  (0x65, 0x9F01, 0xDF10), as smart-card people write it.
- A length is one byte below 0x80, or 0x81..0x84 followed by that many bytes.
  0x80 (indefinite length) is not allowed in ISO 7816-4 and is rejected.
- Bit 0x20 of the tag's first byte marks a constructed object: its value is
  itself a sequence of TLV objects.
- Bytes 0x00 and 0xFF before, between and after objects are padding (files on
  a card are fixed-size and padded) and are skipped.

Why a tree and not a dict: a Carte Vitale holds several 0x65 groups (one per
beneficiary) and order matters (the first one is the holder).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from drivers.card.errors import CardErrorReason, CardProtocolError

MAX_DEPTH = 16
MAX_TAG_BYTES = 3
_PADDING = (0x00, 0xFF)


def tag_bytes(tag: int) -> bytes:
    """The bytes of a tag kept as an integer (0x9F01 -> b'\\x9f\\x01')."""
    if tag <= 0:
        raise CardProtocolError(CardErrorReason.MALFORMED, f"Tag {tag} is not a valid BER tag.")
    return tag.to_bytes((tag.bit_length() + 7) // 8, "big")


def _check_tag(tag: int) -> bytes:
    raw = tag_bytes(tag)
    first = raw[0]
    bad = CardProtocolError(CardErrorReason.MALFORMED, f"Tag {tag:X} is not a valid BER tag.")
    if first in _PADDING or len(raw) > MAX_TAG_BYTES:
        raise bad
    if first & 0x1F != 0x1F:
        if len(raw) != 1:
            raise bad
        return raw
    if len(raw) < 2 or raw[1] == 0x80:
        raise bad
    for index, byte in enumerate(raw[1:], start=1):
        last = index == len(raw) - 1
        if bool(byte & 0x80) == last:
            raise bad
    return raw


def is_constructed(tag: int) -> bool:
    return bool(tag_bytes(tag)[0] & 0x20)


def encode_length(length: int) -> bytes:
    if length < 0 or length > 0xFFFFFFFF:
        raise CardProtocolError(
            CardErrorReason.MALFORMED, f"Length {length} cannot be encoded in BER-TLV."
        )
    if length < 0x80:
        return bytes([length])
    body = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


@dataclass(frozen=True, slots=True)
class Tlv:
    """One data object. Primitive: `value` holds the bytes. Constructed: `children`."""

    tag: int
    value: bytes = b""
    children: tuple[Tlv, ...] = ()

    def __post_init__(self) -> None:
        _check_tag(self.tag)
        if self.constructed and self.value:
            raise CardProtocolError(
                CardErrorReason.MALFORMED,
                f"Tag {self.tag:X} is constructed: give its children, not raw value bytes.",
            )
        if not self.constructed and self.children:
            raise CardProtocolError(
                CardErrorReason.MALFORMED,
                f"Tag {self.tag:X} is primitive: it cannot have children.",
            )

    @property
    def constructed(self) -> bool:
        return is_constructed(self.tag)

    def content(self) -> bytes:
        """The value field as it travels: raw bytes, or the children's encodings."""
        if self.constructed:
            return b"".join(bytes(child) for child in self.children)
        return self.value

    def __bytes__(self) -> bytes:
        content = self.content()
        return tag_bytes(self.tag) + encode_length(len(content)) + content

    def first(self, tag: int) -> Tlv | None:
        """The first direct child with this tag."""
        return next((child for child in self.children if child.tag == tag), None)

    def all(self, tag: int) -> tuple[Tlv, ...]:
        return tuple(child for child in self.children if child.tag == tag)


def encode(objects: tuple[Tlv, ...] | list[Tlv]) -> bytes:
    return b"".join(bytes(obj) for obj in objects)


def parse(data: bytes) -> tuple[Tlv, ...]:
    """Every top-level data object in `data`, padding skipped."""
    return tuple(_parse_sequence(bytes(data), 0, len(data), 0))


def walk(
    objects: tuple[Tlv, ...], path: tuple[int, ...] = ()
) -> Iterator[tuple[tuple[int, ...], Tlv]]:
    """Depth-first (path of tags, object) pairs, for technicians' dumps."""
    for obj in objects:
        here = (*path, obj.tag)
        yield here, obj
        yield from walk(obj.children, here)


def _parse_sequence(data: bytes, start: int, end: int, depth: int) -> Iterator[Tlv]:
    if depth > MAX_DEPTH:
        raise CardProtocolError(
            CardErrorReason.MALFORMED,
            f"The TLV data nests deeper than {MAX_DEPTH} levels at byte {start}.",
            offset=start,
        )
    pos = start
    while pos < end:
        if data[pos] in _PADDING:
            pos += 1
            continue
        tag, pos = _read_tag(data, pos, end)
        length, pos = _read_length(data, pos, end, tag)
        value_end = pos + length
        if tag_bytes(tag)[0] & 0x20:
            children = tuple(_parse_sequence(data, pos, value_end, depth + 1))
            yield Tlv(tag, children=children)
        else:
            yield Tlv(tag, value=data[pos:value_end])
        pos = value_end


def _read_tag(data: bytes, pos: int, end: int) -> tuple[int, int]:
    start = pos
    first = data[pos]
    pos += 1
    tag = first
    if first & 0x1F == 0x1F:
        while True:
            if pos >= end:
                raise CardProtocolError(
                    CardErrorReason.TRUNCATED,
                    f"The TLV data ends inside the tag that starts at byte {start}.",
                    offset=start,
                )
            byte = data[pos]
            if pos == start + 1 and byte == 0x80:
                raise CardProtocolError(
                    CardErrorReason.MALFORMED,
                    f"The tag at byte {start} has a leading zero continuation byte.",
                    offset=start,
                )
            tag = (tag << 8) | byte
            pos += 1
            if pos - start > MAX_TAG_BYTES:
                raise CardProtocolError(
                    CardErrorReason.MALFORMED,
                    f"The tag at byte {start} is longer than {MAX_TAG_BYTES} bytes.",
                    offset=start,
                )
            if not byte & 0x80:
                break
    return tag, pos


def _read_length(data: bytes, pos: int, end: int, tag: int) -> tuple[int, int]:
    if pos >= end:
        raise CardProtocolError(
            CardErrorReason.TRUNCATED,
            f"The TLV data ends before the length of tag {tag:X} (byte {pos}).",
            offset=pos,
        )
    first = data[pos]
    pos += 1
    if first < 0x80:
        length = first
    elif first == 0x80:
        raise CardProtocolError(
            CardErrorReason.MALFORMED,
            f"Tag {tag:X} uses the indefinite length form, which ISO 7816-4 does not allow (byte {pos - 1}).",
            offset=pos - 1,
        )
    else:
        count = first & 0x7F
        if count > 4:
            raise CardProtocolError(
                CardErrorReason.MALFORMED,
                f"The length of tag {tag:X} announces {count} length bytes; at most 4 are allowed (byte {pos - 1}).",
                offset=pos - 1,
            )
        if pos + count > end:
            raise CardProtocolError(
                CardErrorReason.TRUNCATED,
                f"The TLV data ends inside the length of tag {tag:X} (byte {pos - 1}).",
                offset=pos - 1,
            )
        length = int.from_bytes(data[pos : pos + count], "big")
        pos += count
    if pos + length > end:
        raise CardProtocolError(
            CardErrorReason.TRUNCATED,
            f"Tag {tag:X} announces {length} bytes of value but only {end - pos} remain (byte {pos}).",
            offset=pos,
        )
    return length, pos
