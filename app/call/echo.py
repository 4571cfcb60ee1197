"""Acoustic echo cancellation: WebRTC's AEC3 on the microphone, fed with what the speaker plays.

aiortc does no echo cancellation. In a cabin the loudspeaker and the
microphone share a small closed room, so without it the doctor hears her own
voice come back. The canceller here is the one browsers run (AEC3 of the
WebRTC audio processing module, through the `pywebrtc-audio` binding; the
choice and its measures are in docs/call-audio.md).

How the two streams meet: the speaker reports every block it actually plays
(`PlaybackTapped.add_playback_tap`: `SoundDeviceSpeaker` from PortAudio's
callback, so after its jitter buffer) into a `FarEndReference`, a bounded
thread-safe queue of samples. The microphone track takes from it as many
samples as each microphone block holds, so both streams advance at the sound
card's pace and the reference lags the echo only by the card's and the
room's delay, which AEC3's delay estimator finds by itself. The queue drops
its oldest audio past `max_ms`, as the microphone's own queue does while no
peer pulls blocks (a reconnection), so the two stay roughly aligned.

Cost: one 20 ms block at 48 kHz takes about 0.3 ms on one core of the cabin
class of machine (measured by tests/bench/test_bench_echo.py), so it runs on
the asyncio loop inside `MicrophoneTrack.recv`; the binding releases the GIL.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from app.call.audio import RATE, AudioSink, Pcm, PlaybackTapped

log = logging.getLogger(__name__)

REFERENCE_MAX_MS = 500  # as much as SoundDeviceMicrophone's queue holds (25 blocks of 20 ms)


class BlockProcessor(Protocol):
    """The shape of the WebRTC binding's processor: near (microphone) and far (speaker) in, near out."""

    def process(self, near: Pcm, far: Pcm) -> Pcm: ...


class FarEndReference:
    """What the speaker played, oldest first, until the microphone takes it; thread-safe, bounded."""

    def __init__(self, max_ms: int = REFERENCE_MAX_MS) -> None:
        self._max = RATE * max_ms // 1000
        self._lock = threading.Lock()
        self._blocks: collections.deque[Pcm] = collections.deque()
        self._size = 0
        self.dropped_samples = 0

    def played(self, pcm: Pcm) -> None:
        """A block the speaker played (any thread)."""
        block = np.asarray(pcm, dtype=np.int16).reshape(-1).copy()
        with self._lock:
            self._blocks.append(block)
            self._size += block.size
            while self._size > self._max:
                excess = self._size - self._max
                first = self._blocks[0]
                if first.size <= excess:
                    self._blocks.popleft()
                    self._size -= first.size
                    self.dropped_samples += first.size
                else:
                    self._blocks[0] = first[excess:]
                    self._size -= excess
                    self.dropped_samples += excess

    def take(self, n: int) -> Pcm:
        """The next `n` samples played; silence where the speaker played nothing."""
        out = np.zeros(n, dtype=np.int16)
        filled = 0
        with self._lock:
            while filled < n and self._blocks:
                first = self._blocks[0]
                count = min(n - filled, first.size)
                out[filled : filled + count] = first[:count]
                filled += count
                if count == first.size:
                    self._blocks.popleft()
                else:
                    self._blocks[0] = first[count:]
                self._size -= count
        return out

    @property
    def pending_ms(self) -> float:
        with self._lock:
            return 1000.0 * self._size / RATE


@dataclass
class EchoCost:
    """Time spent cancelling, to show it stays far below the 20 ms a block lasts."""

    blocks: int = 0
    total_s: float = 0.0
    max_s: float = 0.0

    @property
    def mean_ms(self) -> float:
        return 1000.0 * self.total_s / self.blocks if self.blocks else 0.0


class EchoCanceller:
    """Takes each microphone block out of the speaker's echo (see the module's docstring)."""

    def __init__(self, processor: BlockProcessor, reference: FarEndReference) -> None:
        self._processor = processor
        self.reference = reference
        self.cost = EchoCost()

    def process(self, near: Pcm) -> Pcm:
        far = self.reference.take(near.size)
        started = time.perf_counter()
        out = self._processor.process(np.ascontiguousarray(near, dtype=np.int16), far)
        spent = time.perf_counter() - started
        self.cost.blocks += 1
        self.cost.total_s += spent
        self.cost.max_s = max(self.cost.max_s, spent)
        return out


def webrtc_processor() -> BlockProcessor:
    """WebRTC's audio processing module with AEC3 on (and the high-pass filter it brings).

    Noise suppression and gain control stay off: the doctor hears the room as
    it is, and a stethoscope would go through its own track untouched. Raises
    ImportError where the binding is not installed.
    """
    from pywebrtc_audio import AudioProcessor

    processor: BlockProcessor = AudioProcessor(
        sample_rate=RATE, num_channels=1, echo_cancellation=True
    )
    return processor


def echo_canceller_for(speaker: AudioSink) -> EchoCanceller | None:
    """A canceller fed with what `speaker` plays, or None (logged) where that cannot be.

    None when the speaker cannot report what it plays (a sink with no playback
    tap) or when the WebRTC binding is missing: the call then goes on with
    the raw microphone, as before, rather than not at all.
    """
    if not isinstance(speaker, PlaybackTapped):
        log.info("Echo cancellation is off: the speaker does not report what it plays.")
        return None
    try:
        processor = webrtc_processor()
    except ImportError:
        log.warning("Echo cancellation is off: the WebRTC audio processing module is missing.")
        return None
    reference = FarEndReference()
    speaker.add_playback_tap(reference.played)
    return EchoCanceller(processor, reference)
