"""Network monitor: is the platform reachable? Online/offline events with hysteresis.

Why hysteresis: one lost health check on a pharmacy's Wi-Fi must not throw a
patient onto the degraded path. The platform counts as offline after
`failures_to_offline` consecutive failed checks (default 2) and online again
after `successes_to_online` consecutive good ones (default 1: coming back is
good news, act on it at once). The first result decides the starting state
(a first failure counts towards "offline" like any other).

`NetworkStateMachine` is the pure rule (a table of counts, no I/O);
`NetworkMonitor` polls the platform's health endpoint through it and tells
its listeners — the session controller (which feeds the session flow) and
the sender (which drains the queue when the platform is back).
"""

from __future__ import annotations

import asyncio
import enum
import logging
from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from app.sync.clock import Clock, SystemClock

log = logging.getLogger(__name__)


class NetworkState(enum.StrEnum):
    UNKNOWN = "unknown"
    ONLINE = "online"
    OFFLINE = "offline"


@dataclass(frozen=True, slots=True)
class NetworkEvent:
    online: bool
    at: datetime
    consecutive: int  # checks in a row that led to the change


class NetworkStateMachine:
    def __init__(self, failures_to_offline: int = 2, successes_to_online: int = 1) -> None:
        if failures_to_offline < 1 or successes_to_online < 1:
            raise ValueError("hysteresis thresholds must be at least 1")
        self.failures_to_offline = failures_to_offline
        self.successes_to_online = successes_to_online
        self.state = NetworkState.UNKNOWN
        self._failures = 0
        self._successes = 0

    def observe(self, ok: bool, at: datetime) -> NetworkEvent | None:
        """Feed one check; returns an event when the state changes."""
        if ok:
            self._successes += 1
            self._failures = 0
            if (
                self.state is not NetworkState.ONLINE
                and self._successes >= self.successes_to_online
            ):
                self.state = NetworkState.ONLINE
                return NetworkEvent(True, at, self._successes)
        else:
            self._failures += 1
            self._successes = 0
            if (
                self.state is not NetworkState.OFFLINE
                and self._failures >= self.failures_to_offline
            ):
                self.state = NetworkState.OFFLINE
                return NetworkEvent(False, at, self._failures)
        return None


Listener = Callable[[NetworkEvent], None]


class NetworkMonitor:
    def __init__(
        self,
        probe: Callable[[], Awaitable[bool]],
        *,
        interval_s: float = 10.0,
        clock: Clock | None = None,
        failures_to_offline: int = 2,
        successes_to_online: int = 1,
    ) -> None:
        self._probe = probe
        self._interval = interval_s
        self._clock: Clock = clock or SystemClock()
        self._machine = NetworkStateMachine(failures_to_offline, successes_to_online)
        self._listeners: list[Listener] = []
        self._queues: list[asyncio.Queue[NetworkEvent]] = []
        self._stopping = False

    @property
    def state(self) -> NetworkState:
        return self._machine.state

    def add_listener(self, listener: Listener) -> None:
        """`listener(event)` is called on the loop at every change (keep it quick)."""
        self._listeners.append(listener)

    async def events(self) -> AsyncGenerator[NetworkEvent]:
        """The changes, as an async iterator (one queue per consumer)."""
        queue: asyncio.Queue[NetworkEvent] = asyncio.Queue()
        self._queues.append(queue)
        try:
            while True:
                yield await queue.get()
        finally:
            self._queues.remove(queue)

    async def check(self) -> NetworkEvent | None:
        """One health check now; tells listeners if the state changed."""
        ok = await self._probe()
        event = self._machine.observe(ok, self._clock.now())
        if event is not None:
            log.info("sync: platform %s", "online" if event.online else "offline")
            for listener in list(self._listeners):
                listener(event)
            for queue in list(self._queues):
                queue.put_nowait(event)
        return event

    async def run(self) -> None:
        """Check, sleep `interval_s`, check... until `stop()`."""
        while not self._stopping:
            await self.check()
            if self._stopping:
                break
            await self._clock.sleep(self._interval)

    def stop(self) -> None:
        self._stopping = True
