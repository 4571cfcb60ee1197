"""Thin bridges from the other rooms' real objects to the controller's ports.

Why here: the store, the drivers and the call each offer a richer API than the
session needs; these adapters keep the controller's ports small and put the
mapping in one readable place. No logic lives here beyond the mapping.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping
from datetime import datetime

from app.domain.session_effects import Fact
from app.store import AsyncStore
from drivers.base import Driver
from drivers.events import DeviceEvent
from vocabulary.devices import DeviceKind


class StoreSession:
    """`SessionStore` on `app.store.AsyncStore`: each await returns once committed.

    The store stamps its own commit times (its clock); the fact carries the
    time it happened, so `at` is not passed on.
    """

    def __init__(self, store: AsyncStore, cabin_id: str) -> None:
        self._store = store
        self._cabin_id = cabin_id

    async def begin_session(self, session_id: str, at: datetime) -> None:
        await self._store.begin_session(session_id, self._cabin_id)

    async def record_fact(self, session_id: str, fact: Fact, at: datetime) -> None:
        await self._store.record(session_id, fact)

    async def end_session(self, session_id: str, reason: str, at: datetime) -> None:
        await self._store.end_session(session_id, reason)


class DriverHub:
    """`DeviceHub` over the drivers built by `drivers.registry.build_drivers`.

    One driver per kind (the first configured one). Each driver's event
    stream is pumped into one queue for the life of the hub, so events a
    driver emits while stopping still arrive.
    """

    def __init__(self, drivers: Mapping[str, Driver] | list[Driver]) -> None:
        items = list(drivers.values()) if isinstance(drivers, Mapping) else list(drivers)
        self._by_kind: dict[DeviceKind, Driver] = {}
        for driver in items:
            self._by_kind.setdefault(driver.kind, driver)
        self._queue: asyncio.Queue[DeviceEvent] = asyncio.Queue()
        self._pumps: dict[DeviceKind, asyncio.Task[None]] = {}

    def kinds(self) -> frozenset[DeviceKind]:
        return frozenset(self._by_kind)

    def driver(self, kind: DeviceKind) -> Driver:
        try:
            return self._by_kind[kind]
        except KeyError:
            raise LookupError(f"This cabin has no {kind.value}.") from None

    async def start(self, kind: DeviceKind) -> None:
        driver = self.driver(kind)
        if kind not in self._pumps or self._pumps[kind].done():
            self._pumps[kind] = asyncio.create_task(self._pump(driver))
        await driver.start()

    async def stop(self, kind: DeviceKind) -> None:
        driver = self._by_kind.get(kind)
        if driver is not None:
            await driver.stop()

    async def stop_all(self) -> None:
        for driver in self._by_kind.values():
            await driver.stop()

    async def close(self) -> None:
        await self.stop_all()
        for task in self._pumps.values():
            task.cancel()
        for task in self._pumps.values():
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._pumps.clear()

    async def _pump(self, driver: Driver) -> None:
        async for event in driver.events():
            self._queue.put_nowait(event)

    async def events(self) -> AsyncIterator[DeviceEvent]:
        while True:
            yield await self._queue.get()
