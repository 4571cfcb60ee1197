"""Find and decode one QR code in a frame: zxing-cpp decodes, OpenCV keeps the camera.

Why zxing-cpp (3.1, pinned in pyproject): on the project's own simulated
640x480 frames (a version-15 code holding the ~440-character signed test
payload, noisy, turned by 8 degrees) it decodes in ~3 ms where OpenCV's
`QRCodeDetectorAruco` takes ~45-55 ms, and it reads dim frames OpenCV misses
(`tests/bench/test_bench_card_qr.py` prints both side by side). On two shared
cores and a video call, that is the difference between decoding every frame
and decoding one in three.

`decode_qr_opencv` is kept for that comparison (and as a drop-in, should a
platform ever lack the zxing-cpp wheel: abi3 wheels exist for every one we ship).
The frame is turned to grey with OpenCV first: a camera gives BGR, and
zxing-cpp reads a 3-channel array as RGB.

Blocking and CPU-bound: the scanner calls it on a worker thread. One OpenCV
detector per thread, because OpenCV objects are not documented as safe to
share between threads (zxing-cpp's reader is a free function, thread-safe).
"""

from __future__ import annotations

import threading
from typing import Any

import cv2
import zxingcpp

from drivers.camera.source import Frame

_local = threading.local()
_QR = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)


def _detector() -> cv2.QRCodeDetectorAruco:
    detector: cv2.QRCodeDetectorAruco | None = getattr(_local, "detector", None)
    if detector is None:
        detector = cv2.QRCodeDetectorAruco()
        _local.detector = detector
    return detector


def _grey(frame: Frame) -> Any:
    if frame.ndim == 3 and frame.shape[2] == 3:
        return cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    return frame


def decode_qr_zxing(frame: Frame) -> str | None:
    """The text of the QR code in the frame (zxing-cpp), or None if none is readable."""
    if frame.size == 0:
        return None
    try:
        found = zxingcpp.read_barcode(_grey(frame), formats=_QR)
    except (ValueError, RuntimeError):
        return None  # an image zxing-cpp refuses (shape, type): nothing to read there
    if found is None or not found.valid:
        return None
    return found.text or None


def decode_qr_opencv(frame: Frame) -> str | None:
    """The text of the QR code in the frame (OpenCV's ArUco-based detector), or None."""
    if frame.size == 0:
        return None
    try:
        text, _points, _straight = _detector().detectAndDecode(frame)
    except cv2.error:
        return None  # OpenCV refuses some degenerate images; nothing to read there
    return text or None


def decode_qr(frame: Frame) -> str | None:
    """The text of the QR code in the frame, or None if none is readable (zxing-cpp)."""
    return decode_qr_zxing(frame)
