"""Camera preview, microphone level and speaker tone for the technician: nothing recorded.

The same sources the patient's waiting room opens (`media_for_site`: on a
test site the generated picture and tone, on a cabin its camera, microphone
and speaker). Each test runs for a few seconds or until stopped:

- **camera**: each picture is handed to `on_frame` (the screen paints it and
  forgets it) and dropped here; what is kept is a count and a rate;
- **microphone**: each 20 ms block becomes one level (dBFS, then the 0..1
  bar) handed to `on_level`; the block is dropped; what is kept is the peak;
- **speaker**: a 1 kHz tone at a quarter of full scale for one second.

No picture, no sound and no level curve is written anywhere: the audit row
says frames, rate, peak or a failure code.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass

import numpy as np

from app.call.audio import BLOCK, RATE, SILENCE_DBFS, AudioSink, AudioSource, Pcm, rms_dbfs
from app.call.errors import DeviceUnavailable
from app.call.video import FrameSource, Image
from app.controller.call_launcher import CallMedia, level_of, media_for_site

__all__ = [
    "CallMedia",
    "MediaTest",
    "media_for_site",
    "play_tone",
    "preview_camera",
    "listen_microphone",
    "tone_blocks",
]

TONE_HZ = 1000.0
TONE_AMPLITUDE = 0.25


@dataclass(frozen=True, slots=True)
class MediaTest:
    """What a media test leaves: figures and a code, never a picture or a sound."""

    device: str  # "camera", "microphone", "speaker"
    ok: bool
    seconds: float
    frames: int = 0  # camera: pictures shown
    fps: float | None = None  # camera
    peak_dbfs: float | None = None  # microphone
    failure: str | None = None  # app.call.errors.CheckFailureReason, or "no-frames"/"silent"

    def detail(self) -> str:
        parts = [f"seconds={self.seconds:.1f}"]
        if self.device == "camera":
            parts += [f"frames={self.frames}", f"fps={self.fps or 0:.1f}"]
        if self.peak_dbfs is not None:
            parts.append(f"peak={self.peak_dbfs:.0f}dBFS")
        if self.failure is not None:
            parts.append(f"failure={self.failure}")
        return " ".join(parts)


async def _until(stop: asyncio.Event | None, seconds: float) -> None:
    if stop is None:
        await asyncio.sleep(seconds)
    else:
        try:
            await asyncio.wait_for(stop.wait(), seconds)
        except TimeoutError:
            pass


async def _run_for(
    work: Callable[[], Coroutine[object, object, None]],
    stop: asyncio.Event | None,
    seconds: float,
) -> float:
    """Run `work` (a loop that never ends by itself) until `seconds` pass or `stop` is set."""
    started = time.monotonic()
    task = asyncio.ensure_future(work())
    waiter = asyncio.ensure_future(_until(stop, seconds))
    try:
        await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for t in (task, waiter):
            t.cancel()
        await asyncio.gather(task, waiter, return_exceptions=True)
    failed = task.exception() if task.done() and not task.cancelled() else None
    if failed is not None:
        raise failed  # the device stopped answering mid-test
    return time.monotonic() - started


async def preview_camera(
    source: FrameSource,
    on_frame: Callable[[Image], None],
    *,
    seconds: float,
    stop: asyncio.Event | None = None,
    every: int = 3,
) -> MediaTest:
    """Pictures to `on_frame` (one in `every`) until `seconds` or `stop`; none kept."""
    frames = 0

    async def loop() -> None:
        nonlocal frames
        while True:
            image = await source.read()
            frames += 1
            if frames % every == 1 or every == 1:
                on_frame(image)
            del image  # handed over, not kept

    try:
        await asyncio.wait_for(source.open(), 5.0)
        elapsed = await _run_for(loop, stop, seconds)
    except DeviceUnavailable as exc:
        return MediaTest("camera", False, 0.0, frames, failure=str(exc.reason))
    except TimeoutError:
        return MediaTest("camera", False, 0.0, frames, failure="camera-unavailable")
    finally:
        await source.close()
    fps = frames / elapsed if elapsed > 0 else None
    if frames == 0:
        return MediaTest("camera", False, elapsed, 0, fps, failure="no-frames")
    return MediaTest("camera", True, elapsed, frames, fps)


async def listen_microphone(
    source: AudioSource,
    on_level: Callable[[float], None],
    *,
    seconds: float,
    stop: asyncio.Event | None = None,
    floor_dbfs: float = -60.0,
) -> MediaTest:
    """Each block's level (0..1) to `on_level` until `seconds` or `stop`; the peak is kept."""
    peak = SILENCE_DBFS

    async def loop() -> None:
        nonlocal peak
        while True:
            block = await source.read()
            level = rms_dbfs(block)
            del block  # measured, not kept
            peak = max(peak, level)
            on_level(level_of(level))

    try:
        await asyncio.wait_for(source.open(), 5.0)
        elapsed = await _run_for(loop, stop, seconds)
    except DeviceUnavailable as exc:
        return MediaTest("microphone", False, 0.0, failure=str(exc.reason))
    except TimeoutError:
        return MediaTest("microphone", False, 0.0, failure="microphone-unavailable")
    finally:
        await source.close()
    if peak < floor_dbfs:
        return MediaTest("microphone", False, elapsed, peak_dbfs=peak, failure="silent")
    return MediaTest("microphone", True, elapsed, peak_dbfs=peak)


def tone_blocks(seconds: float, frequency: float = TONE_HZ) -> list[Pcm]:
    """A sine tone in 20 ms blocks, faded in and out over 10 ms (no click)."""
    total = int(RATE * seconds) // BLOCK * BLOCK
    t = np.arange(total, dtype=np.float64)
    wave = np.sin(2 * math.pi * frequency * t / RATE) * TONE_AMPLITUDE * 32767
    ramp = min(total // 2, RATE // 100)
    if ramp:
        fade = np.linspace(0.0, 1.0, ramp)
        wave[:ramp] *= fade
        wave[total - ramp :] *= fade[::-1]
    pcm = wave.astype(np.int16)
    return [pcm[i : i + BLOCK] for i in range(0, total, BLOCK)]


async def play_tone(sink: AudioSink, *, seconds: float = 1.0) -> MediaTest:
    """A short tone on the speaker, paced at real time; the technician listens."""
    started = time.monotonic()
    try:
        await asyncio.wait_for(sink.open(), 5.0)
        next_at = time.monotonic()
        for block in tone_blocks(seconds):
            sink.write(block)
            next_at += BLOCK / RATE
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))
        await asyncio.sleep(0.1)  # let the last blocks leave the buffer
    except DeviceUnavailable as exc:
        return MediaTest("speaker", False, 0.0, failure=str(exc.reason))
    except TimeoutError:
        return MediaTest("speaker", False, 0.0, failure="speaker-unavailable")
    finally:
        await sink.close()
    return MediaTest("speaker", True, time.monotonic() - started)
