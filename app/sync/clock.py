"""The one seam for time in sync: wall clock, monotonic clock and sleeping.

Why injectable: "the platform was down for six hours" must be testable in a
second. Tests pass a clock whose `sleep` advances virtual time; the cabin
uses `SystemClock`.

Why two clocks: *when to try again* is measured on the monotonic clock
(`monotonic()`, seconds that only move forward), so a wall clock set a year
ahead or behind changes neither the order nor the delay of a retry; the wall
clock (`now()`) is only for what is recorded (attempt times in the store).
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, aware (UTC)."""
        ...

    async def sleep(self, seconds: float) -> None: ...


class MonotonicClock(Clock, Protocol):
    def monotonic(self) -> float:
        """Seconds on a clock that never jumps (only differences mean anything)."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
