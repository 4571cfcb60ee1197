"""The one seam for time in sync: wall clock and sleeping.

Why injectable: "the platform was down for six hours" must be testable in a
second. Tests pass a clock whose `sleep` advances virtual time; the cabin
uses `SystemClock`.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, aware (UTC)."""
        ...

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
