"""The camera's exception tree: a reason to branch on, a sentence for the log."""

from __future__ import annotations

import enum


class CameraErrorReason(enum.StrEnum):
    NOT_FOUND = "not-found"  # no camera at this index / no such file
    READ_FAILED = "read-failed"  # the camera stopped giving frames
    CLOSED = "closed"  # read() after close()


class CameraError(Exception):
    def __init__(self, reason: CameraErrorReason, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message

    def __repr__(self) -> str:
        return f"CameraError({self.reason.value!r}, {self.message!r})"
