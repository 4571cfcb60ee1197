"""The one error the GATT measurement parsers raise, with a reason a caller can branch on.

It is always the remote device's fault (bytes it sent), as h11's
RemoteProtocolError: the driver turns it into a `Failed` event and the
assisting professional types the value in instead.
"""

from __future__ import annotations

import enum

from drivers.ieee11073 import SpecialValue


class GattReason(enum.StrEnum):
    TRUNCATED = "truncated"  # fewer bytes than the flags announce
    TRAILING_BYTES = "trailing-bytes"  # more bytes than the flags announce
    NO_VALID_READING = "no-valid-reading"  # NaN / NRes / ±INF / reserved in a primary value
    INVALID_FIELD = "invalid-field"  # a field outside its specified range


class GattDecodeError(Exception):
    """Bytes of a characteristic that do not make a usable measurement."""

    def __init__(
        self,
        reason: GattReason,
        message: str,
        *,
        characteristic: str,
        field: str | None = None,
        special: SpecialValue | None = None,
    ) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.characteristic = characteristic
        self.field = field
        self.special = special
