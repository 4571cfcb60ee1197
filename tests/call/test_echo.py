"""Echo cancellation: the far-end reference, the wiring to the speaker, and a real aiortc call.

The functional test runs two real aiortc peers on loopback: the doctor's
sends speech (Opus), the kiosk's plays what it receives into the simulated
cabin's speaker exactly as `CallSession._consume_audio` does and sends its
microphone through the `MicrophoneTrack` built as `CallSession` builds it
(`echo=echo_canceller_for(speaker)`). What the kiosk's track hands to aiortc
(av.AudioFrame) is compared block by block with what its microphone heard.
"""

from __future__ import annotations

import asyncio
import logging
import time
from fractions import Fraction

import numpy as np
import pytest
from aiortc import MediaStreamTrack, RTCPeerConnection
from aiortc.mediastreams import MediaStreamError
from av import AudioFrame
from hypothesis import given, settings
from hypothesis import strategies as st

from app.call.audio import (
    BLOCK,
    RATE,
    EnergyMeterSink,
    MicrophoneTrack,
    Pcm,
    PlaybackTapped,
    SoundDeviceSpeaker,
    to_mono_int16,
)
from app.call.echo import (
    EchoCanceller,
    FarEndReference,
    echo_canceller_for,
    webrtc_processor,
)
from tests.call.test_echo_room import (
    Room,
    RoomMicrophone,
    RoomSpeaker,
    doctor_speech,
    patient_speech,
    place,
    require_speech_tools,
    to_pcm,
)

# ---- the far-end reference ------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(
    steps=st.lists(
        st.one_of(
            st.tuples(st.just("play"), st.integers(1, 2000)),
            st.tuples(st.just("take"), st.integers(0, 2000)),
        ),
        max_size=40,
    ),
    max_ms=st.integers(1, 60),
)
def test_the_reference_is_a_bounded_fifo_that_drops_its_oldest(
    steps: list[tuple[str, int]], max_ms: int
) -> None:
    reference = FarEndReference(max_ms=max_ms)
    bound = RATE * max_ms // 1000
    model: list[int] = []
    counter = 1
    dropped = 0
    for action, n in steps:
        if action == "play":
            block = (np.arange(counter, counter + n) % 30000).astype(np.int16)
            counter += n
            reference.played(block)
            model.extend(block.tolist())
            if len(model) > bound:
                dropped += len(model) - bound
                del model[: len(model) - bound]
        else:
            taken = reference.take(n)
            expected = model[:n] + [0] * max(0, n - len(model))
            del model[:n]
            assert taken.dtype == np.int16
            assert taken.tolist() == expected
        assert reference.pending_ms == pytest.approx(1000 * len(model) / RATE)
    assert reference.dropped_samples == dropped


# ---- wiring ---------------------------------------------------------------------------------


class PlainSink:
    """A sink that cannot say what it plays."""

    async def open(self) -> None:
        return None

    def write(self, pcm: Pcm) -> None:
        return None

    async def close(self) -> None:
        return None


def test_a_speaker_that_cannot_report_what_it_plays_gets_no_canceller(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.INFO, logger="app.call.echo"):
        assert echo_canceller_for(PlainSink()) is None
    assert caplog.messages == [
        "Echo cancellation is off: the speaker does not report what it plays."
    ]


async def test_the_kiosks_speakers_report_what_they_play_to_the_canceller() -> None:
    assert isinstance(SoundDeviceSpeaker(), PlaybackTapped)
    speaker = EnergyMeterSink()
    echo = echo_canceller_for(speaker)
    assert echo is not None
    block = np.full(BLOCK, 1234, dtype=np.int16)
    speaker.write(block)
    assert echo.reference.take(BLOCK).tolist() == block.tolist()
    await speaker.close()  # the call is over: the speaker forgets its taps
    speaker.write(block)
    assert echo.reference.pending_ms == 0.0


