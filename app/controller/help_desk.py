"""The patient's help call as the controller runs it (issue 15; docs/onsite.md).

Why a part of the controller: the call is a fact of the act (traced in the
session with the other acts, in order, under the controller's lock), it must
end when the session ends (the wipe), and its sentence is part of what the
screen shows (`SessionView.help_call`). The network is the help-call client's
(app/sync/help_call.py, which never raises); this module only decides when
to call, poll and end, and says what to trace.

Rules:
- one call at a time: "Appeler quelqu'un" pressed again while a call runs
  shows the same sentence and rings nobody twice;
- while a call rings at the platform, its state is asked every `poll_s` on
  the controller's tick (one question at a time); the first ACKNOWLEDGED
  shows "someone is coming" and is traced once;
- the call ends when the patient closes Help (`closed`) or the session ends
  (`session-ended`, at the wipe: traced in the session, the network's end
  sent in the background so the wipe never waits for it);
- a long silence on one step (`[site] help_after_silence_s`, `SilenceWatch`)
  calls once per step, only on the steps where the patient has to act.
What is traced: the call id and the client's detail (where it reached, by
whom, why it ended). Never a patient datum.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from datetime import datetime
from typing import Protocol

from app.domain.session_context import State
from app.domain.trace import PATIENT, SYSTEM, Actor, TraceKind
from app.sync.help_call import (
    COMING_SENTENCE,
    OFFLINE_SENTENCE,
    HelpCall,
    HelpReason,
    HelpState,
    SilenceWatch,
)

log = logging.getLogger(__name__)

POLL_S = 3.0
"""How often the platform is asked whether someone answered, while a call rings."""

SILENT_STEPS = frozenset(
    {
        State.WELCOME,  # nobody is there
        State.WIPE,
        State.WAITING_ROOM,  # waiting is silent by nature
        State.CALL,  # the patient talks to the doctor, not to the screen
        State.EMERGENCY_EXIT,  # the numbers to call are on the screen
        State.TAKE_CARD,
    }
)
"""Steps where a long silence is no sign of a patient lost: the watch does not run there."""


class HelpCalls(Protocol):
    """What the desk needs of `app.sync.help_call.HelpCallClient`."""

    async def call(self, reason: HelpReason) -> HelpCall: ...

    async def state(self, call: HelpCall) -> HelpState: ...

    async def end(self, call: HelpCall, why: str) -> None: ...


Record = Callable[[TraceKind, Actor, str, str], Awaitable[None]]
"""(kind, actor, call id, detail) -> the entry in the session's trace (or the audit)."""


def called_detail(call: HelpCall) -> str:
    """The client's own words for where the call reached (app/sync/help_call.py)."""
    where = "+".join(w for w, ok in (("platform", call.platform), ("local", call.local)) if ok)
    return f"reason={call.reason} reached={where or 'none'}"


