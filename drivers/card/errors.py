"""The card reader's one exception tree.

Every failure of the card path, from a byte that breaks the BER-TLV rules to a
pcscd that is not running, is a `CardError` with a reason enum, so that the
driver turns it into the right `Failed` event without parsing strings. Whose
fault it is shows in the class: `CardProtocolError` for bytes the card (or a
technician's capture) got wrong, `CardTransportError` for the PC/SC path.
Messages are whole sentences and never carry a name, a date or a NIR.
"""

from __future__ import annotations

import enum


class CardErrorReason(enum.StrEnum):
    TRUNCATED = "truncated"  # the bytes end before the structure they announce
    MALFORMED = "malformed"  # the bytes break an encoding rule (APDU, BER-TLV)
    STATUS_WORD = "status-word"  # the card answered an error status word
    MISSING_FIELD = "missing-field"  # a data object the profile needs is absent
    BAD_FIELD = "bad-field"  # a data object is present but its value is unusable
    NOT_SUPPORTED = "not-supported"  # no application this profile knows is on the card
    NO_SERVICE = "no-service"  # pcscd is not running
    NO_READER = "no-reader"  # the configured reader is absent
    NO_CARD = "no-card"  # no card in the reader (or it was pulled out)
    TRANSPORT = "transport"  # any other PC/SC failure


class CardError(Exception):
    """Base of the card subsystem: a reason, a sentence and optional structured fields."""

    def __init__(
        self,
        reason: CardErrorReason,
        message: str,
        *,
        status_word: int | None = None,
        offset: int | None = None,
    ) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.status_word = status_word
        self.offset = offset

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.reason.value!r}, {self.message!r})"


class CardProtocolError(CardError):
    """The bytes do not follow ISO 7816-4 / BER-TLV or the profile's layout."""


class CardTransportError(CardError):
    """The PC/SC path failed: no pcscd, no reader, no card, a transmit error."""