async def test_the_alsa_speaker_reports_the_blocks_it_actually_played(
    alsa_speaker: SoundDeviceSpeaker,
) -> None:
    played: list[Pcm] = []
    alsa_speaker.add_playback_tap(played.append)
    await alsa_speaker.open()
    try:
        tone = (np.sin(np.arange(BLOCK) * 0.1) * 8000).astype(np.int16)
        for _ in range(5):
            alsa_speaker.write(tone)
        deadline = time.monotonic() + 3.0
        while sum(int(b.any()) for b in played) < 5 and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
    finally:
        await alsa_speaker.close()
    audible = np.concatenate([b for b in played if b.any()])
    assert audible[: 5 * BLOCK].tolist() == np.tile(tone, 5).tolist()


def run_offline(echo: EchoCanceller | None, speaker: RoomSpeaker, seconds: float) -> float:
    """The doctor alone for `seconds` through the room; ERLE (dB) over the last half."""
    require_speech_tools()
    far = to_pcm(0.7 * place(seconds, (0.0, doctor_speech())))
    microphone = RoomMicrophone(Room(), speaker, np.zeros(far.size))
    sent: list[Pcm] = []
    for start in range(0, far.size - BLOCK + 1, BLOCK):
        speaker.write(far[start : start + BLOCK])
        block = microphone.record_block()
        sent.append(echo.process(block) if echo is not None else block)
    half = len(sent) // 2
    heard = np.concatenate(microphone.recorded[half:]).astype(float)
    out = np.concatenate(sent[half:]).astype(float)
    return float(10 * np.log10(np.sum(heard**2) / np.sum(out**2)))


def test_without_the_speakers_reference_the_canceller_removes_nothing() -> None:
    # The same processor, fed with a reference nobody writes to: the echo stays.
    blind = EchoCanceller(webrtc_processor(), FarEndReference())
    assert run_offline(blind, RoomSpeaker(), 6.0) < 3.0
    speaker = RoomSpeaker()
    assert run_offline(echo_canceller_for(speaker), speaker, 6.0) > 25.0


# ---- a real call ----------------------------------------------------------------------------


class SpeechSource:
    """The doctor's microphone: a recorded signal, then silence (paced by MicrophoneTrack)."""

    def __init__(self, pcm: Pcm) -> None:
        self._pcm = pcm
        self._at = 0

    async def open(self) -> None:
        return None

    async def read(self) -> Pcm:
        block = np.zeros(BLOCK, dtype=np.int16)
        piece = self._pcm[self._at : self._at + BLOCK]
        block[: piece.size] = piece
        self._at += BLOCK
        return block

    async def close(self) -> None:
        return None


class SentFrames(MicrophoneTrack):
    """The kiosk's microphone track, keeping a copy of every frame it hands to aiortc."""

    def __init__(self, microphone: RoomMicrophone, speaker: RoomSpeaker) -> None:
        super().__init__(microphone, echo=echo_canceller_for(speaker))  # as CallSession does
        self.sent: list[Pcm] = []

    async def recv(self) -> AudioFrame:
        frame = await super().recv()
        assert (frame.format.name, frame.layout.name, frame.sample_rate) == ("s16", "mono", RATE)
        assert frame.time_base == Fraction(1, RATE) and frame.samples == BLOCK
        self.sent.append(to_mono_int16(frame))
        return frame


async def play_to_speaker(track: MediaStreamTrack, speaker: RoomSpeaker) -> None:
    """What CallSession._consume_audio does with the doctor's audio."""
    try:
        while True:
            frame = await track.recv()
            assert isinstance(frame, AudioFrame)
            speaker.write(to_mono_int16(frame))
    except MediaStreamError:
        return


async def record(track: MediaStreamTrack, into: list[Pcm]) -> None:
    try:
        while True:
            frame = await track.recv()
            assert isinstance(frame, AudioFrame)
            into.append(to_mono_int16(frame))
    except MediaStreamError:
        return


