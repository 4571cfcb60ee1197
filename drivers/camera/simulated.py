"""A simulated camera: frames from a list, paced like a camera, through `FrameSource`.

The frames themselves are generated elsewhere (drivers/qr/sim_frames.py
renders QR codes into noisy, rotated, cropped or dark images); this class
only plays them, so that the scanner under test reads exactly as it reads a
real camera.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from drivers.camera.errors import CameraError, CameraErrorReason
from drivers.camera.source import Frame


class SimulatedFrameSource:
    def __init__(
        self,
        frames: Sequence[Frame],
        *,
        period_s: float = 0.0,
        repeat: bool = False,
        available: bool = True,
    ) -> None:
        self.name = "simulated camera"
        self._frames = list(frames)
        self.period_s = period_s
        self.repeat = repeat
        self.available = available
        self._index = 0
        self._open = False
        self.frames_served = 0

    def play(self, frames: Sequence[Frame]) -> None:
        """Show something else to the camera (the next patient's phone)."""
        self._frames = list(frames)
        self._index = 0

    async def open(self) -> None:
        if not self.available:
            raise CameraError(CameraErrorReason.NOT_FOUND, f"No {self.name} could be opened.")
        self._open = True

    async def read(self) -> Frame | None:
        if not self._open:
            raise CameraError(CameraErrorReason.CLOSED, f"The {self.name} is not open.")
        if self.period_s:
            await asyncio.sleep(self.period_s)
        else:
            await asyncio.sleep(0)
        if self._index >= len(self._frames):
            if not self.repeat or not self._frames:
                return None
            self._index = 0
        frame = self._frames[self._index]
        self._index += 1
        self.frames_served += 1
        return frame

    async def close(self) -> None:
        self._open = False
