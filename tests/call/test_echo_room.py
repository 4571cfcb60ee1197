"""A simulated cabin for the echo tests: speech, a room between speaker and microphone, and its checks.

The speech is real synthetic speech (espeak-ng, resampled to 48 kHz by sox):
the doctor's voice as the far end, the patient's as the near end. The room is
linear: the speaker's output reaches the microphone after `delay_ms` (the
sound card's buffers plus the air), attenuated by `echo_gain`, followed by a
reverberant tail (exponentially decaying noise reaching -60 dB after
`rt60_s`), plus the microphone's own noise floor.

`RoomSpeaker` and `RoomMicrophone` run it block by block behind the kiosk's
audio seams: the speaker queues what the call writes, as SoundDeviceSpeaker
does, and plays one 20 ms block each time the microphone records one (one
sound card, one clock), reporting it to its playback taps; the microphone
returns the room's echo of everything played so far plus the patient's
speech. The tests below check the room itself, so a wrong echo cannot make
the canceller look good.
"""

from __future__ import annotations

import collections
import functools
import subprocess
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest

from app.call.audio import BLOCK, RATE, Pcm
from tests.call.conftest import require_program

Signal = np.ndarray[tuple[int], np.dtype[np.float64]]
Mask = np.ndarray[tuple[int], np.dtype[np.bool_]]

DOCTOR = (
    "Bonjour madame, je suis le docteur Martin. Depuis quand avez-vous de la fièvre ? "
    "Toussez-vous la nuit ? Respirez lentement, s'il vous plaît, je vous écoute."
)
PATIENT = (
    "J'ai de la fièvre depuis trois jours, docteur, et je tousse beaucoup le soir, "
    "surtout quand je suis allongée."
)


def require_speech_tools() -> None:
    """The call tests never skip (tests/call/conftest.py): a missing tool fails, saying which."""
    require_program("espeak-ng", "espeak-ng")
    require_program("sox", "sox")


@functools.cache
def speech(text: str, voice: str, pitch: int) -> Signal:
    """`text` spoken by espeak-ng, as 48 kHz mono floats in [-1, 1]."""
    wav = subprocess.run(
        ["espeak-ng", "-v", voice, "-p", str(pitch), "-s", "150", "--stdout", text],
        capture_output=True,
        check=True,
    ).stdout
    raw = subprocess.run(
        ["sox", "-t", "wav", "-", "-t", "raw", "-r", str(RATE), "-e", "signed", "-b", "16"]
        + ["-c", "1", "-"],
        input=wav,
        capture_output=True,
        check=True,
    ).stdout
    samples: Signal = np.frombuffer(raw, dtype=np.int16).astype(np.float64) / 32768.0
    return samples


def doctor_speech() -> Signal:
    return speech(DOCTOR, "fr", 40)


def patient_speech() -> Signal:
    return speech(PATIENT, "fr+f3", 70)


def to_pcm(signal: Signal) -> Pcm:
    pcm: Pcm = np.clip(np.round(signal * 32767.0), -32768, 32767).astype(np.int16)
    return pcm


@dataclass(frozen=True)
class Room:
    delay_ms: float = 50.0
    echo_gain: float = 0.5  # the direct path, -6 dB: a loudspeaker close to the microphone
    rt60_s: float = 0.3  # a small furnished cabin
    tail_s: float = 0.25
    tail_level: float = 0.5  # energy of the reverberant tail relative to the direct path
    noise_dbfs: float = -65.0
    seed: int = 17

    def impulse_response(self) -> Signal:
        rng = np.random.default_rng(self.seed)
        n = int(self.tail_s * RATE)
        t = np.arange(n) / RATE
        tail = rng.standard_normal(n) * np.exp(-6.9 * t / self.rt60_s)
        tail[: int(0.002 * RATE)] = 0.0  # the first reflection 2 ms after the direct sound
        tail *= np.sqrt(self.tail_level / float(np.sum(tail**2)))
        tail[0] = 1.0
        response: Signal = self.echo_gain * np.concatenate(
            [np.zeros(int(self.delay_ms * RATE / 1000)), tail]
        )
        return response

    def noise(self, n: int) -> Signal:
        rng = np.random.default_rng(self.seed + 1)
        noise: Signal = rng.standard_normal(n) * 10 ** (self.noise_dbfs / 20)
        return noise


