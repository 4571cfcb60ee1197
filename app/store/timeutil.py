"""Times as the store writes them: UTC, ISO 8601, microseconds, so text order is time order."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from app.store.errors import InvalidValue

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def to_text(moment: datetime) -> str:
    if moment.utcoffset() is None:
        raise InvalidValue("The store only accepts times with a time zone.")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def from_text(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def opt_to_text(moment: datetime | None) -> str | None:
    return None if moment is None else to_text(moment)


def opt_from_text(text: str | None) -> datetime | None:
    return None if text is None else from_text(text)
