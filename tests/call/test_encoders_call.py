"""The installed encoders are the ones a real aiortc sender uses (app/call/encoders.py).

`use_voice_encoder` and `use_video_encoder` write aiortc's private encoder
slot. If a new aiortc renames it, the write makes a new attribute nobody
reads, aiortc makes its own encoders, and the call still works, quietly
without FEC or caps. So this test holds a real call between two aiortc peers
(the kiosk's camera and microphone tracks on one side, a receiver on the
other) and checks that the frames the far end decodes were encoded by our
instances, that the far end's REMB reaches the capped encoder, and that a cap
set mid-call is what libvpx runs at.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiortc import MediaStreamTrack, RTCPeerConnection
from aiortc.codecs.vpx import DEFAULT_BITRATE
from aiortc.mediastreams import MediaStreamError

from app.call.audio import MicrophoneTrack
from app.call.encoders import (
    RungVp8Encoder,
    VoiceOpusEncoder,
    rung_bitrate,
    use_video_encoder,
    use_voice_encoder,
)
from app.call.exam import SimulatedStethoscope, opus_only
from app.call.quality import VIDEO_LADDER
from app.call.video import CameraTrack, TestPatternSource


async def count_frames(track: MediaStreamTrack, counts: dict[str, int]) -> None:
    try:
        while True:
            await track.recv()
            counts[track.kind] += 1
    except MediaStreamError:
        return


async def until(condition: Any, what: str, deadline_s: float = 30.0) -> None:
    """Wait for `condition()` with a deadline a loaded CI can hold; say what never came."""
    try:
        async with asyncio.timeout(deadline_s):
            while not condition():
                await asyncio.sleep(0.05)
    except TimeoutError:
        raise AssertionError(f"{what}: not within {deadline_s:.0f} s") from None


@pytest.mark.timeout(90)
async def test_a_real_sender_sends_what_the_installed_encoders_encode() -> None:
    camera_source, voice_source = TestPatternSource(), SimulatedStethoscope()
    await camera_source.open()
    await voice_source.open()
    camera, microphone = CameraTrack(camera_source), MicrophoneTrack(voice_source)
    kiosk_pc, doctor_pc = RTCPeerConnection(), RTCPeerConnection()
    counts = {"audio": 0, "video": 0}
    tasks: list[asyncio.Task[None]] = []

    @doctor_pc.on("track")
    def doctor_receives(track: MediaStreamTrack) -> None:
        tasks.append(asyncio.ensure_future(count_frames(track, counts)))

    try:
        video_sender = kiosk_pc.addTransceiver(camera, direction="sendonly").sender
        voice = kiosk_pc.addTransceiver(microphone, direction="sendonly")
        opus_only(voice)
        video_encoder = use_video_encoder(video_sender)
        voice_encoder = use_voice_encoder(voice.sender)
        await kiosk_pc.setLocalDescription(await kiosk_pc.createOffer())
        await doctor_pc.setRemoteDescription(kiosk_pc.localDescription)
        await doctor_pc.setLocalDescription(await doctor_pc.createAnswer())
        await kiosk_pc.setRemoteDescription(doctor_pc.localDescription)

        await until(
            lambda: counts["video"] >= 30 and counts["audio"] >= 50,
            f"the doctor decodes 30 video and 50 audio frames (has {counts})",
        )
        # The far end decoded frames, and ours encoded them: aiortc made none of its own.
        assert getattr(video_sender, "_RTCRtpSender__encoder") is video_encoder  # noqa: B009
        assert getattr(voice.sender, "_RTCRtpSender__encoder") is voice_encoder  # noqa: B009
        assert isinstance(video_encoder, RungVp8Encoder)
        assert isinstance(voice_encoder, VoiceOpusEncoder)
        assert video_encoder.frames_encoded >= counts["video"] >= 30
        assert voice_encoder.frames_encoded >= 50

        # aiortc's receiver estimates the bandwidth and sends REMB; the sender hands it to us.
        await until(
            lambda: video_encoder.remb_bps != DEFAULT_BITRATE, "a REMB estimate reaches the encoder"
        )

        # A step down mid-call: the live sender's libvpx runs at the new target.
        small = VIDEO_LADDER[-1]
        camera.set_format(small.width, small.height, small.fps)
        cap = rung_bitrate(small.width, small.height, small.fps)
        video_encoder.set_cap(cap)
        assert video_encoder.target_bitrate <= cap

        def runs_at_the_cap() -> bool:
            codec = video_encoder.codec
            if codec is None or codec.width != small.width or codec.bit_rate is None:
                return False
            return bool(codec.bit_rate <= cap)

        seen = counts["video"]
        await until(runs_at_the_cap, f"libvpx at {small.width}x{small.height}, {cap} bit/s at most")
        await until(lambda: counts["video"] >= seen + 15, "the doctor decodes the smaller rung")
        print(f"\nREMB from aiortc's receiver: {video_encoder.remb_bps} bit/s; cap {cap}")
    finally:
        await kiosk_pc.close()
        await doctor_pc.close()
        for task in tasks:
            task.cancel()
        await camera_source.close()
        await voice_source.close()
