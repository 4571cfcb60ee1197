"""The microphone and speaker seams and the aiortc audio track.

Audio inside the kiosk is 48 kHz, mono, int16, in 20 ms blocks (960 samples),
which is what Opus wants, so no resampling happens on the way out. The
sounddevice streams call back on PortAudio's thread; blocks cross to the
asyncio loop through call_soon_threadsafe, and the buffers between them are
bounded (old audio is dropped, never queued without end).

Echo: the speakers report what they play (`PlaybackTapped`) and the
microphone track runs each block through an echo canceller fed with it
(app/call/echo.py, docs/call-audio.md).
"""

from __future__ import annotations

import asyncio
import collections
import fractions
import math
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

import numpy as np
from aiortc import MediaStreamTrack
from av import AudioFrame

from app.call.errors import CheckFailureReason, DeviceUnavailable

RATE = 48_000
BLOCK = 960  # 20 ms
Pcm = np.ndarray[Any, np.dtype[np.int16]]
SILENCE_DBFS = -120.0


def rms_dbfs(pcm: Pcm) -> float:
    """Level of a block in dB relative to full scale; digital silence is -120."""
    if pcm.size == 0:
        return SILENCE_DBFS
    rms = math.sqrt(float(np.mean(np.square(pcm.astype(np.float64)))))
    if rms <= 0:
        return SILENCE_DBFS
    return max(SILENCE_DBFS, 20 * math.log10(rms / 32768.0))


class AudioSource(Protocol):
    async def open(self) -> None: ...

    async def read(self) -> Pcm:
        """The next 20 ms block, in real time; raises DeviceUnavailable."""
        ...

    async def close(self) -> None: ...


class AudioSink(Protocol):
    async def open(self) -> None: ...

    def write(self, pcm: Pcm) -> None:
        """Play a block of 48 kHz mono int16; never blocks."""
        ...

    async def close(self) -> None: ...


PlaybackTap = Callable[[Pcm], None]


@runtime_checkable
class PlaybackTapped(Protocol):
    """A speaker that reports every block it plays, as it plays it: the echo canceller's reference."""

    def add_playback_tap(self, tap: PlaybackTap) -> None:
        """Call `tap` with each block played, on any thread, until the speaker closes."""
        ...


class BlockFilter(Protocol):
    """What the microphone track runs each block through (the echo canceller)."""

    def process(self, near: Pcm) -> Pcm: ...


class SoundDeviceMicrophone:
    """The cabin microphone through sounddevice (PortAudio, ALSA)."""

    def __init__(self, device: int | str | None = None, *, timeout_s: float = 2.0) -> None:
        self._device = device
        self._timeout = timeout_s
        self._stream: Any = None
        self._queue: asyncio.Queue[Pcm] = asyncio.Queue(maxsize=25)

    async def open(self) -> None:
        import sounddevice as sd

        loop = asyncio.get_running_loop()
        queue = self._queue

        def push(block: Pcm) -> None:
            if queue.full():
                queue.get_nowait()
            queue.put_nowait(block)

        pace = {"start": 0.0, "frames": 0}

        def callback(indata: Any, frames: int, time_info: Any, status: Any) -> None:
            # A device that runs ahead of real time (ALSA's file plugin on a
            # null slave) is held back here; a real microphone never is.
            now = time.monotonic()
            if pace["frames"] == 0:
                pace["start"] = now
            pace["frames"] += frames
            ahead = pace["start"] + pace["frames"] / RATE - now
            if ahead > 0.04:
                time.sleep(ahead - 0.02)
            loop.call_soon_threadsafe(push, indata[:, 0].copy())

        try:
            self._stream = sd.InputStream(
                samplerate=RATE,
                channels=1,
                dtype="int16",
                blocksize=BLOCK,
                device=self._device,
                callback=callback,
            )
            self._stream.start()
        except Exception as exc:  # PortAudioError, ValueError: no such device
            raise DeviceUnavailable(
                CheckFailureReason.MICROPHONE_UNAVAILABLE,
                f"The microphone cannot be opened ({type(exc).__name__}).",
            ) from None

    async def read(self) -> Pcm:
        try:
            return await asyncio.wait_for(self._queue.get(), self._timeout)
        except TimeoutError:
            raise DeviceUnavailable(
                CheckFailureReason.MICROPHONE_UNAVAILABLE,
                f"The microphone gave no sound for {self._timeout:g} seconds.",
            ) from None

    async def close(self) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            stream.stop()
            stream.close()


class ToneMicrophone:
    """A generated tone at microphone pace, for the demo and where ALSA is absent."""

    def __init__(self, frequency: float = 440.0, amplitude: float = 0.2) -> None:
        self._step = 2 * math.pi * frequency / RATE
        self._amplitude = amplitude * 32767
        self._n = 0
        self._next = 0.0

    async def open(self) -> None:
        self._next = time.monotonic()

    async def read(self) -> Pcm:
        delay = self._next - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        self._next = max(self._next + BLOCK / RATE, time.monotonic() - 0.5)
        t = np.arange(self._n, self._n + BLOCK, dtype=np.float64)
        self._n += BLOCK
        return (np.sin(t * self._step) * self._amplitude).astype(np.int16)

    async def close(self) -> None:
        return None


