"""The call's own encoders: the voice survives a lost packet, the video's bitrate follows its rung.

Why (issue 17, "the call adapts, audio kept first"): on a lossy line the
patient's voice must stay understandable, and when the quality monitor steps
the camera down the ladder (`app/call/quality.py`, `VIDEO_LADDER`) the bitrate
must come down with the picture, at once, so that the voice keeps its share of
the uplink.

- `VoiceOpusEncoder` is aiortc's Opus encoder with libopus' in-band FEC on: each
  packet carries a low-bitrate copy (LBRR) of the one before, so a single lost
  packet is rebuilt from the next one instead of being guessed by the decoder's
  concealment. Browsers' Opus decoders use it (WebRTC negotiates
  `useinbandfec=1`); tests/call/test_encoders.py measures the recovery.
- `RungVp8Encoder` is aiortc's VP8 encoder whose target is the lower of the far
  end's estimate (REMB) and a cap from the current rung (`rung_bitrate`).
  aiortc alone follows REMB only, and clamps it to 250 kbit/s–1.5 Mbit/s, so a
  step down the ladder kept the bitrate the line had just failed to carry.

Both are put on a sender with `use_voice_encoder` / `use_video_encoder`, the
way `app/call/exam.py` gives the stethoscope its encoder: aiortc has no public
seam for it, so they set the sender's private encoder slot of the pinned aiortc
(1.16.0); tests/call/test_encoders_call.py fails if a new aiortc moves it.
"""

from __future__ import annotations

from aiortc import RTCRtpSender
from aiortc.codecs.opus import OpusEncoder
from aiortc.codecs.vpx import DEFAULT_BITRATE, MAX_BITRATE, Vp8Encoder
from av.frame import Frame

VOICE_EXPECTED_LOSS_PCT = 10
"""The loss libopus is told to expect, as a percentage.

10 %: `quality.FAIR_LOSS`, the worst loss at which the call still counts as
fair and keeps its video rung; above it the ladder steps down and then falls
back to audio only. libopus spends more of the voice's bits on the FEC copy as
this rises, and with FEC on and any loss at all it codes speech in its SILK
(hybrid) layers, which carry the copy; 10 % protects the lines the call is
meant to live through without taking bits from the voice on a clean one.
"""

RUNG_FLOOR_BPS = 100_000
"""No VP8 target below this, whatever the far end estimates (aiortc's floor is 250 kbit/s).

At 100 kbit/s the smallest rung (320×240 at 15 fps) is still a face; a line
that cannot carry that much is a POOR line, and the quality monitor takes the
call to audio only rather than sending a smear.
"""

TOP_RUNG_BPS = 600_000
"""The cap at 640×480, 30 fps: pharmacy and town-hall uplinks (ADSL, 4G) are often
about 1 Mbit/s; 600 kbit/s of face leaves the voice, an otoscope's stream and the
retransmissions room, and a kiosk webcam's VGA picture gains little above it."""

_TOP_PIXEL_RATE = 640 * 480 * 30
_PIXEL_RATE_EXPONENT = 0.7


class RungError(ValueError):
    """A video rung or a cap the encoder cannot use (the caller's mistake, not the line's)."""


def rung_bitrate(width: int, height: int, fps: int) -> int:
    """The VP8 cap for a rung, in bit/s: 640×480@30 → 600k, @15 → 370k, 320×240@15 → 140k.

    Bits grow slower than the pixel rate (pixels × frames per second): frames
    closer in time and larger pictures repeat more of themselves, while a small
    picture needs more bits per pixel to look the same. So the cap goes as the
    pixel rate to the power 0.7 from `TOP_RUNG_BPS` at 640×480@30, which gives
    each lower rung more bits per pixel (0.065, 0.080, 0.12), rounded to
    10 kbit/s and kept within `RUNG_FLOOR_BPS`..aiortc's MAX_BITRATE.
    """
    if width <= 0 or height <= 0 or fps <= 0:
        raise RungError(
            f"A video rung needs a positive size and frame rate, not {width}×{height}@{fps}."
        )
    scale = (width * height * fps / _TOP_PIXEL_RATE) ** _PIXEL_RATE_EXPONENT
    bps = round(TOP_RUNG_BPS * scale / 10_000) * 10_000
    return int(min(MAX_BITRATE, max(RUNG_FLOOR_BPS, bps)))


def effective_bitrate(remb_bps: int, cap_bps: int) -> int:
    """The VP8 target: the far end's estimate, never above the rung's cap, never below the floor.

    The estimate is clamped to `RUNG_FLOOR_BPS`..MAX_BITRATE (aiortc clamps it to
    250 kbit/s..MAX_BITRATE; its floor would keep the smallest rung above its
    cap), then the cap wins when it is lower: a step down the ladder takes
    effect even while REMB still reports the old, higher rate.
    """
    remb = max(RUNG_FLOOR_BPS, min(remb_bps, MAX_BITRATE))
    return min(remb, cap_bps)


