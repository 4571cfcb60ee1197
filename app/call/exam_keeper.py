"""Each still the doctor takes goes into the session's encrypted store, as it is taken.

A call listener (the launcher's `hooks.listeners`): on `ExamStillKept` it
writes the still with `app.store.exam_stills.keep_still`, in a task of its
own so the call's event loop never waits on the disk. A failed write is
logged by its type only (no patient datum) and told to `on_failure`, and the
still's event to `on_not_kept`, so the composition can put the incident in
the act's trace naming the still (`SessionController.exam_still_not_kept`);
the still stays in the call's memory until the call ends either way.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from app.call import events as call
from app.store.exam_stills import DocumentKeeper, keep_still

log = logging.getLogger(__name__)


class StillKeeper:
    def __init__(
        self,
        store: DocumentKeeper,
        *,
        device: str = "otoscope",
        on_failure: Callable[[Exception], None] | None = None,
        on_not_kept: Callable[[call.ExamStillKept], None] | None = None,
    ) -> None:
        self._store = store
        self._device = device
        self._on_failure = on_failure
        self._on_not_kept = on_not_kept
        self._tasks: set[asyncio.Task[None]] = set()
        self.kept = 0

    def __call__(self, event: call.CallEvent) -> None:
        if not isinstance(event, call.ExamStillKept) or not event.session_id:
            return
        task = asyncio.ensure_future(self._keep(event))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _keep(self, event: call.ExamStillKept) -> None:
        still = event.still
        try:
            await keep_still(
                self._store,
                event.session_id,
                still_id=still.still_id,
                device=self._device,
                jpeg=still.jpeg,
            )
        except Exception as exc:
            log.error("exam still not kept (%s)", type(exc).__name__)
            if self._on_failure is not None:
                self._on_failure(exc)
            if self._on_not_kept is not None:
                self._on_not_kept(event)
            return
        self.kept += 1
        log.info("exam still kept (%d bytes)", len(still.jpeg))

    async def drain(self) -> None:
        """Wait for the writes under way (the end of a call, a test)."""
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
