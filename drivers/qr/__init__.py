"""The appli carte Vitale QR code on the camera: the QrProfile seam, the
documented TEST payload format, OpenCV detection and the scanner driver."""

from drivers.qr.errors import QrErrorReason, QrPayloadError

__all__ = ["QrErrorReason", "QrPayloadError"]