class RoomSpeaker:
    """An AudioSink with a jitter queue, played one block at a time by the room's clock."""

    def __init__(self, max_buffer_ms: int = 300) -> None:
        self._queue: collections.deque[Pcm] = collections.deque(maxlen=max_buffer_ms // 20)
        self._pending = np.zeros(0, dtype=np.int16)
        self._taps: list[Callable[[Pcm], None]] = []
        self.opened = False

    def add_playback_tap(self, tap: Callable[[Pcm], None]) -> None:
        self._taps.append(tap)

    async def open(self) -> None:
        self.opened = True

    def write(self, pcm: Pcm) -> None:
        self._queue.append(pcm)

    def play_block(self) -> Pcm:
        data = self._pending
        while data.size < BLOCK and self._queue:
            data = np.concatenate([data, self._queue.popleft()])
        out = np.zeros(BLOCK, dtype=np.int16)
        out[: min(BLOCK, data.size)] = data[:BLOCK]
        self._pending = data[BLOCK:]
        for tap in self._taps:
            tap(out)
        return out

    async def close(self) -> None:
        self.opened = False
        self._taps.clear()


class RoomMicrophone:
    """An AudioSource: the room's echo of what the speaker plays, plus the patient's speech.

    It keeps what it recorded (`recorded`) and, apart, the echo and the
    patient's speech as they reached it (`echo_part`, `near_part`, without the
    microphone's noise), so a test
    can measure what the canceller took away and what it kept.
    """

    def __init__(self, room: Room, speaker: RoomSpeaker, near: Signal) -> None:
        self._speaker = speaker
        self._response = room.impulse_response()
        self._near = near
        self._noise = room.noise(len(near) + BLOCK)
        self._history = np.zeros(len(self._response) + BLOCK - 1)
        self._size = 2 ** int(np.ceil(np.log2(len(self._history) + len(self._response))))
        self._response_fft = np.fft.rfft(self._response, self._size)
        self._t = 0
        self.recorded: list[Pcm] = []
        self.echo_part: list[Signal] = []
        self.near_part: list[Signal] = []
        self.played: list[Pcm] = []

    async def open(self) -> None:
        return None

    def record_block(self) -> Pcm:
        played = self._speaker.play_block()
        self.played.append(played)
        self._history = np.concatenate([self._history[BLOCK:], played / 32768.0])
        full = np.fft.irfft(np.fft.rfft(self._history, self._size) * self._response_fft)
        start = len(self._history) - BLOCK
        echo: Signal = full[start : start + BLOCK]
        near = np.zeros(BLOCK)
        piece = self._near[self._t : self._t + BLOCK]
        near[: piece.size] = piece
        noise = self._noise[self._t : self._t + BLOCK]
        self._t += BLOCK
        block = to_pcm(echo + near + noise)
        self.recorded.append(block)
        self.echo_part.append(echo)
        self.near_part.append(near)
        return block

    async def read(self) -> Pcm:
        return self.record_block()

    async def close(self) -> None:
        return None


def place(length_s: float, *pieces: tuple[float, Signal]) -> Signal:
    """A signal of `length_s` seconds holding each piece at its start time (cut at the end)."""
    out = np.zeros(int(length_s * RATE))
    for start_s, piece in pieces:
        start = int(start_s * RATE)
        chunk = piece[: max(0, out.size - start)]
        out[start : start + chunk.size] += chunk
    return out


@dataclass(frozen=True)
class EchoFigures:
    """What a run through the room measured (see `measure`)."""

    erle_db: float  # the doctor alone, after `settle_s`: echo at the microphone over what is sent
    erle_after_double_talk_db: float  # the same on the doctor's second turn
    double_talk_correlation: float  # what is sent vs the patient's clean speech, at its best lag
    double_talk_near_db: float  # the patient's speech in what is sent, relative to clean
    near_alone_kept_db: float  # the patient alone: what is sent over what reached the microphone
    mean_ms: float  # cancelling cost per 20 ms block
    p99_ms: float
    max_ms: float

    def row(self, label: str) -> str:
        return (
            f"{label:<24} ERLE {self.erle_db:5.1f} dB, after double talk "
            f"{self.erle_after_double_talk_db:5.1f} dB | double talk: patient's speech "
            f"correlation {self.double_talk_correlation:.2f}, level {self.double_talk_near_db:+.1f} dB"
            f" | patient alone {self.near_alone_kept_db:+.1f} dB | "
            f"{self.mean_ms:.2f} ms/block (p99 {self.p99_ms:.2f}, max {self.max_ms:.1f})"
        )


ACTIVE_DBFS = -70.0  # a talker's block: above this, well under any syllable
GUARD_BLOCKS = 5  # 100 ms either side of a talker's blocks still counts as talking
MAX_LAG = int(0.030 * RATE)  # the canceller delays its output by a few milliseconds


def _talking(blocks: Signal) -> Mask:
    """Blocks where a talker is heard, widened by GUARD_BLOCKS (speech fades in and out)."""
    loud = 10 * np.log10(np.mean(blocks**2, axis=1) + 1e-15) > ACTIVE_DBFS
    kernel = np.ones(2 * GUARD_BLOCKS + 1)
    widened: Mask = np.convolve(loud.astype(float), kernel, mode="same") > 0
    return widened


def _best_lag(sent: Signal, near: Signal) -> int:
    def score(lag: int) -> float:
        return float(np.dot(sent[lag:], near[: near.size - lag]))

    coarse = max(range(0, MAX_LAG, 8), key=score)
    return max(range(max(0, coarse - 8), min(MAX_LAG, coarse + 8)), key=score)


def measure(
    microphone: RoomMicrophone,
    sent: list[Pcm],
    clean_near: list[Pcm],
    *,
    second_turn_s: float,
    settle_s: float = 2.0,
    costs_s: list[float] | None = None,
) -> EchoFigures:
    """ERLE and the patient's speech in what the kiosk sent, against the room's parts.

    `clean_near` is the patient's speech as it reached the microphone, passed
    through the same processing with no far end (a fresh canceller, or none
    for the floor): what the doctor would hear with no echo at all, so the
    double-talk figures count only what the echo and its cancelling cost.
    """
    n = min(len(sent), len(microphone.recorded))
    recorded = np.stack(microphone.recorded[:n]).astype(np.float64) / 32768.0
    out = np.stack(sent[:n]).astype(np.float64) / 32768.0
    reference = np.stack(clean_near[:n]).astype(np.float64) / 32768.0
    echo_on = _talking(np.stack(microphone.echo_part[:n]))
    near_on = _talking(np.stack(microphone.near_part[:n]))
    t = np.arange(n) * BLOCK / RATE
    far_alone = echo_on & ~near_on & (t >= settle_s)

    def erle(mask: Mask) -> float:
        return float(10 * np.log10(np.sum(recorded[mask] ** 2) / np.sum(out[mask] ** 2)))

    # Double talk: the blocks where both talk, the output taken at the canceller's lag.
    double = np.repeat(echo_on & near_on, BLOCK)
    sent_all, near_all = out.reshape(-1), reference.reshape(-1)
    lag = _best_lag(sent_all * double, near_all * double)
    keep = double[: double.size - lag]
    s, r = sent_all[lag:][keep], near_all[: near_all.size - lag][keep]
    alone = ~echo_on & near_on
    return EchoFigures(
        erle_db=erle(far_alone & (t < second_turn_s)),
        erle_after_double_talk_db=erle(far_alone & (t >= second_turn_s)),
        double_talk_correlation=float(np.dot(s, r) / np.sqrt(np.dot(s, s) * np.dot(r, r))),
        double_talk_near_db=float(20 * np.log10(abs(np.dot(s, r) / np.dot(r, r)))),
        near_alone_kept_db=float(
            10 * np.log10(np.sum(out[alone] ** 2) / np.sum(recorded[alone] ** 2))
        ),
        mean_ms=1000 * float(np.mean(costs_s)) if costs_s else 0.0,
        p99_ms=1000 * float(np.percentile(costs_s, 99)) if costs_s else 0.0,
        max_ms=1000 * max(costs_s) if costs_s else 0.0,
    )


# ---- the room itself ------------------------------------------------------------------------


def test_the_room_delays_and_attenuates_the_speaker_as_configured() -> None:
    room = Room(delay_ms=40.0, echo_gain=0.25, noise_dbfs=-120.0)
    speaker = RoomSpeaker()
    microphone = RoomMicrophone(room, speaker, np.zeros(RATE))
    click = np.zeros(BLOCK, dtype=np.int16)
    click[0] = 16000
    speaker.write(click)
    recorded = np.concatenate([microphone.record_block() for _ in range(25)]).astype(float)
    first = int(np.argmax(np.abs(recorded) > 100))
    assert first == int(0.040 * RATE)
    assert recorded[first] == pytest.approx(16000 * 0.25, abs=2)
    tail = recorded[first + 1 :]
    assert np.sum(tail**2) == pytest.approx((16000 * 0.25) ** 2 * room.tail_level, rel=0.05)


def test_the_speaker_reports_what_it_plays_and_silence_when_starved() -> None:
    speaker = RoomSpeaker()
    heard: list[Pcm] = []
    speaker.add_playback_tap(heard.append)
    block = np.full(BLOCK, 1000, dtype=np.int16)
    speaker.write(block)
    assert np.array_equal(speaker.play_block(), block)
    assert not speaker.play_block().any()
    assert [b.tolist() for b in heard] == [block.tolist(), [0] * BLOCK]


def test_speech_is_speech_like() -> None:
    require_speech_tools()
    voice = doctor_speech()
    assert 5.0 < voice.size / RATE < 15.0
    blocks = voice[: voice.size // BLOCK * BLOCK].reshape(-1, BLOCK)
    levels = 10 * np.log10(np.mean(blocks**2, axis=1) + 1e-12)
    # Syllables and pauses: loud blocks and near-silent ones, as speech has.
    assert np.mean(levels > -30) > 0.4
    assert np.mean(levels < -50) > 0.05
