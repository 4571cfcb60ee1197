"""The call's encoders, measured on real libopus and libvpx (app/call/encoders.py).

The voice: speech from espeak-ng through aiortc's Opus encoder and through
`VoiceOpusEncoder`, then one packet in ten lost and decoded by libopus
itself — the same library PyAV encodes with, reached through ctypes because
FFmpeg's decoder has no way to ask for a packet's FEC. Without FEC a lost
packet is concealment; with it, the next packet's LBRR copy brings it back.

The video: a moving picture encoded at each rung's cap and at a far-end
estimate below it; the bytes that come out follow the target. The picture is
a smooth texture scrolling under a moving disc, which libvpx can fit into
every target used here: pure noise would pin the quantiser at aiortc's qmax
and show the content's floor, not the rate control.
"""

from __future__ import annotations

import ctypes
import fractions
import glob
import os
from collections.abc import Iterator
from typing import Any

import av
import cv2
import numpy as np
import pytest
from aiortc.codecs.opus import OpusEncoder
from aiortc.codecs.vpx import MAX_BITRATE, MIN_BITRATE, Vp8Encoder
from aiortc.mediastreams import VIDEO_CLOCK_RATE, VIDEO_TIME_BASE
from av import AudioFrame, VideoFrame
from hypothesis import given
from hypothesis import strategies as st

from app.call.audio import BLOCK, RATE, Pcm
from app.call.encoders import (
    RUNG_FLOOR_BPS,
    TOP_RUNG_BPS,
    VOICE_EXPECTED_LOSS_PCT,
    RungError,
    RungVp8Encoder,
    VoiceOpusEncoder,
    effective_bitrate,
    rung_bitrate,
)
from app.call.quality import FAIR_LOSS, VIDEO_LADDER
from tests.call.test_echo_room import doctor_speech, require_speech_tools, to_pcm

OPUS_FRAME = 960  # 20 ms at 48 kHz, aiortc's packet

# ---- the voice ------------------------------------------------------------------------------


def test_the_libopus_options_are_the_installed_encoders_own() -> None:
    """FFmpeg ignores an option it does not know: a misspelt one would silently do nothing."""
    context = av.CodecContext.create("libopus", "w")
    names = {option.name for option in context.supported_options.private}
    assert {"application", "fec", "packet_loss"} <= names
    assert dict(VoiceOpusEncoder().codec.options) == {
        "application": "voip",
        "fec": "1",
        "packet_loss": str(VOICE_EXPECTED_LOSS_PCT),
    }
    assert VOICE_EXPECTED_LOSS_PCT == round(FAIR_LOSS * 100)


class Libopus:
    """The libopus PyAV ships (av.libs), for what FFmpeg does not expose: LBRR and FEC decoding."""

    def __init__(self) -> None:
        libs = os.path.join(os.path.dirname(av.__file__), os.pardir, "av.libs")
        found = sorted(glob.glob(os.path.join(libs, "libopus*.so*")))
        assert found, f"PyAV's wheel no longer ships libopus in {os.path.normpath(libs)}"
        lib = ctypes.CDLL(found[0])
        lib.opus_packet_has_lbrr.argtypes = [ctypes.c_char_p, ctypes.c_int32]
        lib.opus_decoder_create.restype = ctypes.c_void_p
        lib.opus_decoder_create.argtypes = [
            ctypes.c_int32,
            ctypes.c_int,
            ctypes.POINTER(ctypes.c_int),
        ]
        lib.opus_decode.argtypes = [
            ctypes.c_void_p,
            ctypes.c_char_p,
            ctypes.c_int32,
            ctypes.POINTER(ctypes.c_int16),
            ctypes.c_int,
            ctypes.c_int,
        ]
        lib.opus_decoder_destroy.argtypes = [ctypes.c_void_p]
        self.lib = lib

    def has_lbrr(self, packet: bytes) -> bool:
        result = self.lib.opus_packet_has_lbrr(packet, len(packet))
        assert result >= 0, f"libopus could not parse a packet ({result})"
        return bool(result)

    def decode(self, packets: list[bytes], lost: set[int], *, fec: bool) -> list[Pcm]:
        """Mono 20 ms blocks; a lost packet from its successor's FEC (`fec`) or concealed."""
        error = ctypes.c_int()
        decoder = self.lib.opus_decoder_create(RATE, 1, ctypes.byref(error))
        assert error.value == 0 and decoder
        block = (ctypes.c_int16 * OPUS_FRAME)()
        out: list[Pcm] = []
        try:
            for i, packet in enumerate(packets):
                if i not in lost:
                    n = self.lib.opus_decode(decoder, packet, len(packet), block, OPUS_FRAME, 0)
                elif fec and i + 1 < len(packets) and i + 1 not in lost:
                    after = packets[i + 1]
                    n = self.lib.opus_decode(decoder, after, len(after), block, OPUS_FRAME, 1)
                else:
                    n = self.lib.opus_decode(decoder, None, 0, block, OPUS_FRAME, 0)
                assert n == OPUS_FRAME, n
                out.append(np.frombuffer(block, dtype=np.int16).copy())
        finally:
            self.lib.opus_decoder_destroy(decoder)
        return out


