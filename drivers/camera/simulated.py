"""A simulated camera: frames from a list, paced like a camera, through `FrameSource`.

The frames themselves are generated elsewhere (drivers/qr/sim_frames.py
renders QR codes into noisy, rotated, cropped or dark images); this class
only plays them, so that the scanner under test reads exactly as it reads a
real camera. Its faults are the camera's own (unplugged, covered, frozen),
so that the demo's operator can show how the kiosk falls back.
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Sequence

import numpy as np

from drivers.camera.errors import CameraError, CameraErrorReason
from drivers.camera.source import Frame


class CameraFault(enum.StrEnum):
    NO_CAMERA = "no-camera"  # not plugged in: open() fails, a running read() fails
    DARK = "dark"  # something covers the lens: dark frames with nothing readable
    NO_FRAMES = "no-frames"  # the camera stays open but stops giving images


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
        self._afterwards: list[Frame] | None = None
        self.period_s = period_s
        self.repeat = repeat
        self.available = available
        self.fault: CameraFault | None = None
        self._index = 0
        self._open = False
        self.frames_served = 0

    @property
    def is_open(self) -> bool:
        return self._open

    def play(self, frames: Sequence[Frame], *, afterwards: Sequence[Frame] | None = None) -> None:
        """Show something else to the camera (the next patient's phone).

        With `afterwards`, `frames` are shown once and then `afterwards` (repeated
        if the source repeats): the patient lowers the phone after showing it.
        """
        self._frames = list(frames)
        self._afterwards = list(afterwards) if afterwards is not None else None
        self._index = 0

    async def open(self) -> None:
        if not self.available or self.fault is CameraFault.NO_CAMERA:
            raise CameraError(CameraErrorReason.NOT_FOUND, f"No {self.name} could be opened.")
        self._open = True

    async def read(self) -> Frame | None:
        if not self._open:
            raise CameraError(CameraErrorReason.CLOSED, f"The {self.name} is not open.")
        if self.period_s:
            await asyncio.sleep(self.period_s)
        else:
            await asyncio.sleep(0)
        if self.fault is CameraFault.NO_CAMERA:
            raise CameraError(
                CameraErrorReason.READ_FAILED, f"The {self.name} was unplugged while in use."
            )
        if self.fault is CameraFault.NO_FRAMES:
            return None
        if self.fault is CameraFault.DARK:
            return _dark(self._frames[0] if self._frames else None)
        if self._index >= len(self._frames) and self._afterwards is not None:
            self._frames, self._afterwards = self._afterwards, None
            self._index = 0
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


def _dark(like: Frame | None) -> Frame:
    """A covered lens: the shape of the frames being played, almost black."""
    shape = like.shape if like is not None else (480, 640, 3)
    frame = np.full(shape, 6, np.uint8)
    frame[::7, ::5] = 11  # a little sensor noise, deterministic
    return frame
