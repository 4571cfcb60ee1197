"""The doctor examines through the call: a stethoscope's own audio track, an otoscope's video.

Why their own tracks (docs/call-exam.md): a stethoscope's heart and lung
sounds (20–1000 Hz) must reach the doctor untouched — no echo canceller, no
noise suppressor, no gain control, and no high-pass — while the cabin
microphone's voice goes through all of that. The otoscope is a second camera:
the doctor chooses to look at it beside the patient's face or instead of it.

Both transceivers are in the kiosk's offer from the first negotiation, sending
nothing until the doctor switches the device on (a data-channel message):
then the kiosk opens the device and puts its track on the sender
(`replaceTrack`), and switching off takes it away and closes the device. No
renegotiation, so switching is instant and cannot fail half way.

The stethoscope's Opus encoder runs in the "audio" application mode:
aiortc's default, "voip", puts libopus' speech high-pass (about 60 Hz and
up) in front of the encoder, which takes 12 dB off a 30 Hz heart sound and
6 dB off 45 Hz (tests/call/test_exam_audio.py measures it).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from aiortc import RTCRtpSender, RTCRtpTransceiver
from aiortc.codecs.opus import OpusEncoder

from app.call.audio import BLOCK, RATE, AudioSource, Pcm
from app.call.exam_still import ExamDevice, ExamStill
from app.call.video import FrameSource, Image
from kiosk_config.schema import KioskConfig

STILL_MAX_BYTES = 2 * 1024 * 1024
STILL_JPEG_QUALITY = 90
OTOSCOPE_FPS = 15  # the picture matters more than its motion: half the camera's encode cost


class ExamOpusEncoder(OpusEncoder):
    """aiortc's Opus encoder in the "audio" mode: no speech high-pass, 48 kHz full band."""

    def __init__(self) -> None:
        super().__init__()
        self.codec.options = {"application": "audio"}


def use_exam_encoder(sender: RTCRtpSender) -> None:
    """Give the stethoscope's sender its own encoder before its first frame.

    aiortc creates the encoder on the first frame when none is set
    (`RTCRtpSender._next_encoded_frame`) and drops it when the sender stops;
    a reconnection makes a new sender, given a new encoder here.
    """
    setattr(sender, "_RTCRtpSender__encoder", ExamOpusEncoder())  # noqa: B010 - private slot


def opus_only(transceiver: RTCRtpTransceiver) -> None:
    """Opus at 48 kHz only: PCMU/PCMA (8 kHz) would be accepted by a browser but are useless."""
    codecs = RTCRtpSender.getCapabilities("audio").codecs
    transceiver.setCodecPreferences([c for c in codecs if c.mimeType.lower() == "audio/opus"])


def encode_jpeg(image: Image, quality: int = STILL_JPEG_QUALITY) -> bytes:
    """A BGR frame as JPEG bytes (OpenCV, as the camera uses)."""
    import cv2

    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError("The picture could not be encoded as JPEG.")
    out = bytes(data.tobytes())
    if len(out) > STILL_MAX_BYTES:
        raise ValueError(f"A still may hold {STILL_MAX_BYTES} bytes, not {len(out)}.")
    return out


# ---- simulators (the demo, the tests): the same seams as the real devices -----------------


def heartbeat(
    seconds: float, *, bpm: float = 72.0, rate: int = RATE, amplitude: float = 0.5
) -> Pcm:
    """Heart sounds as a stethoscope hears them: S1 ("lub") then S2 ("dub") at `bpm`.

    S1 is a 100 ms burst at 40 and 60 Hz, S2 a 70 ms burst at 80 and 120 Hz,
    300 ms after S1; both with a raised-cosine envelope. Nothing above 200 Hz:
    what reaches the doctor above that is the codec's noise, not the heart.
    """
    n = int(seconds * rate)
    t = np.arange(n, dtype=np.float64) / rate
    out = np.zeros(n, dtype=np.float64)
    period = 60.0 / bpm
    for start in np.arange(0.0, seconds, period):
        for onset, length, freqs, gain in (
            (start, 0.10, (40.0, 60.0), 1.0),
            (start + 0.30, 0.07, (80.0, 120.0), 0.7),
        ):
            a, b = int(onset * rate), min(n, int((onset + length) * rate))
            if a >= n:
                continue
            local = t[a:b] - onset
            envelope = 0.5 - 0.5 * np.cos(2 * math.pi * local / length)
            wave = sum(np.sin(2 * math.pi * f * local) for f in freqs) / len(freqs)
            out[a:b] += gain * envelope * wave
    pcm: Pcm = (np.clip(out, -1, 1) * amplitude * 32767).astype(np.int16)
    return pcm


