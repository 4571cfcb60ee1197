"""The QR scanner end to end: generated frames through the capture interface, real OpenCV.

Frames are generated (drivers/qr/sim_frames.py) with fixed seeds and a fixed
payload, so what the detector sees is the same on every run.
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import cv2
import pytest

from drivers.camera.errors import CameraError, CameraErrorReason
from drivers.camera.opencv_source import OpenCvFrameSource
from drivers.camera.simulated import SimulatedFrameSource
from drivers.camera.source import Frame
from drivers.events import Connected, Failed, FailureReason, QrIdentity
from drivers.qr.apcv_standin import TestApcvProfile, encode_payload
from drivers.qr.detector import decode_qr
from drivers.qr.driver import QrScannerDriver
from drivers.qr.sim_frames import dark_frame, scene
from kiosk_demo.keys import signing_key
from kiosk_demo.qr_codes import demo_identity, phone_showing_identity
from vocabulary.devices import DeviceKind

ISSUED = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)
NOW = ISSUED + dt.timedelta(minutes=1)
IDENTITY = demo_identity(ISSUED)
PAYLOAD = encode_payload(IDENTITY, signing_key())
EXPECTED = IDENTITY.to_event("camera-1")


@pytest.mark.parametrize(
    ("name", "frame_kwargs"),
    [
        ("upright", {}),
        ("turned 8 degrees", {"rotation_deg": 8.0}),
        ("turned 30 degrees", {"rotation_deg": 30.0}),
        ("upside down", {"rotation_deg": 180.0}),
        ("noisy sensor", {"noise": 20.0}),
    ],
)
def test_detector_reads_the_code_in_generated_frames(
    name: str, frame_kwargs: dict[str, float]
) -> None:
    rotation, noise = frame_kwargs.get("rotation_deg", 0.0), frame_kwargs.get("noise", 12.0)
    assert decode_qr(scene(PAYLOAD, seed=1, rotation_deg=rotation, noise=noise)) == PAYLOAD


@pytest.mark.parametrize(
    "frame",
    [
        scene(PAYLOAD, seed=1, crop=0.2),  # partly off the frame
        scene(PAYLOAD, seed=1, crop=0.5),
        dark_frame(seed=2),
        scene(None, seed=3),
    ],
    ids=["cropped-20", "cropped-50", "dark", "empty"],
)
def test_detector_reads_nothing_where_there_is_nothing_whole(frame: Frame) -> None:
    assert decode_qr(frame) is None


def scanner(source: SimulatedFrameSource, **kwargs: object) -> QrScannerDriver:
    kwargs.setdefault("clock", lambda: NOW)
    kwargs.setdefault("frame_interval_s", 0.0)
    kwargs.setdefault("profile", TestApcvProfile())
    return QrScannerDriver("camera-1", source=source, **kwargs)  # type: ignore[arg-type]


async def test_a_held_up_phone_gives_one_identity() -> None:
    frames = [dark_frame(1), scene(PAYLOAD, seed=4), scene(PAYLOAD, seed=5, rotation_deg=8.0)]
    source = SimulatedFrameSource(frames * 3, repeat=False)
    driver = scanner(source, max_missed_frames=1)
    await driver.start()
    try:
        assert await driver.next_event(5) == Connected("camera-1", DeviceKind.CAMERA)
        assert await driver.next_event(10) == EXPECTED
        # six more frames of the same code: no repeat; then the stream ends
        assert await driver.next_event(10) == Failed(
            "camera-1",
            DeviceKind.CAMERA,
            FailureReason.DISCONNECTED,
            "The simulated camera stopped sending images.",
        )
        assert driver.frames_decoded == 9
    finally:
        await driver.stop()


async def test_the_same_code_is_reported_again_after_the_repeat_delay() -> None:
    source = SimulatedFrameSource([scene(PAYLOAD, seed=4)], repeat=True, period_s=0.05)
    driver = scanner(source, repeat_after_s=0.0)
    await driver.start()
    try:
        assert isinstance(await driver.next_event(5), Connected)
        assert await driver.next_event(5) == EXPECTED
        assert await driver.next_event(5) == EXPECTED
    finally:
        await driver.stop()


@pytest.mark.parametrize(
    ("now", "message"),
    [
        (
            ISSUED + dt.timedelta(minutes=6),
            "The QR code has expired: ask the patient to show a fresh one.",
        ),
        (
            ISSUED - dt.timedelta(minutes=3),
            "The QR code was issued in the future: check the kiosk's clock.",
        ),
    ],
)
async def test_expired_or_future_codes_fail_with_qr_invalid(now: dt.datetime, message: str) -> None:
    driver = scanner(SimulatedFrameSource([scene(PAYLOAD, seed=4)], repeat=True), clock=lambda: now)
    await driver.start()
    try:
        assert isinstance(await driver.next_event(5), Connected)
        assert await driver.next_event(5) == Failed(
            "camera-1", DeviceKind.CAMERA, FailureReason.QR_INVALID, message
        )
    finally:
        await driver.stop()


async def test_bad_signature_and_foreign_codes_fail_then_a_good_code_passes() -> None:
    forged = PAYLOAD[:-4] + ("AAAA" if not PAYLOAD.endswith("AAAA") else "BBBB")
    source = SimulatedFrameSource(
        [scene(forged, seed=6), scene("https://example.org/menu", seed=7), scene(PAYLOAD, seed=8)]
    )
    driver = scanner(source, max_missed_frames=1000)
    await driver.start()
    try:
        assert isinstance(await driver.next_event(5), Connected)
        assert await driver.next_event(5) == Failed(
            "camera-1",
            DeviceKind.CAMERA,
            FailureReason.QR_INVALID,
            "The QR code's signature is not from a trusted key.",
        )
        assert await driver.next_event(5) == Failed(
            "camera-1",
            DeviceKind.CAMERA,
            FailureReason.QR_INVALID,
            "The QR code is not an appli carte Vitale test code (unknown prefix).",
        )
        assert await driver.next_event(5) == EXPECTED
    finally:
        await driver.stop()


async def test_a_new_patient_phone_is_read_after_the_first() -> None:
    source = SimulatedFrameSource(phone_showing_identity(ISSUED, seed=10), repeat=True)
    driver = scanner(source)
    await driver.start()
    try:
        assert isinstance(await driver.next_event(5), Connected)
        first = await driver.next_event(5)
        assert isinstance(first, QrIdentity)
        source.play(phone_showing_identity(ISSUED, seed=20))  # a fresh nonce: a new code
        second = await driver.next_event(5)
        assert isinstance(second, QrIdentity)
        assert (second.nir, second.birth_place_insee) == ("286029720904573", "97209")
    finally:
        await driver.stop()


async def test_absent_camera_fails_fast_with_not_found() -> None:
    driver = scanner(SimulatedFrameSource([], available=False))
    await driver.start()
    assert await driver.next_event(2) == Failed(
        "camera-1",
        DeviceKind.CAMERA,
        FailureReason.NOT_FOUND,
        "No simulated camera could be opened.",
    )
    await driver.stop()


async def test_check_takes_one_frame() -> None:
    result = await scanner(SimulatedFrameSource([dark_frame()])).check()
    assert (result.ok, result.detail) == (
        True,
        "The simulated camera gives 640x480 images; profile apcv-test1.",
    )
    result = await scanner(SimulatedFrameSource([], available=False)).check()
    assert (result.ok, result.detail) == (False, "No simulated camera could be opened.")
    result = await scanner(SimulatedFrameSource([])).check()
    assert (result.ok, result.detail) == (False, "The simulated camera opened but gave no image.")


# --- the real OpenCV capture path -----------------------------------------------------


async def test_opencv_source_without_a_camera_is_a_typed_error() -> None:
    source = OpenCvFrameSource(7)
    started = time.monotonic()
    with pytest.raises(CameraError) as caught:
        await source.open()
    print(f"OpenCV open of a missing camera failed after {time.monotonic() - started:.3f} s")
    assert (caught.value.reason, caught.value.message) == (
        CameraErrorReason.NOT_FOUND,
        "No camera 7 could be opened.",
    )
    with pytest.raises(CameraError) as caught:
        await source.read()
    assert caught.value.message == "The camera 7 is not open."


def write_video(path: Path, frames: list[Frame]) -> None:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), 10.0, (640, 480))
    assert writer.isOpened()
    for frame in frames:
        writer.write(frame)
    writer.release()


async def test_scanner_reads_a_recorded_video_through_opencv(tmp_path: Path) -> None:
    video = tmp_path / "phone.avi"
    write_video(video, [dark_frame(1), scene(PAYLOAD, seed=4), scene(PAYLOAD, seed=5)])
    driver = QrScannerDriver(
        "camera-1",
        profile=TestApcvProfile(),
        source=OpenCvFrameSource(str(video)),
        clock=lambda: NOW,
        frame_interval_s=0.0,
        max_missed_frames=1,
    )
    await driver.start()
    try:
        assert isinstance(await driver.next_event(5), Connected)
        assert await driver.next_event(5) == EXPECTED
        assert await driver.next_event(5) == Failed(
            "camera-1",
            DeviceKind.CAMERA,
            FailureReason.DISCONNECTED,
            "The recorded video stopped sending images.",
        )
    finally:
        await driver.stop()
