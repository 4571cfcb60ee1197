"""The kiosk's camera track on each rung of the quality ladder: size and pace of what it sends."""

from __future__ import annotations

import time

import pytest

from app.call.quality import VIDEO_LADDER
from app.call.video import CameraTrack, TestPatternSource


@pytest.mark.parametrize("rung", VIDEO_LADDER, ids=lambda r: f"{r.width}x{r.height}@{r.fps}")
async def test_the_camera_track_sends_the_rung_s_size_at_its_rate(rung: object) -> None:
    from app.call.quality import VideoRung

    assert isinstance(rung, VideoRung)
    source = TestPatternSource()
    await source.open()
    track = CameraTrack(source)
    track.set_format(rung.width, rung.height, rung.fps)
    try:
        frames = [await track.recv() for _ in range(7)]
        started = time.monotonic()
        frames += [await track.recv() for _ in range(6)]
        elapsed = time.monotonic() - started
    finally:
        track.stop()
        await source.close()
    assert {(f.width, f.height) for f in frames} == {(rung.width, rung.height)}
    steps = {(b.pts or 0) - (a.pts or 0) for a, b in zip(frames, frames[1:], strict=False)}
    assert steps == {90000 // rung.fps}
    assert 6 / rung.fps * 0.8 < elapsed < 6 / rung.fps * 1.5 + 0.1


async def test_a_lower_rung_then_back_up_and_black_frames_follow_the_format() -> None:
    source = TestPatternSource()
    await source.open()
    track = CameraTrack(source)
    try:
        assert (await track.recv()).width == 640
        track.set_format(320, 240, 15)
        track.enabled = False  # camera off: black frames, at the rung's size too
        assert ((f := await track.recv()).width, f.height) == (320, 240)
        track.enabled = True
        track.set_format(640, 480, 30)
        assert ((f := await track.recv()).width, f.height) == (640, 480)
    finally:
        track.stop()
        await source.close()


@pytest.mark.parametrize(
    ("width", "height", "fps"), [(0, 240, 15), (320, -1, 15), (320, 240, 0), (320, 240, 60)]
)
def test_a_format_out_of_range_is_refused(width: int, height: int, fps: int) -> None:
    track = CameraTrack(TestPatternSource())
    with pytest.raises(ValueError, match="positive size and 1 to 30 fps"):
        track.set_format(width, height, fps)
