"""The `QrProfile` seam: what a QR code's text means.

The scanner finds QR codes in frames; a profile turns the text into an
identity or a `QrPayloadError`. The real appli carte Vitale payload is not
public, so the shipped profile (drivers/qr/apcv_standin.py) reads a documented
TEST format; a licensed profile replaces it by implementing `parse`.
"""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from dataclasses import dataclass, field

from drivers.events import QrIdentity


@dataclass(frozen=True, slots=True)
class ApcvIdentity:
    """The INS traits an appli carte Vitale presents (values hidden from repr)."""

    birth_name: str = field(repr=False)
    first_names: tuple[str, ...] = field(repr=False)
    birth_date: str = field(repr=False)  # ISO YYYY-MM-DD
    sex: str = field(repr=False)  # "M" | "F" | "U"
    birth_place_insee: str = field(repr=False)
    nir: str = field(repr=False)
    issued_at: dt.datetime
    expires_at: dt.datetime
    nonce: str = field(repr=False, default="")

    def to_event(self, device_id: str) -> QrIdentity:
        return QrIdentity(
            device_id=device_id,
            birth_name=self.birth_name,
            first_names=self.first_names,
            birth_date=self.birth_date,
            sex=self.sex,
            birth_place_insee=self.birth_place_insee,
            nir=self.nir,
            expires_at=self.expires_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        )


class QrProfile(ABC):
    name: str = "abstract"

    @abstractmethod
    def parse(self, text: str, *, now: dt.datetime) -> ApcvIdentity:
        """The identity in `text`, checked at `now` (UTC); QrPayloadError otherwise."""
