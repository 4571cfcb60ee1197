"""Waiting-room checks on real devices: ALSA (file microphone, null speaker), OpenCV."""

from __future__ import annotations

from app.call.audio import SoundDeviceMicrophone, SoundDeviceSpeaker, ToneMicrophone
from app.call.errors import CheckFailureReason
from app.call.events import Incident, IncidentCode
from app.call.video import OpenCVFrameSource, TestPatternSource
from app.call.waiting_room import (
    WaitingRoomReport,
    check_camera,
    check_microphone,
    check_speaker,
    incidents,
    run_checks,
)


async def test_all_checks_pass_on_working_devices(
    alsa_microphone: SoundDeviceMicrophone, alsa_speaker: SoundDeviceSpeaker
) -> None:
    report = await run_checks(TestPatternSource(), alsa_microphone, alsa_speaker)
    assert report.ok, report
    assert report.failures == ()
    # The pattern's frame rate is printed, not judged (speed belongs to tests/bench).
    assert report.camera.value is not None and report.camera.value > 0
    print(f"waiting-room camera check: {report.camera.value:.1f} frames/s")
    # The file holds a 0.1 full-scale sine: RMS = 0.1/√2 → −23 dBFS.
    assert report.microphone.value is not None and round(report.microphone.value) == -23
    assert incidents(report) == []


async def test_missing_camera_is_typed() -> None:
    result = await check_camera(OpenCVFrameSource(index=57))
    assert (result.ok, result.failure, result.message) == (
        False,
        CheckFailureReason.CAMERA_UNAVAILABLE,
        "The camera 57 cannot be opened.",
    )


async def test_silent_microphone_is_typed() -> None:
    result = await check_microphone(ToneMicrophone(amplitude=0.0))
    assert result.failure is CheckFailureReason.MICROPHONE_SILENT
    assert result.message == "The microphone hears nothing (peak -120 dBFS, floor -70 dBFS)."
    camera = await check_camera(TestPatternSource())
    speaker = await check_speaker(SoundDeviceSpeaker(device="no-such-speaker"))
    report = WaitingRoomReport(camera, result, speaker)
    assert not report.ok
    assert report.failures == (
        CheckFailureReason.MICROPHONE_SILENT,
        CheckFailureReason.SPEAKER_UNAVAILABLE,
    )
    assert incidents(report) == [
        Incident(
            IncidentCode.MICROPHONE_SILENT, {"device": "microphone", "reason": "microphone-silent"}
        ),
        Incident(
            IncidentCode.SPEAKER_UNAVAILABLE, {"device": "speaker", "reason": "speaker-unavailable"}
        ),
    ]


async def test_missing_microphone_and_speaker_are_typed(alsa_home: object) -> None:
    mic = await check_microphone(SoundDeviceMicrophone(device="no-such-microphone"))
    assert (mic.failure, mic.message) == (
        CheckFailureReason.MICROPHONE_UNAVAILABLE,
        "The microphone cannot be opened (ValueError).",
    )
    speaker = await check_speaker(SoundDeviceSpeaker(device="no-such-speaker"))
    assert (speaker.failure, speaker.message) == (
        CheckFailureReason.SPEAKER_UNAVAILABLE,
        "The speaker cannot be opened (ValueError).",
    )
