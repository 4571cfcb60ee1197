"""Blocking PC/SC calls off the event loop, on one daemon thread per role.

Why not the loop's default executor: a PC/SC transmit to a mute card can
block until the card is pulled out, and the default executor's threads are
joined when the interpreter exits, so one stuck call would hang the kiosk's
shutdown. A daemon thread does not. One thread per role (the presence
monitor, the card connection) also keeps each PC/SC context on one thread,
as pcsc-lite recommends, and keeps a stuck transmit from delaying the
removal event.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

_Job = tuple[
    Callable[[], object], asyncio.AbstractEventLoop | None, "asyncio.Future[object] | None"
]


class SerialWorker:
    """Runs submitted callables one after the other on a daemon thread."""

    def __init__(self, name: str) -> None:
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._thread.start()

    async def run(self, fn: Callable[[], T]) -> T:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[object] = loop.create_future()
        self._jobs.put((fn, loop, future))
        return await future  # type: ignore[return-value]

    def post(self, fn: Callable[[], object]) -> None:
        """Queue `fn` without waiting for it (cleanup behind a call that may be stuck)."""
        self._jobs.put((fn, None, None))

    def close(self) -> None:
        """Let the thread end after the job it is running (it never blocks the caller)."""
        self._jobs.put(None)

    def _loop(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            fn, loop, future = job
            try:
                result = fn()
            except BaseException as exc:  # handed to the awaiting coroutine
                if loop is not None and future is not None:
                    _deliver(loop, future, None, exc)
            else:
                if loop is not None and future is not None:
                    _deliver(loop, future, result, None)


def _deliver(
    loop: asyncio.AbstractEventLoop,
    future: asyncio.Future[object],
    result: object,
    error: BaseException | None,
) -> None:
    def settle() -> None:
        if future.done():  # the awaiting coroutine was cancelled meanwhile
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)

    try:
        loop.call_soon_threadsafe(settle)
    except RuntimeError:
        pass  # the loop is closed: nobody waits for this result any more
