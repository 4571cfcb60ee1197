"""Camera capture: one `FrameSource` interface, over OpenCV or simulated frames.

The QR scanner (drivers/qr) reads frames through this interface only, so a
simulated camera exercises the same scanner code as the cabin's camera.
"""

from drivers.camera.errors import CameraError, CameraErrorReason
from drivers.camera.source import Frame, FrameSource

__all__ = ["CameraError", "CameraErrorReason", "Frame", "FrameSource"]
