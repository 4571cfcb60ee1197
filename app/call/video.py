"""The camera seam and the aiortc video track that sends it.

A FrameSource gives BGR frames (what OpenCV gives); the cabin uses the OpenCV
camera, tests and the demo a generated moving pattern. Blocking OpenCV calls
run in a one-thread executor so the one asyncio loop never waits on the
camera. "Camera off" sends black frames rather than nothing, so the doctor sees
a deliberate black picture and not a frozen face.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import time
from collections.abc import Callable
from typing import Any, Protocol

import numpy as np
from aiortc import MediaStreamTrack, VideoStreamTrack
from aiortc.mediastreams import VIDEO_CLOCK_RATE, VIDEO_TIME_BASE, MediaStreamError
from av import VideoFrame

from app.call.errors import CheckFailureReason, DeviceUnavailable

Image = np.ndarray[Any, np.dtype[np.uint8]]

WIDTH, HEIGHT, FPS = 640, 480, 30


class FrameSource(Protocol):
    width: int
    height: int

    async def open(self) -> None: ...

    async def read(self) -> Image: ...

    async def close(self) -> None: ...


class OpenCVFrameSource:
    """The cabin camera through cv2.VideoCapture (V4L2 on the cabin PC)."""

    def __init__(
        self, index: int | str = 0, *, width: int = WIDTH, height: int = HEIGHT, fps: int = FPS
    ) -> None:
        """`index`: OpenCV's camera number, or a V4L2 device path (/dev/v4l/by-id/...)."""
        self.index, self.width, self.height, self.fps = index, width, height, fps
        self._capture: Any = None
        self._executor = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="camera")

    def _open(self) -> Any:
        import cv2

        capture = cv2.VideoCapture(self.index)
        if not capture.isOpened():
            capture.release()
            return None
        capture.set(cv2.CAP_PROP_FRAME_WIDTH, self.width)
        capture.set(cv2.CAP_PROP_FRAME_HEIGHT, self.height)
        capture.set(cv2.CAP_PROP_FPS, self.fps)
        return capture

    async def open(self) -> None:
        loop = asyncio.get_running_loop()
        self._capture = await loop.run_in_executor(self._executor, self._open)
        if self._capture is None:
            raise DeviceUnavailable(
                CheckFailureReason.CAMERA_UNAVAILABLE,
                f"The camera {self.index} cannot be opened.",
            )

    def _read(self) -> Image | None:
        import cv2

        ok, frame = self._capture.read()
        if not ok or frame is None:
            return None
        if frame.shape[1] != self.width or frame.shape[0] != self.height:
            frame = cv2.resize(frame, (self.width, self.height))
        return np.ascontiguousarray(frame, dtype=np.uint8)

    async def read(self) -> Image:
        if self._capture is None:
            raise DeviceUnavailable(
                CheckFailureReason.CAMERA_UNAVAILABLE, "The camera is not open."
            )
        loop = asyncio.get_running_loop()
        frame = await loop.run_in_executor(self._executor, self._read)
        if frame is None:
            raise DeviceUnavailable(
                CheckFailureReason.CAMERA_NO_FRAMES, "The camera stopped delivering pictures."
            )
        return frame

    async def close(self) -> None:
        capture, self._capture = self._capture, None
        if capture is not None:
            await asyncio.get_running_loop().run_in_executor(self._executor, capture.release)
        self._executor.shutdown(wait=False)