def opus_packets(encoder: OpusEncoder, pcm: Pcm) -> list[bytes]:
    packets: list[bytes] = []
    for i in range(0, pcm.size - BLOCK + 1, BLOCK):
        frame = AudioFrame.from_ndarray(
            pcm[i : i + BLOCK].reshape(1, -1), format="s16", layout="mono"
        )
        frame.sample_rate, frame.pts, frame.time_base = RATE, i, fractions.Fraction(1, RATE)
        packets += encoder.encode(frame)[0]
    return packets


def recovered_snr_db(clean: list[Pcm], got: list[Pcm], lost: set[int]) -> float:
    """Lost blocks against the same stream decoded without loss, over blocks with speech in them."""
    signal = error = 0.0
    for i in lost:
        reference = clean[i].astype(np.float64)
        if np.sqrt(np.mean(reference**2)) < 300:  # about -40 dBFS: a pause, nothing to recover
            continue
        signal += float(np.sum(reference**2))
        error += float(np.sum((reference - got[i].astype(np.float64)) ** 2))
    assert signal > 0
    return 10 * float(np.log10(signal / max(error, 1.0)))


def test_a_lost_voice_packet_comes_back_from_the_next_packets_fec() -> None:
    require_speech_tools()
    libopus = Libopus()
    pcm = to_pcm(0.7 * doctor_speech())  # about 10 s of French speech
    results: dict[str, dict[str, float]] = {}
    for name, encoder in (("aiortc", OpusEncoder()), ("voice", VoiceOpusEncoder())):
        packets = opus_packets(encoder, pcm)
        n = len(packets)
        rng = np.random.default_rng(17)  # the same losses for both encoders
        # Isolated losses, 10 %: FEC rebuilds a packet from the next one, so the next is kept.
        lost = {int(i) for i in np.flatnonzero(rng.random(n) < 0.10) if 10 < i < n - 2}
        lost -= {i + 1 for i in lost}
        clean = libopus.decode(packets, set(), fec=False)
        results[name] = {
            "lbrr": sum(libopus.has_lbrr(p) for p in packets) / n,
            "bytes": float(np.mean([len(p) for p in packets])),
            "concealed": recovered_snr_db(clean, libopus.decode(packets, lost, fec=False), lost),
            "fec": recovered_snr_db(clean, libopus.decode(packets, lost, fec=True), lost),
            "lost": len(lost),
            "hybrid": sum(12 <= p[0] >> 3 <= 15 for p in packets) / n,
        }
    print(f"\nOpus on speech, 10 % isolated loss: {results}")
    aiortc, voice = results["aiortc"], results["voice"]
    assert aiortc["lbrr"] == 0  # aiortc's own: no FEC in any packet
    assert voice["lbrr"] > 0.5  # speech packets carry the previous one's copy
    assert voice["lost"] > 20
    # Without FEC (either encoder) a lost block is a guess; with it, the voice comes back.
    assert aiortc["concealed"] < 4 and voice["concealed"] < 4
    assert voice["fec"] > 8
    assert voice["fec"] - voice["concealed"] > 6


# ---- the video ------------------------------------------------------------------------------


