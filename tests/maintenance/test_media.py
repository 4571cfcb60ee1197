"""Camera preview, microphone level, speaker tone: the waiting room's own sources, nothing kept.

Real parts: the demo's generated camera and tone (what a test site opens),
OpenCV's VideoCapture on a video file and on a camera that is not there,
sounddevice with no sound card, and the store's audit.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.call.audio import BLOCK, RATE, EnergyMeterSink, SoundDeviceSpeaker, ToneMicrophone
from app.call.video import HEIGHT, WIDTH, Image, OpenCVFrameSource, TestPatternSource
from app.controller.call_launcher import CallMedia
from app.maintenance.media import (
    TONE_AMPLITUDE,
    listen_microphone,
    play_tone,
    preview_camera,
    tone_blocks,
)
from app.maintenance.roles import Role
from app.store import AsyncStore, FileKeySource
from drivers.simulators import SimulatorHub
from tests.maintenance.conftest import GOOD_PASSWORD, FakeClock, audit_rows
from tests.maintenance.world import (
    accounts_on,
    code,
    enrol,
    fill_with_canaries,
    load,
    service_for,
    write_site,
)


async def test_the_preview_hands_pictures_over_and_keeps_none() -> None:
    shown: list[tuple[int, ...]] = []
    result = await preview_camera(
        TestPatternSource(), lambda image: shown.append(image.shape), seconds=0.6
    )
    assert result.ok and result.device == "camera"
    assert result.frames >= 10 and result.fps is not None and 15 < result.fps < 40
    assert shown and set(shown) == {(HEIGHT, WIDTH, 3)}
    assert len(shown) == (result.frames + 2) // 3  # one picture in three is painted
    assert "frames=" in result.detail() and "fps=" in result.detail()


async def test_stop_ends_the_preview_early() -> None:
    stop = asyncio.Event()
    asyncio.get_running_loop().call_later(0.2, stop.set)
    result = await preview_camera(TestPatternSource(), lambda _i: None, seconds=30, stop=stop)
    assert result.ok and result.seconds < 1.0


async def test_a_camera_that_is_not_there_says_so() -> None:
    result = await preview_camera(OpenCVFrameSource(63), lambda _i: None, seconds=1)
    assert not result.ok and result.failure == "camera-unavailable" and result.frames == 0


async def test_a_camera_that_stops_mid_preview_gives_its_code(tmp_path: Path) -> None:
    import cv2

    video = tmp_path / "short.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter.fourcc(*"MJPG"), 30, (WIDTH, HEIGHT))
    for n in range(6):
        writer.write(np.full((HEIGHT, WIDTH, 3), n * 40, dtype=np.uint8))
    writer.release()
    shown: list[Image] = []
    source = OpenCVFrameSource(str(video))  # VideoCapture takes a file
    result = await preview_camera(source, shown.append, seconds=5, every=1)
    assert not result.ok and result.failure == "camera-no-frames"
    assert len(shown) == 6


async def test_the_microphone_meter_follows_the_tone_and_keeps_only_the_peak() -> None:
    levels: list[float] = []
    result = await listen_microphone(ToneMicrophone(amplitude=0.2), levels.append, seconds=0.4)
    assert result.ok and result.peak_dbfs is not None
    assert -18.5 < result.peak_dbfs < -15.5  # a 0.2 full-scale sine: -17 dBFS RMS
    assert len(levels) >= 10 and all(0.6 < v < 0.8 for v in levels)


async def test_a_silent_microphone_is_said_silent() -> None:
    levels: list[float] = []
    result = await listen_microphone(ToneMicrophone(amplitude=0.0), levels.append, seconds=0.2)
    assert not result.ok and result.failure == "silent" and set(levels) == {0.0}


async def test_the_speaker_plays_a_short_tone_at_real_pace() -> None:
    sink = EnergyMeterSink()
    result = await play_tone(sink, seconds=0.5)
    assert result.ok and 0.5 <= result.seconds < 1.5
    assert sink.samples == RATE // 2
    assert -16.5 < sink.peak_dbfs < -14.5  # a quarter of full scale: -15 dBFS RMS
    assert not sink.opened  # closed after


async def test_no_sound_card_is_said(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.asoundrc: ALSA's defaults only
    result = await play_tone(SoundDeviceSpeaker(device="no-such-speaker"), seconds=0.2)
    assert not result.ok and result.failure == "speaker-unavailable"


@settings(max_examples=50, deadline=None)
@given(st.floats(min_value=0.02, max_value=2.0), st.floats(min_value=100, max_value=8000))
def test_tone_blocks_are_whole_blocks_within_the_amplitude(seconds: float, hz: float) -> None:
    blocks = tone_blocks(seconds, hz)
    assert len(blocks) == int(RATE * seconds) // BLOCK
    assert all(b.shape == (BLOCK,) and b.dtype == np.int16 for b in blocks)
    if blocks:
        whole = np.concatenate(blocks)
        assert int(np.max(np.abs(whole))) <= TONE_AMPLITUDE * 32767 + 1
        assert abs(int(whole[0])) <= 1 and abs(int(whole[-1])) <= 400  # faded: no click


async def test_the_service_runs_the_three_tests_audited_with_no_patient(tmp_path: Path) -> None:
    clock = FakeClock()
    config = load(write_site(tmp_path))  # a test site: the generated picture and tone
    store = await AsyncStore.open(tmp_path / "data", FileKeySource(tmp_path / "data"), clock)
    hub = SimulatorHub([], fast=True)
    speaker = EnergyMeterSink()
    media = CallMedia(TestPatternSource, ToneMicrophone, lambda: speaker)
    try:
        canary = await fill_with_canaries(store, clock)
        accounts = accounts_on(store, clock)
        secret = await enrol(accounts, "paul.tech", Role.TECHNICIAN)
        service = service_for(accounts, store, config, hub, clock, media=media)
        session = await service.enter("paul.tech", GOOD_PASSWORD, code(secret, clock))
        frames: list[Image] = []
        camera = await service.camera_preview(session, frames.append, seconds=0.3)
        mic = await service.microphone_test(session, lambda _l: None, seconds=0.3)
        tone = await service.speaker_test(session, seconds=0.2)
        default = service_for(accounts, store, config, hub, clock)  # the site's own media
        nothing = await default.speaker_test(session, seconds=0.1)
        rows = await audit_rows(store)
    finally:
        await store.close()
    assert camera.ok and frames and mic.ok and tone.ok and speaker.samples > 0
    assert nothing.ok  # a test site's speaker: NullSpeaker, as the waiting room's
    acts = {r[1]: r for r in rows if r[0] == "paul.tech"}
    assert acts["maintenance.camera"][4].startswith("seconds=")
    assert "frames=" in acts["maintenance.camera"][4]
    assert "peak=" in acts["maintenance.microphone"][4]
    assert acts["maintenance.speaker"][2] == "ok"
    for row in rows:
        for word in canary.words():
            assert word not in repr(row)