class SoundDeviceSpeaker:
    """The cabin speaker through sounddevice, fed from a bounded jitter buffer."""

    def __init__(self, device: int | str | None = None, *, max_buffer_ms: int = 300) -> None:
        self._device = device
        self._stream: Any = None
        self._lock = threading.Lock()
        self._buffer: collections.deque[Pcm] = collections.deque(maxlen=max_buffer_ms // 20)
        self._pending = np.zeros(0, dtype=np.int16)
        self._taps: list[PlaybackTap] = []

    def add_playback_tap(self, tap: PlaybackTap) -> None:
        self._taps.append(tap)

    async def open(self) -> None:
        import sounddevice as sd

        def callback(outdata: Any, frames: int, time_info: Any, status: Any) -> None:
            with self._lock:
                data = self._pending
                while data.size < frames and self._buffer:
                    data = np.concatenate([data, self._buffer.popleft()])
                self._pending = data[frames:]
            out = np.zeros(frames, dtype=np.int16)
            out[: min(frames, data.size)] = data[:frames]
            outdata[:, 0] = out
            for tap in self._taps:
                tap(out)

        try:
            self._stream = sd.OutputStream(
                samplerate=RATE,
                channels=1,
                dtype="int16",
                blocksize=BLOCK,
                device=self._device,
                callback=callback,
            )
            self._stream.start()
        except Exception as exc:
            raise DeviceUnavailable(
                CheckFailureReason.SPEAKER_UNAVAILABLE,
                f"The speaker cannot be opened ({type(exc).__name__}).",
            ) from None

    def write(self, pcm: Pcm) -> None:
        with self._lock:
            self._buffer.append(pcm)

    async def close(self) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            stream.stop()
            stream.close()
        self._taps.clear()


class EnergyMeterSink:
    """A speaker that measures what it would play: tests, and the remote level meter."""

    def __init__(self) -> None:
        self.samples = 0
        self.loud_blocks = 0
        self.peak_dbfs = SILENCE_DBFS
        self._sum_squares = 0.0
        self.opened = False
        self._taps: list[PlaybackTap] = []

    def add_playback_tap(self, tap: PlaybackTap) -> None:
        self._taps.append(tap)

    async def open(self) -> None:
        self.opened = True

    def write(self, pcm: Pcm) -> None:
        for tap in self._taps:
            tap(pcm)
        self.samples += pcm.size
        self._sum_squares += float(np.sum(np.square(pcm.astype(np.float64))))
        level = rms_dbfs(pcm)
        self.peak_dbfs = max(self.peak_dbfs, level)
        if level > -50.0:
            self.loud_blocks += 1

    @property
    def rms_dbfs(self) -> float:
        if self.samples == 0 or self._sum_squares <= 0:
            return SILENCE_DBFS
        return 20 * math.log10(math.sqrt(self._sum_squares / self.samples) / 32768.0)

    async def close(self) -> None:
        self.opened = False
        self._taps.clear()


class MicrophoneTrack(MediaStreamTrack):
    """Blocks from an AudioSource as Opus-ready frames, echo cancelled; silence while muted.

    `echo` (app/call/echo.py) sees every block, muted or not, so it keeps
    adapting and keeps taking the speaker's reference at the microphone's pace.
    """

    kind = "audio"

    def __init__(self, source: AudioSource, *, echo: BlockFilter | None = None) -> None:
        super().__init__()
        self._source = source
        self.echo = echo
        self.muted = False
        self.level_dbfs = SILENCE_DBFS
        self.failure: DeviceUnavailable | None = None
        self._pts = 0
        self._start: float | None = None
        self._silence = np.zeros(BLOCK, dtype=np.int16)

    async def recv(self) -> AudioFrame:
        if self._start is None:
            self._start = time.monotonic()
        pcm = self._silence
        if self.failure is None:
            try:
                pcm = await self._source.read()
            except DeviceUnavailable as exc:
                self.failure = exc
        # A source that runs ahead of real time (a file) is held back here.
        due = self._start + self._pts / RATE
        delay = due - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        elif self.failure is not None and delay < -1.0:
            self._start = time.monotonic() - self._pts / RATE
        if pcm.size != BLOCK:
            pcm = np.resize(pcm, BLOCK).astype(np.int16)
        if self.echo is not None:
            pcm = self.echo.process(pcm)
        self.level_dbfs = rms_dbfs(pcm)
        if self.muted:
            pcm = self._silence
        frame = AudioFrame.from_ndarray(pcm.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = RATE
        frame.pts = self._pts
        frame.time_base = fractions.Fraction(1, RATE)
        self._pts += BLOCK
        return frame

    def resume(self) -> None:
        """Pace from now after a pause (no peer pulled blocks): no burst of old audio."""
        if self._start is not None:
            self._start = time.monotonic() - self._pts / RATE


def to_mono_int16(frame: AudioFrame) -> Pcm:
    """A decoded remote frame (Opus gives packed s16 stereo) as mono int16."""
    data = frame.to_ndarray()
    channels = len(frame.layout.channels)
    if frame.format.is_planar:
        mono = data.mean(axis=0) if channels > 1 else data[0]
    else:
        flat = data.reshape(-1)
        mono = flat.reshape(-1, channels).mean(axis=1) if channels > 1 else flat
    if mono.dtype != np.int16:
        if np.issubdtype(mono.dtype, np.floating) and frame.format.name.startswith("flt"):
            mono = mono * 32767
        mono = np.clip(mono, -32768, 32767).astype(np.int16)
    result: Pcm = mono
    return result
