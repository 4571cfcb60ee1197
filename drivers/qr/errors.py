"""The QR subsystem's exception: a reason enum and a sentence with no identity data in it."""

from __future__ import annotations

import enum


class QrErrorReason(enum.StrEnum):
    UNKNOWN_FORMAT = "unknown-format"  # not a payload this profile reads (another QR code)
    MALFORMED = "malformed"  # the right prefix, but broken structure or encoding
    BAD_SIGNATURE = "bad-signature"  # no trusted key signed these bytes
    BAD_FIELD = "bad-field"  # signed, but a field is missing or unusable
    EXPIRED = "expired"
    NOT_YET_VALID = "not-yet-valid"  # issued in the future (clock skew beyond tolerance)


class QrPayloadError(Exception):
    def __init__(self, reason: QrErrorReason, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message

    def __repr__(self) -> str:
        return f"QrPayloadError({self.reason.value!r}, {self.message!r})"
