"""What the examination devices produce that outlives the call: a still (pure values, no I/O).

Kept light on purpose (no aiortc, no numpy): the call's events, the
controller and the store read it before any media library is loaded.
"""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass, field
from datetime import datetime


class ExamDevice(enum.StrEnum):
    STETHOSCOPE = "stethoscope"
    OTOSCOPE = "otoscope"


@dataclass(frozen=True)
class ExamStill:
    """A picture the doctor took from the otoscope; kept with the session's record."""

    still_id: str
    device: ExamDevice
    jpeg: bytes = field(repr=False)  # a picture of the patient's body
    width: int
    height: int
    taken_at: datetime

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.jpeg).hexdigest()
