"""The one async interface every device driver offers.

A driver is started, yields events on one async stream, and is stopped. It
fails clearly and fast (a `Failed` event with a reason), because the assisting
professional's manual entry is the fallback: the driver never retries forever.
Subclasses implement `_run()`; `emit()` puts an event on the stream.

Each run is one stream: `async for event in driver.events()` ends when the
run ends (normally, by a failure, or by `stop()`), so a consumer written as a
plain loop finishes with the device instead of waiting forever. `start()`
opens a fresh stream; whatever the previous run left unread is dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from dataclasses import dataclass

from drivers.events import DeviceEvent, Failed
from vocabulary.devices import DeviceKind


@dataclass(frozen=True, slots=True)
class CheckResult:
    """Outcome of a technician's `kiosk devices check` on one device (no health data)."""

    device_id: str
    kind: DeviceKind
    ok: bool
    detail: str


class Driver(ABC):
    """Base class: one running task, one event queue."""

    def __init__(self, device_id: str, kind: DeviceKind) -> None:
        self.device_id = device_id
        self.kind = kind
        self._queue: asyncio.Queue[DeviceEvent | None] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._stream_ended = False  # True once this run's end-of-stream sentinel is queued

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def start(self) -> None:
        if self.running:
            return
        # A new run starts with an empty stream: a consumer must never read a
        # stale Disconnected or Reading left over from the previous patient.
        while not self._queue.empty():
            self._queue.get_nowait()
        self._stream_ended = False
        self._task = asyncio.create_task(self._guarded_run(), name=f"driver:{self.device_id}")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._close()
        if task is not None:  # a task cancelled before its first step never ran its finally
            self._end_stream()

    def emit(self, event: DeviceEvent) -> None:
        self._queue.put_nowait(event)

    def _end_stream(self) -> None:
        """Queue the end-of-stream sentinel, once per run."""
        if not self._stream_ended:
            self._stream_ended = True
            self._queue.put_nowait(None)

    async def events(self) -> AsyncIterator[DeviceEvent]:
        """This run's events; ends when the run has ended and its events are read."""
        while True:
            if self._stream_ended and self._queue.empty():
                return
            event = await self._queue.get()
            if event is None:
                return
            yield event

    async def next_event(self, timeout: float | None = None) -> DeviceEvent | None:
        """One event, or None when the stream has ended; TimeoutError after `timeout`."""
        if self._stream_ended and self._queue.empty():
            return None
        return await asyncio.wait_for(self._queue.get(), timeout)

    async def _guarded_run(self) -> None:
        try:
            await self._run()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a driver bug must become a Failed event, not a crash
            from drivers.events import FailureReason

            self.emit(
                Failed(
                    self.device_id,
                    self.kind,
                    FailureReason.PROTOCOL_ERROR,
                    f"unexpected driver error ({type(exc).__name__})",
                )
            )
        finally:
            self._end_stream()

    @abstractmethod
    async def _run(self) -> None:
        """Talk to the device until stopped, emitting events."""

    async def _close(self) -> None:  # noqa: B027 - optional hook
        """Release the transport; called by stop()."""

    @abstractmethod
    async def check(self) -> CheckResult:
        """A quick, health-data-free probe for the technician."""
