"""The stethoscope's sound through the codec: the heart's low band survives, measured.

aiortc's Opus encoder runs libopus in the "voip" mode, whose speech high-pass
(about 60 Hz and up) eats the lowest heart sounds; the stethoscope's track
uses the "audio" mode. Measured here on a 30/45/120 Hz mix through encoder
and decoder, without a network: the two modes side by side, so the test
fails if a new aiortc or libopus changes either.
"""

from __future__ import annotations

import fractions
from typing import Any

import numpy as np
from aiortc.codecs.opus import OpusDecoder, OpusEncoder
from aiortc.jitterbuffer import JitterFrame
from av import AudioFrame

from app.call.audio import BLOCK, RATE
from app.call.exam import ExamOpusEncoder, ear_canal, encode_jpeg, heartbeat, spectrum_db


def through_opus(encoder: OpusEncoder, pcm: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    decoder = OpusDecoder()
    out = []
    for i in range(0, pcm.size - BLOCK + 1, BLOCK):
        frame = AudioFrame.from_ndarray(
            pcm[i : i + BLOCK].reshape(1, -1), format="s16", layout="mono"
        )
        frame.sample_rate, frame.pts, frame.time_base = RATE, i, fractions.Fraction(1, RATE)
        packets, timestamp = encoder.encode(frame)
        for packet in packets:
            for decoded in decoder.decode(JitterFrame(data=packet, timestamp=timestamp)):
                assert isinstance(decoded, AudioFrame)
                out.append(decoded.to_ndarray().reshape(-1, 2)[:, 0])
    return np.concatenate(out)[RATE // 2 :]  # past the encoder's start-up


def levels(pcm: np.ndarray[Any, Any], frequencies: tuple[float, ...]) -> list[float]:
    hz, db = spectrum_db(pcm)
    return [float(db[np.argmin(np.abs(hz - f))]) for f in frequencies]


def test_the_audio_mode_keeps_30_and_45_hz_where_voip_cuts_them() -> None:
    t = np.arange(RATE * 2) / RATE
    mix = np.zeros_like(t)
    for f in (30.0, 45.0, 120.0):
        mix += np.sin(2 * np.pi * f * t) * 0.15 * 32767
    pcm = mix.astype(np.int16)
    source = levels(pcm, (30, 45, 120))
    voip = levels(through_opus(OpusEncoder(), pcm), (30, 45, 120))
    audio = levels(through_opus(ExamOpusEncoder(), pcm), (30, 45, 120))
    loss_voip = [round(s - v, 1) for s, v in zip(source, voip, strict=True)]
    loss_audio = [round(s - a, 1) for s, a in zip(source, audio, strict=True)]
    print(f"dB lost at 30/45/120 Hz: voip {loss_voip}, audio {loss_audio}")
    # Both relative to 120 Hz (which neither mode touches): what the high-pass takes.
    assert (voip[2] - voip[0]) - (source[2] - source[0]) > 8  # voip: 30 Hz cut
    assert abs((audio[2] - audio[0]) - (source[2] - source[0])) < 2  # audio: kept flat
    assert abs((audio[2] - audio[1]) - (source[2] - source[1])) < 2


def test_the_simulated_heartbeat_sits_in_the_heart_sound_band() -> None:
    beat = heartbeat(4.0, bpm=60)
    hz, db = spectrum_db(beat)
    heart = db[(hz >= 35) & (hz <= 130)].max()
    above = db[(hz >= 300) & (hz <= 4000)].max()
    assert heart - above > 40
    # Two sounds a beat (lub, dub), one beat a second: 8 bursts in 4 s.
    envelope = np.abs(beat.astype(np.float64)).reshape(-1, 480).max(axis=1) > 2000
    onsets = int(np.sum(envelope[1:] & ~envelope[:-1]) + envelope[0])
    assert onsets == 8, onsets


def test_the_simulated_ear_canal_is_a_picture_a_still_can_keep() -> None:
    picture = ear_canal()
    assert picture.shape == (480, 640, 3)
    b, g, r = (int(v) for v in picture[240, 256])
    assert min(b, g, r) > 150  # the eardrum in the middle
    jpeg = encode_jpeg(picture)
    assert jpeg[:3] == b"\xff\xd8\xff" and len(jpeg) < 200_000