class TestPatternSource:
    """A moving colour-bar pattern at camera pace, for tests and the demo.

    Moving, because a still picture compresses to nothing and would hide the
    encoder's real cost; paced, because a real camera is.
    """

    __test__ = False  # not a pytest class

    def __init__(self, *, width: int = WIDTH, height: int = HEIGHT, fps: int = FPS) -> None:
        self.width, self.height, self.fps = width, height, fps
        x = np.arange(width * 2, dtype=np.uint16)
        y = np.arange(height, dtype=np.uint16)[:, None]
        bars = np.stack(
            [(x * 3) % 256 + 0 * y, (x // 80 % 2 * 200) + 0 * y, (y * 255 // height) + 0 * x],
            axis=2,
        )
        self._canvas = bars.astype(np.uint8)
        self._frame_no = 0
        self._next = 0.0
        self._open = False

    async def open(self) -> None:
        self._open = True
        self._next = time.monotonic()

    async def read(self) -> Image:
        if not self._open:
            raise DeviceUnavailable(
                CheckFailureReason.CAMERA_UNAVAILABLE, "The test camera is not open."
            )
        delay = self._next - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        self._next = max(self._next + 1 / self.fps, time.monotonic() - 1)
        offset = (self._frame_no * 8) % self.width
        self._frame_no += 1
        frame = self._canvas[:, offset : offset + self.width].copy()
        box = (self._frame_no * 5) % (self.height - 40)
        frame[box : box + 40, 40:80] = 255
        return frame

    async def close(self) -> None:
        self._open = False


class CameraTrack(VideoStreamTrack):
    """Frames from a FrameSource, paced by aiortc, black while the camera is off."""

    kind = "video"

    def __init__(
        self, source: FrameSource, *, on_frame: Callable[[Image], None] | None = None
    ) -> None:
        super().__init__()
        self._source = source
        self._on_frame = on_frame
        self.enabled = True
        self.frames_sent = 0
        self.failure: DeviceUnavailable | None = None
        self._black = np.zeros((source.height, source.width, 3), dtype=np.uint8)
        self.width, self.height, self.fps = source.width, source.height, FPS

    def set_format(self, width: int, height: int, fps: int) -> None:
        """Send smaller or fewer frames (the quality ladder): scaled down, paced at `fps`.

        aiortc's VP8 encoder re-creates its codec when the frame size changes,
        so a smaller frame is all a smaller stream needs.
        """
        if width <= 0 or height <= 0 or not 1 <= fps <= FPS:
            raise ValueError(f"A video format needs a positive size and 1 to {FPS} fps.")
        self.width, self.height, self.fps = width, height, fps

    async def next_timestamp(self) -> tuple[int, Any]:
        """aiortc's pacing (VideoStreamTrack.next_timestamp) at this track's own rate."""
        if self.readyState != "live":
            raise MediaStreamError
        if hasattr(self, "_timestamp"):
            self._timestamp += int(VIDEO_CLOCK_RATE / self.fps)
            wait = self._start + (self._timestamp / VIDEO_CLOCK_RATE) - time.time()
            await asyncio.sleep(wait)
        else:
            self._start = time.time()
            self._timestamp = 0
        return self._timestamp, VIDEO_TIME_BASE

    async def recv(self) -> VideoFrame:
        pts, time_base = await self.next_timestamp()
        image = self._black
        if self.enabled and self.failure is None:
            try:
                image = await self._source.read()
            except DeviceUnavailable as exc:
                self.failure = exc  # the session sees it on its next quality tick
            else:
                if self._on_frame is not None:
                    self._on_frame(image)
        frame = VideoFrame.from_ndarray(image, format="bgr24")
        if (frame.width, frame.height) != (self.width, self.height):
            frame = frame.reformat(width=self.width, height=self.height)
        frame.pts, frame.time_base = pts, time_base
        self.frames_sent += 1
        return frame

    def resume(self) -> None:
        """Pace from now after a pause (no peer pulled frames): no burst to catch up."""
        if hasattr(self, "_timestamp"):
            self._start = time.time() - self._timestamp / VIDEO_CLOCK_RATE


class FrameCounter:
    """Counts decoded remote frames and gives the rate over the last interval."""

    def __init__(self) -> None:
        self.total = 0
        self.first_at: float | None = None
        self._mark_count = 0
        self._mark_time = time.monotonic()

    def tick(self) -> None:
        if self.first_at is None:
            self.first_at = time.monotonic()
        self.total += 1

    def rate(self) -> float:
        now = time.monotonic()
        elapsed = now - self._mark_time
        rate = (self.total - self._mark_count) / elapsed if elapsed > 0 else 0.0
        self._mark_count, self._mark_time = self.total, now
        return rate


__all__ = [
    "CameraTrack",
    "FrameCounter",
    "FrameSource",
    "Image",
    "MediaStreamTrack",
    "OpenCVFrameSource",
    "TestPatternSource",
]
