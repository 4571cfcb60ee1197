"""The QR scanner: frames from a `FrameSource`, codes through a `QrProfile`.

The profile is always given by the caller (drivers/registry.py chooses it
with the site's mode): the scanner has no default way to trust a code.

Events: Connected when the camera opens, then one QrIdentity or one
Failed(QR_INVALID) per code shown. A patient holds the phone up for
seconds, so the same text is reported once: it is ignored while it keeps
appearing, and again until `repeat_after_s` has passed without it. The
scanner never reports frames without a code (a dark or empty frame is
normal while the patient gets the app ready); if the camera stops giving
frames altogether it fails with DISCONNECTED.

Decoding is CPU-bound (~3 ms a frame with zxing-cpp), so frames are decoded on one worker
thread, at most one every `frame_interval_s`: the cabin has two cores and a
video call to run.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from drivers.base import CheckResult, Driver
from drivers.camera.errors import CameraError
from drivers.camera.source import FrameSource
from drivers.events import Connected, Failed, FailureReason
from drivers.qr.errors import QrPayloadError
from drivers.qr.profile import QrProfile
from vocabulary.devices import DeviceKind

log = logging.getLogger(__name__)


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class QrScannerDriver(Driver):
    def __init__(
        self,
        device_id: str,
        *,
        profile: QrProfile,
        source: FrameSource | None = None,
        camera_index: int = 0,
        clock: Callable[[], dt.datetime] = _utc_now,
        frame_interval_s: float = 0.15,
        repeat_after_s: float = 10.0,
        max_missed_frames: int = 50,
    ) -> None:
        super().__init__(device_id, DeviceKind.CAMERA)
        if source is None:
            from drivers.camera.opencv_source import OpenCvFrameSource

            source = OpenCvFrameSource(camera_index)
        self.source = source
        self.profile = profile
        self._clock = clock
        self.frame_interval_s = frame_interval_s
        self.repeat_after_s = repeat_after_s
        self.max_missed_frames = max_missed_frames
        self._executor: ThreadPoolExecutor | None = None
        self.frames_decoded = 0

    async def _run(self) -> None:
        try:
            await self.source.open()
        except CameraError as exc:
            self.emit(Failed(self.device_id, self.kind, FailureReason.NOT_FOUND, exc.message))
            return
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="qr-decode")
        self.emit(Connected(self.device_id, self.kind))
        from drivers.qr.detector import decode_qr

        loop = asyncio.get_running_loop()
        last_text: str | None = None
        last_seen = float("-inf")
        missed = 0
        while True:
            started = time.monotonic()
            try:
                frame = await self.source.read()
            except CameraError as exc:
                self.emit(
                    Failed(self.device_id, self.kind, FailureReason.DISCONNECTED, exc.message)
                )
                return
            if frame is None:
                missed += 1
                if missed >= self.max_missed_frames:
                    self.emit(
                        Failed(
                            self.device_id,
                            self.kind,
                            FailureReason.DISCONNECTED,
                            f"The {self.source.name} stopped sending images.",
                        )
                    )
                    return
                await asyncio.sleep(self.frame_interval_s)
                continue
            missed = 0
            text = await loop.run_in_executor(self._executor, decode_qr, frame)
            self.frames_decoded += 1
            if text is not None:
                now = time.monotonic()
                repeated = text == last_text and now - last_seen < self.repeat_after_s
                last_text, last_seen = text, now
                if not repeated:
                    self._report(text)
            pause = self.frame_interval_s - (time.monotonic() - started)
            if pause > 0:
                await asyncio.sleep(pause)

    def _report(self, text: str) -> None:
        try:
            identity = self.profile.parse(text, now=self._clock())
        except QrPayloadError as exc:
            log.info("qr code refused: %s (%d characters)", exc.reason.value, len(text))
            self.emit(Failed(self.device_id, self.kind, FailureReason.QR_INVALID, exc.message))
            return
        log.info("qr identity read (%d characters)", len(text))
        self.emit(identity.to_event(self.device_id))

    async def _close(self) -> None:
        executor, self._executor = self._executor, None
        await self.source.close()
        if executor is not None:
            executor.shutdown(wait=False)

    async def check(self) -> CheckResult:
        """Open the camera and take one frame; says nothing about what is in it."""
        try:
            await self.source.open()
            frame = None
            for _ in range(10):  # a camera's first frames can be empty while it starts
                frame = await self.source.read()
                if frame is not None:
                    break
        except CameraError as exc:
            return CheckResult(self.device_id, self.kind, ok=False, detail=exc.message)
        finally:
            if not self.running:
                await self.source.close()
        if frame is None:
            return CheckResult(
                self.device_id,
                self.kind,
                ok=False,
                detail=f"The {self.source.name} opened but gave no image.",
            )
        height, width = frame.shape[:2]
        return CheckResult(
            self.device_id,
            self.kind,
            ok=True,
            detail=f"The {self.source.name} gives {width}x{height} images; profile {self.profile.name}.",
        )