class HelpDesk:
    def __init__(
        self,
        client: HelpCalls | None,
        record: Record,
        publish: Callable[[], None],
        *,
        silence_after_s: float | None = None,
        poll_s: float = POLL_S,
    ) -> None:
        self._client = client
        self._record = record
        self._publish = publish
        self._poll_s = poll_s
        self.call: HelpCall | None = None
        self.sentence: str | None = None
        self._acknowledged = False
        self._polled_at: datetime | None = None
        self._poll: asyncio.Task[None] | None = None
        self._busy = False  # a call is being placed: a second press waits for nothing
        self.watch = SilenceWatch(silence_after_s)
        self.tasks: set[asyncio.Task[None]] = set()

    # -- the patient's acts ---------------------------------------------------------------

    async def ring(self, reason: HelpReason, now: datetime) -> None:
        """Call the people on site (once while a call runs); the sentence shown. Never raises."""
        if self.call is not None or self._busy:
            self._publish()
            return
        client = self._client
        if client is None:  # no way to call anyone configured: the counter
            self.sentence = OFFLINE_SENTENCE
            self._publish()
            return
        self._busy = True
        try:
            call = await client.call(reason)
        except Exception as exc:  # the client never raises; a fake might
            log.error("help call failed (%s)", type(exc).__name__)
            self.sentence = OFFLINE_SENTENCE
            self._publish()
            return
        finally:
            self._busy = False
        self.sentence = call.sentence
        self._acknowledged = False
        self._polled_at = now
        self.call = call if call.reached else None
        actor = PATIENT if reason is HelpReason.BUTTON else SYSTEM
        await self._record(TraceKind.HELP_CALLED, actor, call.call_id, called_detail(call))
        self._publish()

    async def hang_up(self, why: str) -> None:
        """The need is over (the patient closed Help): the call ended and traced."""
        call = self.call
        self._forget()
        self._publish()
        if call is None or self._client is None:
            return
        try:
            await self._client.end(call, why)
        except Exception as exc:
            log.error("help call not ended (%s)", type(exc).__name__)
        actor = PATIENT if why == "closed" else SYSTEM
        await self._record(TraceKind.HELP_ENDED, actor, call.call_id, f"why={why}")

    def end_in_background(self, why: str) -> HelpCall | None:
        """At the wipe: forget the call now, end it at the network in a task; the caller
        traces it (it holds the controller's lock). Returns the call that was running."""
        call = self.call
        self._forget()
        self.sentence = None
        self.watch = SilenceWatch(self.watch.after_s)
        client = self._client
        if call is None or client is None:
            return None

        async def end() -> None:
            try:
                await client.end(call, why)
            except Exception as exc:
                log.error("help call not ended (%s)", type(exc).__name__)

        self.spawn(end())
        return call

    def spawn(self, work: Coroutine[object, None, None]) -> None:
        """Run `work` as the desk's task (held, awaited by `idle`, cancelled by `close`)."""
        task = asyncio.create_task(work)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def _forget(self) -> None:
        if self._poll is not None:
            self._poll.cancel()
            self._poll = None
        self.call = None
        self.sentence = None
        self._acknowledged = False

    # -- the clock ----------------------------------------------------------------------

    def step_shown(self, state: State, in_session: bool, now: datetime) -> None:
        if not in_session or state in SILENT_STEPS:
            self.watch = SilenceWatch(self.watch.after_s)  # not watched; a later step starts anew
            return
        self.watch = self.watch.step_shown(state.value, now)

    def touched(self, now: datetime) -> None:
        self.watch = self.watch.touched(now)

    def silence_due(self, now: datetime) -> bool:
        due, self.watch = self.watch.due(now)
        return due

    def tick(self, now: datetime) -> None:
        """Ask the platform about a ringing call every `poll_s` (one question at a time)."""
        call, client = self.call, self._client
        if call is None or client is None or self._acknowledged or not call.platform:
            return
        if self._poll is not None and not self._poll.done():
            return
        if self._polled_at is not None and (now - self._polled_at).total_seconds() < self._poll_s:
            return
        self._polled_at = now
        self._poll = asyncio.create_task(self._ask(call, client))
        self.tasks.add(self._poll)
        self._poll.add_done_callback(self.tasks.discard)

    async def _ask(self, call: HelpCall, client: HelpCalls) -> None:
        try:
            state = await client.state(call)
        except Exception as exc:
            log.error("help call state not read (%s)", type(exc).__name__)
            return
        if self.call is not call or self._acknowledged:
            return  # ended or answered meanwhile
        if state is HelpState.ACKNOWLEDGED:
            self._acknowledged = True
            self.sentence = COMING_SENTENCE
            await self._record(TraceKind.HELP_ACKNOWLEDGED, SYSTEM, call.call_id, "by=platform")
            self._publish()

    async def idle(self) -> None:
        """Wait for the questions and ends under way (tests)."""
        while self.tasks:
            await asyncio.gather(*list(self.tasks), return_exceptions=True)

    async def close(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*list(self.tasks), return_exceptions=True)


__all__ = ["POLL_S", "SILENT_STEPS", "HelpCalls", "HelpDesk", "called_detail"]
