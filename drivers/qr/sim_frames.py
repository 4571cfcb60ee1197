"""Frames for the simulated camera: a phone showing a QR code, and what goes wrong.

Images are generated, not recorded: a segno QR code (error correction M, as
a phone app would show it) rendered into a grey scene with sensor noise,
possibly rotated, cut off by the frame's edge, or a dark frame with nothing
readable. A seed makes every frame reproducible. What the code says (the
demo's signed identity, a forged one) is the demo's: kiosk_demo/qr_codes.py.
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt
import segno

from drivers.camera.simulated import SimulatedFrameSource
from drivers.camera.source import Frame, as_frame

WIDTH, HEIGHT = 640, 480


def qr_image(payload: str, module_px: int = 5, border: int = 4) -> Frame:
    """The code alone: black modules on white, `border` quiet-zone modules around."""
    code = segno.make(payload, error="m", micro=False)
    matrix = np.array([[0 if dark else 255 for dark in row] for row in code.matrix], np.uint8)
    matrix = np.pad(matrix, border, constant_values=255)
    return as_frame(np.kron(matrix, np.ones((module_px, module_px), np.uint8)))


def scene(
    payload: str | None,
    *,
    seed: int = 0,
    noise: float = 12.0,
    rotation_deg: float = 0.0,
    crop: float = 0.0,
    brightness: int = 150,
    module_px: int = 5,
) -> Frame:
    """A camera frame (BGR) with the code in it; `crop` hides that share of the code."""
    rng = np.random.default_rng(seed)
    frame = np.full((HEIGHT, WIDTH), brightness, np.float64)
    if payload is not None:
        code = qr_image(payload, module_px).astype(np.float64)
        if rotation_deg:
            code = _rotated(code, rotation_deg)
        limit = HEIGHT - 16
        if code.shape[0] > limit:  # the phone is held further away
            resized = cv2.resize(code, (limit, limit), interpolation=cv2.INTER_AREA)
            code = np.asarray(resized, dtype=np.float64)
        side = code.shape[0]
        top = (HEIGHT - side) // 2
        left = (WIDTH - side) // 2
        frame[top : top + side, left : left + side] = code * (brightness + 80) / 255
        if crop:
            hidden = int(side * crop)
            frame[:, left + side - hidden :] = brightness  # the code runs off the frame
    frame += rng.normal(0.0, noise, frame.shape)
    grey = np.clip(frame, 0, 255).astype(np.uint8)
    return as_frame(cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR))


def _rotated(code: npt.NDArray[np.float64], degrees: float) -> npt.NDArray[np.float64]:
    """The code turned in a canvas large enough to keep its corners (white around)."""
    side = code.shape[0]
    canvas = int(np.ceil(side * 1.42))
    pad = (canvas - side) // 2
    code = np.pad(code, pad, constant_values=255.0)
    size = code.shape[0]
    matrix = cv2.getRotationMatrix2D((size / 2, size / 2), degrees, 1.0)
    turned = cv2.warpAffine(code, matrix, (size, size), borderValue=255.0)
    return np.asarray(turned, dtype=np.float64)


def dark_frame(seed: int = 0) -> Frame:
    return scene(None, seed=seed, noise=3.0, brightness=8)


def phone_showing(payload: str, *, seed: int = 0) -> list[Frame]:
    """What the camera sees while a patient holds up a phone with this code: a few frames."""
    return [
        scene(payload, seed=seed),
        scene(payload, seed=seed + 1, rotation_deg=8.0),
        scene(payload, seed=seed + 2, noise=20.0),
    ]


def simulated_camera(period_s: float = 0.1) -> SimulatedFrameSource:
    """A simulated camera: an empty scene until `play(phone_showing(text))`."""
    return SimulatedFrameSource([scene(None)], period_s=period_s, repeat=True)
