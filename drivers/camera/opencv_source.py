"""The real camera: `cv2.VideoCapture` on a worker thread.

`cv2.VideoCapture(index)` fails fast (isOpened() is False) when no camera is
at that index; we turn that into CameraError(NOT_FOUND) so that the kiosk
falls back to the card or manual entry at once. A path (a recorded MJPG
AVI) goes through the very same API, which is how tests run this class
without a camera.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import cv2

from drivers.camera.errors import CameraError, CameraErrorReason
from drivers.camera.source import Frame, as_frame

log = logging.getLogger(__name__)


class OpenCvFrameSource:
    def __init__(
        self, source: int | str, *, width: int | None = None, height: int | None = None
    ) -> None:
        self.source = source
        self.name = f"camera {source}" if isinstance(source, int) else "recorded video"
        self._size = (width, height)
        self._capture: Any = None
        self._executor: ThreadPoolExecutor | None = None

    async def open(self) -> None:
        if self._capture is not None:
            return
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="camera")
        loop = asyncio.get_running_loop()
        capture = await loop.run_in_executor(self._executor, self._open_blocking)
        if capture is None:
            self._executor.shutdown(wait=False)
            self._executor = None
            raise CameraError(CameraErrorReason.NOT_FOUND, f"No {self.name} could be opened.")
        self._capture = capture
        log.info("%s opened", self.name)

    def _open_blocking(self) -> Any:
        # OpenCV prints its own warnings on stderr for a missing camera; our
        # CameraError says it in one sentence, so keep only OpenCV's errors.
        cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)
        capture = cv2.VideoCapture(self.source)
        if not capture.isOpened():
            capture.release()
            return None
        width, height = self._size
        if width is not None:
            capture.set(cv2.CAP_PROP_FRAME_WIDTH, width)
        if height is not None:
            capture.set(cv2.CAP_PROP_FRAME_HEIGHT, height)
        return capture

    async def read(self) -> Frame | None:
        capture, executor = self._capture, self._executor
        if capture is None or executor is None:
            raise CameraError(CameraErrorReason.CLOSED, f"The {self.name} is not open.")
        loop = asyncio.get_running_loop()
        ok, image = await loop.run_in_executor(executor, capture.read)
        if not ok or image is None:
            return None
        return as_frame(image)

    async def close(self) -> None:
        capture, executor = self._capture, self._executor
        self._capture = self._executor = None
        if capture is not None and executor is not None:
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(executor, capture.release)
        if executor is not None:
            executor.shutdown(wait=False)