class SimulatedStethoscope:
    """An `AudioSource` playing a heartbeat at the microphone's pace (20 ms blocks)."""

    def __init__(self, *, bpm: float = 72.0, amplitude: float = 0.5) -> None:
        self._loop = heartbeat(60.0 / bpm * 8, bpm=bpm, amplitude=amplitude)
        self._n = 0
        self._next = 0.0
        self.opened = 0
        self.is_open = False

    async def open(self) -> None:
        import time

        self.opened += 1
        self.is_open = True
        self._next = time.monotonic()

    async def read(self) -> Pcm:
        import asyncio
        import time

        delay = self._next - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        self._next = max(self._next + BLOCK / RATE, time.monotonic() - 0.5)
        idx = (np.arange(self._n, self._n + BLOCK)) % self._loop.size
        self._n = (self._n + BLOCK) % self._loop.size
        block: Pcm = self._loop[idx]
        return block

    async def close(self) -> None:
        self.is_open = False


def ear_canal(width: int = 640, height: int = 480) -> Image:
    """A synthetic otoscope picture: a pink canal around a pearly eardrum with its light cone.

    BGR, like a camera. Fixed (a real otoscope held still shows little motion);
    the track adds a faint moving glint so the encoder has something to send.
    """
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    cx, cy = width / 2, height / 2
    r = np.hypot(x - cx, y - cy) / (min(width, height) / 2)
    image = np.zeros((height, width, 3), dtype=np.float64)
    canal = np.clip(1.0 - r, 0, 1) ** 0.6
    image[..., 2] = 200 * canal + 20  # red
    image[..., 1] = 110 * canal + 10  # green
    image[..., 0] = 120 * canal + 10  # blue
    drum = np.hypot((x - cx) / 1.15, y - cy) < min(width, height) * 0.22
    image[drum] = (185, 190, 200)  # pearly grey
    cone = drum & (x > cx) & (y > cy) & (np.abs((y - cy) - 0.6 * (x - cx)) < 0.25 * (x - cx))
    image[cone] = (245, 250, 255)  # the light reflex, antero-inferior
    handle = drum & (np.abs((x - cx) + 0.35 * (y - cy)) < 4) & (y < cy + 10)
    image[handle] = (150, 170, 200)  # the malleus
    out: Image = np.clip(image, 0, 255).astype(np.uint8)
    return out


class SimulatedOtoscope:
    """A `FrameSource` showing `ear_canal()` at camera pace (the demo and the tests)."""

    def __init__(self, *, width: int = 640, height: int = 480, fps: int = OTOSCOPE_FPS) -> None:
        self.width, self.height, self.fps = width, height, fps
        self._picture = ear_canal(width, height)
        self._frame_no = 0
        self._next = 0.0
        self.is_open = False

    async def open(self) -> None:
        import time

        self.is_open = True
        self._next = time.monotonic()

    async def read(self) -> Image:
        import asyncio
        import time

        from app.call.errors import CheckFailureReason, DeviceUnavailable

        if not self.is_open:
            raise DeviceUnavailable(
                CheckFailureReason.CAMERA_UNAVAILABLE, "The simulated otoscope is not open."
            )
        delay = self._next - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        self._next = max(self._next + 1 / self.fps, time.monotonic() - 1)
        self._frame_no += 1
        frame = self._picture.copy()
        gx = 40 + (self._frame_no * 3) % (self.width - 80)
        frame[20:28, gx : gx + 8] = 255
        return frame

    async def close(self) -> None:
        self.is_open = False


def spectrum_db(pcm: Any, rate: int = RATE) -> tuple[Any, Any]:
    """Frequencies and magnitude (dB) of a block, Hann-windowed: for the tests and the bench."""
    data = np.asarray(pcm, dtype=np.float64)
    magnitude = np.abs(np.fft.rfft(data * np.hanning(data.size))) + 1e-9
    return np.fft.rfftfreq(data.size, 1 / rate), 20 * np.log10(magnitude)


# ---- from the site configuration -----------------------------------------------------------


def stethoscope_for(config: KioskConfig) -> AudioSource | None:
    """The site's stethoscope (`[stethoscope]`), a fresh source per call; None without one."""
    section = config.stethoscope
    if section is None:
        return None
    if section.backend == "simulated":
        return SimulatedStethoscope()
    from app.call.audio import SoundDeviceMicrophone

    return SoundDeviceMicrophone(section.device)


def otoscope_for(config: KioskConfig) -> FrameSource | None:
    """The site's otoscope camera (`[otoscope]`), a fresh source per call; None without one."""
    section = config.otoscope
    if section is None:
        return None
    if section.backend == "simulated":
        return SimulatedOtoscope()
    from app.call.video import OpenCVFrameSource

    device: int | str = int(section.device) if section.device.isdigit() else section.device
    return OpenCVFrameSource(device, fps=OTOSCOPE_FPS)


__all__ = ["ExamDevice", "ExamStill"]
