"""The call subsystem's one exception tree.

Every error carries a reason enum so that the session controller branches on
it without parsing text, and a whole sentence that a technician can read. None
of them carries health data: the call never sees any beyond the summary it is
handed, and errors name message types and lengths, never contents.
"""

from __future__ import annotations

import enum


class CallError(Exception):
    """Base of every error raised by app.call."""


class SignallingErrorReason(enum.StrEnum):
    NOT_JSON = "not-json"
    NOT_AN_OBJECT = "not-an-object"
    UNKNOWN_TYPE = "unknown-type"
    MISSING_FIELD = "missing-field"
    BAD_FIELD = "bad-field"
    TOO_LARGE = "too-large"


class SignallingProtocolError(CallError):
    """A signalling or data-channel message is malformed.

    Raised by the pure message codec; ``remote`` says whose fault it is (True:
    the platform or the doctor's page sent it; False: we tried to build it).
    """

    def __init__(self, reason: SignallingErrorReason, message: str, *, remote: bool = True) -> None:
        super().__init__(message)
        self.reason = reason
        self.remote = remote


class SignallingUnavailable(CallError):
    """The platform's signalling service cannot be reached or went away."""

    def __init__(self, message: str, *, url: str) -> None:
        super().__init__(message)
        self.url = url


class IllegalTransition(CallError):
    """A call state transition that the table forbids; the state is unchanged."""

    def __init__(self, state: str, trigger: str) -> None:
        super().__init__(f"The call cannot go through '{trigger}' while it is '{state}'.")
        self.state = state
        self.trigger = trigger


class DocumentErrorReason(enum.StrEnum):
    BAD_KIND = "bad-kind"
    NO_CONTENT = "no-content"
    BAD_BASE64 = "bad-base64"
    NOT_A_PDF = "not-a-pdf"
    TOO_LARGE = "too-large"


class DocumentError(CallError):
    """A document sent by the doctor cannot be kept (it is traced, not shown)."""

    def __init__(self, reason: DocumentErrorReason, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class CheckFailureReason(enum.StrEnum):
    """Why a waiting-room check failed; the UI maps each to a plain message."""

    CAMERA_UNAVAILABLE = "camera-unavailable"
    CAMERA_NO_FRAMES = "camera-no-frames"
    MICROPHONE_UNAVAILABLE = "microphone-unavailable"
    MICROPHONE_SILENT = "microphone-silent"
    SPEAKER_UNAVAILABLE = "speaker-unavailable"


class DeviceUnavailable(CallError):
    """A camera, microphone or speaker cannot be opened or stopped delivering."""

    def __init__(self, reason: CheckFailureReason, message: str) -> None:
        super().__init__(message)
        self.reason = reason
