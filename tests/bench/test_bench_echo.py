"""Echo cancellation in a simulated cabin: ERLE and double talk, WebRTC's AEC3 beside no cancellation.

Run (figures in docs/call-audio.md and the README's performance section):

    .venv/bin/python -m pytest tests/bench/test_bench_echo.py -s

The doctor's speech (espeak-ng) is written to the kiosk's speaker seam block
by block; the room (tests/call/test_echo_room.py: delay, attenuation, a
reverberant tail, the microphone's noise) turns what the speaker plays into
the microphone's input, with the patient's speech mixed in for the double
talk. The scene, 16 s: the doctor alone (0-6 s), both talking (6-10 s), the
patient alone (to ~11.5 s), the doctor again (12-16 s). Each row runs the
same scene through the kiosk's `EchoCanceller` as the call wires it
(`echo_canceller_for(speaker)`) or through nothing (the floor).

ERLE is measured where the doctor talks alone after 2 s of convergence:
10·log10(energy at the microphone / energy sent). The patient's speech
"survives" when what is sent during double talk correlates with it (at the
canceller's few milliseconds of lag) and its SNR against everything else
rises well above the floor's.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import pytest

from app.call.audio import BLOCK, Pcm
from app.call.echo import (
    BlockProcessor,
    EchoCanceller,
    FarEndReference,
    echo_canceller_for,
    webrtc_processor,
)
from tests.call.test_echo_room import (
    EchoFigures,
    Room,
    RoomMicrophone,
    RoomSpeaker,
    doctor_speech,
    measure,
    patient_speech,
    place,
    require_speech_tools,
    to_pcm,
)

SCENE_S = 16.0
SECOND_TURN_S = 12.0
ROOMS = {
    "cabin": Room(),  # 50 ms, -6 dB direct path, RT60 0.3 s
    "hard cabin": Room(delay_ms=150.0, echo_gain=0.8, rt60_s=0.5, tail_s=0.4, tail_level=1.0),
}


Factory = Callable[[], BlockProcessor]


def run_scene(room: Room, make: Factory | None) -> EchoFigures:
    """The scene through a canceller wired as the call wires it (None: the floor)."""
    doctor = doctor_speech()
    far = to_pcm(0.7 * place(SCENE_S, (0.0, doctor[: int(10.0 * 48_000)]), (SECOND_TURN_S, doctor)))
    near = 0.5 * place(SCENE_S, (6.0, patient_speech()))
    speaker = RoomSpeaker()
    microphone = RoomMicrophone(room, speaker, near)
    echo: EchoCanceller | None = None
    if make is webrtc_processor:
        echo = echo_canceller_for(speaker)  # exactly the call's wiring
        assert echo is not None, "the WebRTC audio processing module is missing"
    elif make is not None:
        echo = EchoCanceller(make(), FarEndReference())
        speaker.add_playback_tap(echo.reference.played)
    sent: list[Pcm] = []
    costs: list[float] = []
    for start in range(0, far.size - BLOCK + 1, BLOCK):
        speaker.write(far[start : start + BLOCK])  # the doctor's block, as the call writes it
        block = microphone.record_block()
        if echo is None:
            sent.append(block)
            continue
        started = time.perf_counter()
        sent.append(echo.process(block))
        costs.append(time.perf_counter() - started)
    return measure(
        microphone, sent, clean_near(microphone, make), second_turn_s=SECOND_TURN_S, costs_s=costs
    )


def clean_near(microphone: RoomMicrophone, make: Factory | None) -> list[Pcm]:
    """The patient's speech at the microphone through the same processing with no echo."""
    blocks = [to_pcm(part) for part in microphone.near_part]
    if make is None:
        return blocks
    processor, silence = make(), np.zeros(BLOCK, dtype=np.int16)
    return [processor.process(block, silence) for block in blocks]


@pytest.mark.parametrize("room_name", list(ROOMS))
def test_bench_echo_cancellation(room_name: str) -> None:
    require_speech_tools()
    room = ROOMS[room_name]
    floor = run_scene(room, None)
    aec3 = run_scene(room, webrtc_processor)
    print(f"\necho benchmark, {room_name} ({room}):")
    print(floor.row("no cancellation (floor)"))
    print(aec3.row("WebRTC AEC3 (pywebrtc)"))
    # The floor sends the echo as it came: no loss, and the patient buried in the doctor's voice.
    assert abs(floor.erle_db) < 0.5
    # Aim of issue 17: at least 25 dB, and the patient's speech kept while both talk.
    assert aec3.erle_db >= 25.0
    assert aec3.erle_after_double_talk_db >= 25.0
    assert aec3.near_alone_kept_db > -1.0
    if room_name == "cabin":
        # The patient heard while the doctor talks: attenuated, not cut.
        assert aec3.double_talk_correlation >= 0.7
        assert aec3.double_talk_near_db >= -8.0
    # Cheap enough for the asyncio loop: a 20 ms block costs about half a millisecond on
    # an idle core (the bound leaves room for a CI machine busy with other work).
    assert aec3.mean_ms < 5.0


# ---- the candidates set aside (docs/call-audio.md), when installed by hand ----------------------

HAND_INSTALLED = (
    "a candidate set aside in docs/call-audio.md, measured only when installed by hand "
    "(docs/call-audio.md says how)"
)


class SpeexProcessor:
    """speexdsp's canceller through the `speexaec` binding: 10 ms frames, a 300 ms filter."""

    def __init__(self) -> None:
        speexaec = pytest.importorskip("speexaec", reason=HAND_INSTALLED)
        self._canceller = speexaec.EchoCanceller(BLOCK // 2, int(0.3 * 48_000), 48_000)

    def process(self, near: Pcm, far: Pcm) -> Pcm:
        half = BLOCK // 2
        parts = [self._canceller.process(near[i : i + half], far[i : i + half]) for i in (0, half)]
        out: Pcm = np.concatenate(parts).astype(np.int16)
        return out


class LiveKitProcessor:
    """WebRTC's AEC3 through LiveKit's `livekit` SDK (`rtc.AudioProcessingModule`): 10 ms frames."""

    def __init__(self) -> None:
        self._rtc = pytest.importorskip("livekit.rtc", reason=HAND_INSTALLED)
        self._apm = self._rtc.AudioProcessingModule(echo_cancellation=True, high_pass_filter=True)

    def process(self, near: Pcm, far: Pcm) -> Pcm:
        half = BLOCK // 2
        out = np.empty(BLOCK, dtype=np.int16)
        for i in (0, half):
            reverse = self._rtc.AudioFrame(far[i : i + half].tobytes(), 48_000, 1, half)
            self._apm.process_reverse_stream(reverse)
            frame = self._rtc.AudioFrame(near[i : i + half].tobytes(), 48_000, 1, half)
            self._apm.process_stream(frame)
            out[i : i + half] = np.frombuffer(bytes(frame.data), dtype=np.int16)
        return out


@pytest.mark.parametrize("name", ["speexdsp (speexaec)", "WebRTC AEC3 (livekit)"])
def test_bench_echo_alternatives_for_comparison(name: str) -> None:
    require_speech_tools()
    make: Factory = SpeexProcessor if name.startswith("speex") else LiveKitProcessor
    make()  # skips here when the binding is not installed
    for room_name, room in ROOMS.items():
        print(f"\n{room_name}: " + run_scene(room, make).row(name))
