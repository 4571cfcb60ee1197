"""When to try again: exponential backoff with full jitter, and Retry-After.

Why full jitter: after a pharmacy's network comes back, thousands of cabins
must not hit the platform in the same second; a random delay in
[0, min(cap, base·2^(n−1))] spreads them (the "full jitter" of the AWS
architecture note). Why honour Retry-After: the platform knows when it will
be ready (a 503 during maintenance, a 429 under load); its word beats our
guess, within a ceiling so a wrong header cannot park a cabin for days.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime


@dataclass(frozen=True, slots=True)
class BackoffPolicy:
    base_s: float = 1.0
    cap_s: float = 300.0
    max_retry_after_s: float = 3600.0

    def ceiling(self, failures: int) -> float:
        """The largest delay after `failures` consecutive failures (failures >= 1)."""
        exponent = min(max(failures, 1) - 1, 62)
        return min(self.cap_s, self.base_s * (2.0**exponent))

    def delay(
        self, failures: int, random: Callable[[], float], retry_after_s: float | None = None
    ) -> float:
        """Seconds to wait before the next attempt.

        `random` returns a float in [0, 1) (injectable for tests); a
        Retry-After given by the platform replaces the jittered delay.
        """
        if retry_after_s is not None:
            return min(max(retry_after_s, 0.0), self.max_retry_after_s)
        return random() * self.ceiling(failures)


def parse_retry_after(
    value: str | None, now: datetime, server_date: str | None = None
) -> float | None:
    """Retry-After as seconds: delta-seconds or an HTTP-date; None if absent/invalid.

    Never raises, whatever the header holds: 400 digits are "very long" (the
    policy's ceiling applies), not an OverflowError. An HTTP-date is measured
    from the reply's own `Date` header when it has one, so a kiosk whose clock
    is a year off still waits what the platform asked.
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    if text.isascii() and text.isdigit():
        return float(int(text)) if len(text) <= 10 else float(10**10)
    if len(text) > 100:
        return None
    when = _http_date(text)
    if when is None:
        return None
    reference = _http_date(server_date) if server_date else None
    try:
        return max(0.0, (when - (reference or now)).total_seconds())
    except (OverflowError, TypeError, ValueError):
        return None


def _http_date(text: str | None) -> datetime | None:
    if not text or len(text) > 100:
        return None
    try:
        when = parsedate_to_datetime(text.strip())
    except Exception:  # noqa: BLE001 - any malformed date is "no date"
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when
