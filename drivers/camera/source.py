"""The capture interface the product uses, whatever the camera is.

`read()` is a coroutine: a real camera blocks for up to a frame period, so
implementations run the blocking call on their own worker thread and the
event loop only awaits. `None` means "no frame this time" (a hiccup, or the
end of a recorded file); the caller decides how many misses make a failure.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

Frame = npt.NDArray[np.uint8]  # H x W (grey) or H x W x 3 (BGR, as OpenCV gives it)


class FrameSource(Protocol):
    name: str

    async def open(self) -> None:
        """Open the camera; raise CameraError(NOT_FOUND) fast when it is not there."""

    async def read(self) -> Frame | None:
        """The next frame, or None when there is none this time."""

    async def close(self) -> None:
        """Release the camera; idempotent."""


def as_frame(image: Any) -> Frame:
    """An OpenCV/numpy image as our Frame type (uint8), for typing's sake."""
    return np.asarray(image, dtype=np.uint8)