def moving_picture(width: int, height: int, fps: int, seconds: float) -> Iterator[VideoFrame]:
    """A smooth texture scrolling at 120 px/s (at 640 wide) under a disc crossing at 300 px/s."""
    rng = np.random.default_rng(3)
    coarse = rng.integers(0, 256, size=(15, 40, 3), dtype=np.uint8)
    texture = np.asarray(
        cv2.resize(coarse, (width * 2, height), interpolation=cv2.INTER_CUBIC), dtype=np.uint8
    )
    y, x = np.mgrid[0:height, 0:width]
    for i in range(int(seconds * fps)):
        offset = int(i * 120 * width / 640 / fps) % width
        image = texture[:, offset : offset + width].copy()
        cx = int(i * 300 * width / 640 / fps) % width
        image[(x - cx) ** 2 + (y - height // 2) ** 2 < (height // 5) ** 2] = (200, 120, 90)
        frame = VideoFrame.from_ndarray(image, format="bgr24")
        frame.pts, frame.time_base = i * VIDEO_CLOCK_RATE // fps, VIDEO_TIME_BASE
        yield frame


def bits_per_second(
    encoder: Vp8Encoder, width: int, height: int, fps: int, seconds: float = 4.0
) -> float:
    """What the encoder puts on the wire, past its first second (key frame, rate control settling)."""
    sizes = [
        sum(len(p) for p in encoder.encode(frame)[0])
        for frame in moving_picture(width, height, fps, seconds)
    ]
    steady = sizes[fps:]
    return sum(steady) * 8 / (len(steady) / fps)


def assert_libvpx_runs_at(encoder: Any, bps: int) -> None:
    """The CBR settings aiortc gives libvpx, read back off the open context."""
    codec = encoder.codec
    assert (codec.bit_rate, codec.min_bit_rate, codec.max_bit_rate) == (bps, bps, bps)
    assert codec.rc_buffer_size == bps  # from aiortc's private slot, kept in step


@pytest.mark.parametrize("rung", VIDEO_LADDER, ids=lambda r: f"{r.width}x{r.height}@{r.fps}")
def test_each_rung_is_sent_at_its_cap_while_remb_says_more(rung: Any) -> None:
    cap = rung_bitrate(rung.width, rung.height, rung.fps)
    encoder = RungVp8Encoder(cap)
    encoder.target_bitrate = MAX_BITRATE  # the far end would take 1.5 Mbit/s
    bps = bits_per_second(encoder, rung.width, rung.height, rung.fps)
    print(f"\n{rung.width}x{rung.height}@{rung.fps}: cap {cap}, sent {bps:.0f} bit/s")
    assert_libvpx_runs_at(encoder, cap)
    assert 0.7 * cap < bps < 1.25 * cap


def test_remb_below_the_cap_lowers_the_bitrate_further() -> None:
    width, height, fps = 640, 480, 15
    cap = rung_bitrate(width, height, fps)
    at_cap = RungVp8Encoder(cap)
    at_cap.target_bitrate = MAX_BITRATE
    below = RungVp8Encoder(cap)
    below.target_bitrate = cap // 2
    at_cap_bps = bits_per_second(at_cap, width, height, fps)
    below_bps = bits_per_second(below, width, height, fps)
    print(f"\n640x480@15: cap {cap} → {at_cap_bps:.0f}; REMB {cap // 2} → {below_bps:.0f} bit/s")
    assert_libvpx_runs_at(below, cap // 2)
    assert 0.7 * (cap // 2) < below_bps < 1.25 * (cap // 2)
    assert below_bps < 0.75 * at_cap_bps


def test_the_smallest_rung_goes_below_aiortcs_250_kbits_floor() -> None:
    width, height, fps = VIDEO_LADDER[-1].width, VIDEO_LADDER[-1].height, VIDEO_LADDER[-1].fps
    cap = rung_bitrate(width, height, fps)
    assert cap < MIN_BITRATE
    plain = Vp8Encoder()
    plain.target_bitrate = cap  # aiortc clamps it up to MIN_BITRATE
    ours = RungVp8Encoder(cap)
    ours.target_bitrate = MAX_BITRATE
    plain_bps = bits_per_second(plain, width, height, fps)
    ours_bps = bits_per_second(ours, width, height, fps)
    print(f"\n320x240@15: aiortc {plain_bps:.0f}, capped at {cap}: {ours_bps:.0f} bit/s")
    assert plain.target_bitrate == MIN_BITRATE
    assert ours_bps < 0.75 * plain_bps


def test_a_step_down_takes_effect_at_the_next_frame() -> None:
    """The session steps down (smaller frames, lower cap) while REMB still says 1.5 Mbit/s."""
    top, middle = VIDEO_LADDER[0], VIDEO_LADDER[1]
    encoder = RungVp8Encoder(rung_bitrate(top.width, top.height, top.fps))
    encoder.target_bitrate = MAX_BITRATE
    bits_per_second(encoder, top.width, top.height, top.fps, seconds=1.5)
    before = encoder.codec
    assert_libvpx_runs_at(encoder, TOP_RUNG_BPS)
    cap = rung_bitrate(middle.width, middle.height, middle.fps)
    encoder.set_cap(cap)
    assert encoder.target_bitrate == cap
    frame = next(moving_picture(middle.width, middle.height, middle.fps, 1.0))
    encoder.encode(frame)
    assert encoder.codec is not before  # aiortc rebuilt libvpx for the new target
    assert_libvpx_runs_at(encoder, cap)


# ---- the pure rules -------------------------------------------------------------------------


def test_the_ladders_caps() -> None:
    caps = [rung_bitrate(r.width, r.height, r.fps) for r in VIDEO_LADDER]
    assert caps == [600_000, 370_000, 140_000]


def test_a_cap_or_a_rung_the_encoder_cannot_use_is_refused() -> None:
    encoder = RungVp8Encoder()
    for bad in (RUNG_FLOOR_BPS - 1, MAX_BITRATE + 1, 0):
        with pytest.raises(RungError):
            encoder.set_cap(bad)
    assert encoder.cap_bps == TOP_RUNG_BPS  # a refused cap leaves the last one
    with pytest.raises(RungError):
        rung_bitrate(0, 240, 15)
    with pytest.raises(RungError):
        rung_bitrate(320, 240, 0)


bps = st.integers(min_value=-1_000_000, max_value=10_000_000)
caps = st.integers(min_value=RUNG_FLOOR_BPS, max_value=MAX_BITRATE)


@given(remb=bps, cap=caps)
def test_the_target_is_remb_clamped_then_capped(remb: int, cap: int) -> None:
    target = effective_bitrate(remb, cap)
    assert RUNG_FLOOR_BPS <= target <= cap
    if remb >= cap:
        assert target == cap  # the rung wins over a higher estimate
    elif remb >= RUNG_FLOOR_BPS:
        assert target == remb  # a lower estimate wins over the rung
    else:
        assert target == RUNG_FLOOR_BPS


@given(remb=bps, cap=caps, more=st.integers(min_value=0, max_value=2_000_000))
def test_the_target_never_falls_when_remb_or_cap_rises(remb: int, cap: int, more: int) -> None:
    assert effective_bitrate(remb + more, cap) >= effective_bitrate(remb, cap)
    higher = min(MAX_BITRATE, cap + more)
    assert effective_bitrate(remb, higher) >= effective_bitrate(remb, cap)


@given(remb=bps, cap=caps)
def test_the_encoder_reads_the_rule_whichever_comes_first(remb: int, cap: int) -> None:
    first = RungVp8Encoder()
    first.target_bitrate = remb
    first.set_cap(cap)
    second = RungVp8Encoder(cap)
    second.target_bitrate = remb
    assert first.target_bitrate == second.target_bitrate == effective_bitrate(remb, cap)
    assert getattr(first, "_Vp8Encoder__target_bitrate") == first.target_bitrate  # noqa: B009


sides = st.integers(min_value=16, max_value=1920)
rates = st.integers(min_value=1, max_value=60)


@given(width=sides, height=sides, fps=rates, wider=st.integers(min_value=0, max_value=640))
def test_a_bigger_or_faster_rung_never_gets_a_lower_cap(
    width: int, height: int, fps: int, wider: int
) -> None:
    cap = rung_bitrate(width, height, fps)
    assert RUNG_FLOOR_BPS <= cap <= MAX_BITRATE and cap % 10_000 == 0
    assert rung_bitrate(width + wider, height, fps) >= cap
    assert rung_bitrate(width, height, min(60, fps + 1)) >= cap