@pytest.mark.timeout(60)
async def test_the_kiosks_outgoing_track_cancels_the_doctors_echo_in_a_real_call() -> None:
    require_speech_tools()
    doctor_talks_s, patient_from_s, patient_for_s = 6.0, 6.5, 3.0
    doctor_voice = to_pcm(0.7 * place(doctor_talks_s, (0.0, doctor_speech())))
    near = 0.5 * place(patient_from_s + patient_for_s + 1.0, (patient_from_s, patient_speech()))

    speaker = RoomSpeaker()
    microphone = RoomMicrophone(Room(), speaker, near)
    kiosk_track = SentFrames(microphone, speaker)
    assert kiosk_track.echo is not None
    doctor_pc, kiosk_pc = RTCPeerConnection(), RTCPeerConnection()
    heard_by_doctor: list[Pcm] = []
    tasks: list[asyncio.Task[None]] = []

    @kiosk_pc.on("track")
    def kiosk_receives(track: MediaStreamTrack) -> None:
        tasks.append(asyncio.ensure_future(play_to_speaker(track, speaker)))

    @doctor_pc.on("track")
    def doctor_receives(track: MediaStreamTrack) -> None:
        tasks.append(asyncio.ensure_future(record(track, heard_by_doctor)))

    try:
        kiosk_pc.addTrack(kiosk_track)
        doctor_pc.addTrack(MicrophoneTrack(SpeechSource(doctor_voice)))
        await kiosk_pc.setLocalDescription(await kiosk_pc.createOffer())
        await doctor_pc.setRemoteDescription(kiosk_pc.localDescription)
        await doctor_pc.setLocalDescription(await doctor_pc.createAnswer())
        await kiosk_pc.setRemoteDescription(doctor_pc.localDescription)
        async with asyncio.timeout(40):
            while len(kiosk_track.sent) < int((patient_from_s + patient_for_s) * RATE / BLOCK):
                await asyncio.sleep(0.1)
    finally:
        await kiosk_pc.close()
        await doctor_pc.close()
        for task in tasks:
            task.cancel()

    n = min(len(kiosk_track.sent), len(microphone.recorded))
    heard = np.stack(microphone.recorded[:n]).astype(float)
    sent = np.stack(kiosk_track.sent[:n]).astype(float)
    echo_level = 10 * np.log10(np.mean(np.stack(microphone.echo_part[:n]) ** 2, axis=1) + 1e-15)
    near_level = 10 * np.log10(np.mean(np.stack(microphone.near_part[:n]) ** 2, axis=1) + 1e-15)
    t = np.arange(n) * BLOCK / RATE
    doctor_alone = (echo_level > -50) & (near_level < -90) & (t > 2.0)
    patient_alone = (near_level > -50) & (echo_level < -90)
    assert doctor_alone.sum() > 50 and patient_alone.sum() > 50

    erle = 10 * np.log10(np.sum(heard[doctor_alone] ** 2) / np.sum(sent[doctor_alone] ** 2))
    kept = 10 * np.log10(np.sum(sent[patient_alone] ** 2) / np.sum(heard[patient_alone] ** 2))
    print(f"\nreal call: ERLE {erle:.1f} dB, patient alone kept {kept:+.1f} dB")
    assert erle > 25.0
    assert kept > -3.0
    # And the doctor, through Opus, hears the patient, not herself.
    assert len(heard_by_doctor) > 0.8 * n
    m = min(n, len(heard_by_doctor))
    received = np.stack(heard_by_doctor[:m]).astype(float)
    patient_power = np.mean(received[patient_alone[:m]] ** 2)
    doctor_power = np.mean(received[doctor_alone[:m]] ** 2)
    print(
        f"the doctor hears the patient {10 * np.log10(patient_power / doctor_power):.1f} dB above"
    )
    assert patient_power > 100 * doctor_power
