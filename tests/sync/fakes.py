"""Test doubles of the sync seams: a virtual clock and an in-memory outbox.

The in-memory outbox follows the store's own transition table (open → ready
→ in_flight → acknowledged | quarantined, in_flight → ready) and raises on an
illegal move, like the store does; integration tests use the real store.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from app.sync.session_snapshot import SessionSnapshot


class FakeClock:
    """Virtual time: `sleep` advances it at once (after running due timers)."""

    def __init__(self, start: datetime) -> None:
        self._now = start
        self._mono = 1000.0
        self.slept = 0.0
        self.sleeps: list[float] = []
        self._timers: list[tuple[datetime, Callable[[], None]]] = []

    def now(self) -> datetime:
        return self._now

    def monotonic(self) -> float:
        return self._mono

    def jump(self, seconds: float) -> None:
        """Set the wall clock `seconds` ahead (or behind): the monotonic clock does not move."""
        self._now += timedelta(seconds=seconds)

    def at(self, offset_s: float, action: Callable[[], None]) -> None:
        self._timers.append((self._now + timedelta(seconds=offset_s), action))

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.slept += seconds
        self._now += timedelta(seconds=seconds)
        self._mono += seconds
        due = [t for t in self._timers if t[0] <= self._now]
        self._timers = [t for t in self._timers if t[0] > self._now]
        for _when, action in due:
            action()
        await asyncio.sleep(0)


_ALLOWED = {
    "ready": {"in_flight", "quarantined", "acknowledged"},
    "in_flight": {"ready", "acknowledged", "quarantined"},
    "quarantined": {"ready"},
    "acknowledged": set(),
}


@dataclass
class MemoryItem:
    item_id: int
    session_id: str
    state: str = "ready"
    attempts: int = 0
    not_before: datetime | None = None
    digest: str | None = None
    reason: str | None = None
    errors: list[str] = field(default_factory=list)


class MemoryOutbox:
    def __init__(self, sessions: Sequence[SessionSnapshot] = ()) -> None:
        self.items: list[MemoryItem] = []
        self.sessions: dict[str, SessionSnapshot] = {}
        self.incidents: list[tuple[str, str]] = []
        self.acknowledged_order: list[str] = []
        for s in sessions:
            self.add(s)

    def add(self, session: SessionSnapshot) -> None:
        self.sessions[session.session_id] = session
        self.items.append(MemoryItem(len(self.items) + 1, session.session_id))

    def _move(self, item_id: int, state: str) -> MemoryItem:
        item = self.items[item_id - 1]
        if state not in _ALLOWED[item.state]:
            raise AssertionError(f"illegal outbox move {item.state} -> {state}")
        item.state = state
        return item

    def state_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for item in self.items:
            counts[item.state] = counts.get(item.state, 0) + 1
        return counts

    async def pending(self, limit: int, now: datetime | None) -> list[MemoryItem]:
        ready = [
            i
            for i in self.items
            if i.state == "ready" and (now is None or i.not_before is None or i.not_before <= now)
        ]
        return ready[:limit]

    async def read_session(self, session_id: str) -> SessionSnapshot:
        return self.sessions[session_id]

    async def mark_in_flight(self, item_id: int, at: datetime) -> None:
        self._move(item_id, "in_flight").attempts += 1

    async def retry_later(
        self, item_id: int, error: str, at: datetime, not_before: datetime
    ) -> None:
        item = self._move(item_id, "ready")
        item.not_before = not_before
        item.errors.append(error)

    async def acknowledge(self, item_id: int, response_digest: str, at: datetime) -> None:
        item = self._move(item_id, "acknowledged")
        item.digest = response_digest
        self.acknowledged_order.append(item.session_id)

    async def quarantine(self, item_id: int, reason: str, at: datetime) -> None:
        self._move(item_id, "quarantined").reason = reason

    async def record_incident(self, code: str, message: str, at: datetime) -> None:
        self.incidents.append((code, message))