class VoiceOpusEncoder(OpusEncoder):
    """aiortc's Opus encoder for the cabin's voice, with in-band FEC at 10 % expected loss.

    Options are FFmpeg's libopus encoder's (`application`, `fec`, `packet_loss`,
    checked against the PyAV build in tests/call/test_encoders.py). "voip" is
    aiortc's own mode for speech; `fec` needs a non-zero `packet_loss` to do
    anything. Measured on speech (tests/call/test_encoders.py): the packets
    carry LBRR, libopus codes in hybrid mode rather than CELT only (packets
    are smaller on average, not larger: about 200 bytes against 325), and a
    lost packet decoded from its successor's FEC comes back at about 20 dB
    SNR where concealment gives about 1 dB.
    """

    def __init__(self) -> None:
        super().__init__()
        self.codec.options = {
            "application": "voip",
            "fec": "1",
            "packet_loss": str(VOICE_EXPECTED_LOSS_PCT),
        }
        self.frames_encoded = 0

    def encode(self, frame: Frame, force_keyframe: bool = False) -> tuple[list[bytes], int]:
        """aiortc's encode, counted: the real-call test checks the sender used this instance."""
        self.frames_encoded += 1
        packets, timestamp = super().encode(frame, force_keyframe)
        return list(packets), timestamp


class RungVp8Encoder(Vp8Encoder):
    """aiortc's VP8 encoder with a target of min(REMB, the rung's cap), floor 100 kbit/s.

    aiortc's sender writes each REMB estimate to `target_bitrate`; here that
    is kept as `remb_bps`, and `target_bitrate` reads `effective_bitrate(remb,
    cap)`. aiortc's `encode` reads `target_bitrate` to decide when to rebuild
    its libvpx context (a change above 10 %) and for the bitrate, minrate and
    maxrate (CBR), but its buffer size from its private `__target_bitrate`;
    that slot is kept equal to the target, so all four follow the cap
    (tests/call/test_encoders.py reads them back off the codec context).

    Before the first REMB the estimate is aiortc's DEFAULT_BITRATE
    (500 kbit/s), and the cap is the top rung's: the first frames go out as
    aiortc's own would.
    """

    def __init__(self, cap_bps: int = TOP_RUNG_BPS) -> None:
        super().__init__()
        self.remb_bps = DEFAULT_BITRATE
        self.cap_bps = TOP_RUNG_BPS
        self.frames_encoded = 0
        self.set_cap(cap_bps)

    @property
    def target_bitrate(self) -> int:
        return effective_bitrate(self.remb_bps, self.cap_bps)

    @target_bitrate.setter
    def target_bitrate(self, bitrate: int) -> None:
        """What aiortc's sender calls with each REMB estimate."""
        self.remb_bps = int(bitrate)
        self._sync()

    def set_cap(self, cap_bps: int) -> None:
        """The rung's cap (`rung_bitrate`); the next frame is encoded at the new target."""
        if not RUNG_FLOOR_BPS <= cap_bps <= MAX_BITRATE:
            raise RungError(
                f"A VP8 cap must be {RUNG_FLOOR_BPS} to {MAX_BITRATE} bit/s, not {cap_bps}."
            )
        self.cap_bps = cap_bps
        self._sync()

    def encode(self, frame: Frame, force_keyframe: bool = False) -> tuple[list[bytes], int]:
        """aiortc's encode, counted: the real-call test checks the sender used this instance."""
        self.frames_encoded += 1
        payloads, timestamp = super().encode(frame, force_keyframe)
        return list(payloads), timestamp

    def _sync(self) -> None:
        # aiortc's `encode` sets the libvpx buffer size from its private slot, not the property.
        setattr(self, "_Vp8Encoder__target_bitrate", self.target_bitrate)  # noqa: B010


def use_voice_encoder(sender: RTCRtpSender) -> VoiceOpusEncoder:
    """Give the microphone's sender the FEC voice encoder, before its first frame.

    aiortc makes its own encoder on the first frame when its private slot
    (`RTCRtpSender.__encoder`, aiortc 1.16.0) is empty and empties it when the
    sender stops, so each new connection's sender is given a new one here. The
    sender must send Opus (`app.call.exam.opus_only` on its transceiver): any
    other negotiated codec would be fed Opus packets.
    """
    encoder = VoiceOpusEncoder()
    setattr(sender, "_RTCRtpSender__encoder", encoder)  # noqa: B010 - private slot
    return encoder


def use_video_encoder(sender: RTCRtpSender, cap_bps: int = TOP_RUNG_BPS) -> RungVp8Encoder:
    """Give the camera's sender the rung-capped VP8 encoder, before its first frame.

    Returned so the session can `set_cap(rung_bitrate(...))` on each rung
    change. The same private slot as `use_voice_encoder`, the same renewal per
    connection: the new sender's encoder starts at the current rung's cap
    (`cap_bps`). The sender must send VP8 (the session's `_vp8_first`).
    """
    encoder = RungVp8Encoder(cap_bps)
    setattr(sender, "_RTCRtpSender__encoder", encoder)  # noqa: B010 - private slot
    return encoder
