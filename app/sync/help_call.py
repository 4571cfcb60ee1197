"""The patient's help call, sent to the people on site: through the platform and a local URL.

A call goes two ways at once (issue 15, docs/onsite.md):
1. to the platform (`POST /cabin/help`, the cabin's token), which relays it to
   the site's staff (the counter page rings; `devtools/platform/onsite.py` is
   the reference);
2. to the site's own webhook (`[site] help_webhook_url`, a bell or a small page
   on the pharmacy's network), when one is configured.
It is "reached" when either answered 2xx. The kiosk then polls the platform
for the acknowledgement ("someone is coming") and ends the call when the
patient's need is over. Reached nowhere (offline): the patient is told to go
to the counter (`OFFLINE_SENTENCE`, the screen's catalogue id).

What is sent: the cabin id, a call id the kiosk mints, the reason
(`button`, `silence`), the time. Never a patient datum: the call says that
help is needed, not for whom.

Traced: the call (where it reached), its acknowledgement, its end, through
the `trace` callable the composition gives (the controller turns each into a
trace entry of the session and an audit row). Every network failure is
caught here: a help call never raises into the screen.
"""

from __future__ import annotations

import asyncio
import enum
import json
import logging
import ssl
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from app.sync.errors import SyncError
from app.sync.transport import (
    CabinAuth,
    HttpReply,
    LazySession,
    NetworkFailure,
    authorised_send,
    session_of,
    ssl_context_for,
)

if TYPE_CHECKING:
    import aiohttp

    from kiosk_config import KioskConfig

log = logging.getLogger(__name__)

HELP_PATH = "/cabin/help"
PREPARATION_PATH = "/cabin/preparation"
OFFLINE_SENTENCE = "help.call.offline"  # "Nobody could be called: please go to the counter."
CALLED_SENTENCE = "help.call.called"  # "Someone on site has been called; if nobody comes …"
COMING_SENTENCE = "help.call.coming"  # "Someone is coming."


class HelpReason(enum.StrEnum):
    BUTTON = "button"  # the patient pressed Help
    SILENCE = "silence"  # no touch on one step for `[site] help_after_silence_s`


class HelpState(enum.StrEnum):
    RINGING = "ringing"  # reached, nobody answered yet
    ACKNOWLEDGED = "acknowledged"  # someone is coming
    ENDED = "ended"
    UNREACHABLE = "unreachable"  # neither way answered: go to the counter


@dataclass(frozen=True, slots=True)
class HelpCall:
    call_id: str
    reason: HelpReason
    at: datetime
    platform: bool  # the platform took it
    local: bool  # the site's webhook took it

    @property
    def reached(self) -> bool:
        return self.platform or self.local

    @property
    def sentence(self) -> str:
        """The catalogue id the screen shows the patient."""
        return CALLED_SENTENCE if self.reached else OFFLINE_SENTENCE


@dataclass(frozen=True, slots=True)
class SilenceWatch:
    """When a long silence on one step calls someone (`[site] help_after_silence_s`). Pure.

    Rules: off when `after_s` is None; a step shown or a touch restarts the count;
    `due(now)` is true once `after_s` has passed since the later of the two, and
    only once per step (a patient who does not answer is not called for twice on
    the same screen; the next step may call again). Each method returns the new
    value; the controller keeps it and calls `HelpCallClient.call(SILENCE)` when
    `due` says so.
    """

    after_s: float | None
    step: str | None = None
    since: datetime | None = None  # the step shown or the last touch, whichever is later
    called: bool = False  # this step has called already

    def step_shown(self, step: str, at: datetime) -> SilenceWatch:
        if step == self.step:
            return replace(self, since=at)
        return replace(self, step=step, since=at, called=False)

    def touched(self, at: datetime) -> SilenceWatch:
        return replace(self, since=at)

    def due(self, now: datetime) -> tuple[bool, SilenceWatch]:
        if self.after_s is None or self.step is None or self.since is None or self.called:
            return False, self
        if (now - self.since).total_seconds() < self.after_s:
            return False, self
        return True, replace(self, called=True)


Trace = Callable[[str, str, str], None]
"""`trace(action, call_id, detail)`: `help.call`, `help.acknowledged`, `help.ended`."""


def _ignore(action: str, call_id: str, detail: str) -> None:
    pass


class HelpCallClient:
    def __init__(
        self,
        platform_url: str,
        cabin_id: str,
        *,
        session: aiohttp.ClientSession | LazySession,
        auth: CabinAuth | None = None,
        ssl_context: ssl.SSLContext | None = None,
        webhook_url: str | None = None,
        trace: Trace = _ignore,
        timeout_s: float = 5.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.base = platform_url.rstrip("/")
        self.cabin_id = cabin_id
        self._session = session
        self._auth = auth
        self._ssl: ssl.SSLContext | bool = ssl_context if ssl_context is not None else True
        self.webhook_url = webhook_url
        self.trace = trace
        self._timeout_s = timeout_s
        self._clock = clock
        self._acknowledged: set[str] = set()

    @classmethod
    def for_config(
        cls, config: KioskConfig, session: aiohttp.ClientSession | LazySession, trace: Trace
    ) -> HelpCallClient:
        platform = config.platform
        tls = ssl_context_for(platform) if platform.url.startswith("https:") else None
        try:
            auth = CabinAuth.for_config(config)
        except SyncError as exc:  # the call still goes to the local URL
            log.error("help call: the cabin cannot prove itself (%s)", type(exc).__name__)
            auth = None
        return cls(
            platform.url,
            config.site.cabin_id,
            session=session,
            auth=auth,
            ssl_context=tls,
            webhook_url=config.site.help_webhook_url,
            trace=trace,
        )

    # -- the wire ---------------------------------------------------------------------

    async def _send(
        self, method: str, url: str, body: dict[str, object] | None, *, auth: bool
    ) -> HttpReply | None:
        import aiohttp

        data = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        try:
            return await authorised_send(
                session_of(self._session),
                self._auth if auth else None,
                method,
                url,
                data,
                headers,
                timeout=aiohttp.ClientTimeout(total=self._timeout_s),
                ssl=self._ssl if auth else True,
                max_reply=16 * 1024,
            )
        except NetworkFailure as exc:
            log.warning("help call: %s %s failed (%s)", method, url, exc.reason)
            return None

    async def _webhook(self, event: str, call_id: str, reason: str) -> bool:
        if self.webhook_url is None:
            return False
        body: dict[str, object] = {
            "event": event,
            "cabin_id": self.cabin_id,
            "call_id": call_id,
            "reason": reason,
            "at": self._clock().isoformat(),
        }
        reply = await self._send("POST", self.webhook_url, body, auth=False)
        return reply is not None and 200 <= reply.status < 300

    # -- the call ---------------------------------------------------------------------

    async def call(self, reason: HelpReason) -> HelpCall:
        """Ring both ways at once; traced with where it reached. Never raises."""
        call_id = uuid.uuid4().hex
        body: dict[str, object] = {"call_id": call_id, "reason": str(reason)}
        platform, local = await asyncio.gather(
            self._send("POST", self.base + HELP_PATH, body, auth=True),
            self._webhook("help-call", call_id, str(reason)),
        )
        took = platform is not None and platform.status in (200, 201)
        call = HelpCall(call_id, reason, self._clock(), took, local)
        where = "+".join(w for w, ok in (("platform", took), ("local", local)) if ok) or "none"
        self.trace("help.call", call_id, f"reason={reason} reached={where}")
        return call

    async def state(self, call: HelpCall) -> HelpState:
        """The platform's word on the call; the acknowledgement traced once."""
        if not call.reached:
            return HelpState.UNREACHABLE
        if not call.platform:
            return HelpState.RINGING  # a local bell does not answer back
        reply = await self._send("GET", f"{self.base}{HELP_PATH}/{call.call_id}", None, auth=True)
        if reply is None or reply.status != 200:
            return HelpState.RINGING
        try:
            state = HelpState(json.loads(reply.body)["state"])
        except (ValueError, KeyError, TypeError):
            return HelpState.RINGING
        if state is HelpState.ACKNOWLEDGED and call.call_id not in self._acknowledged:
            self._acknowledged.add(call.call_id)
            self.trace("help.acknowledged", call.call_id, "by=platform")
        return state

    async def end(self, call: HelpCall, why: str) -> None:
        """The need is over (`why`: helped, session-ended, cancelled); traced. Never raises."""
        if call.platform:
            url = f"{self.base}{HELP_PATH}/{call.call_id}/end"
            await self._send("POST", url, {"why": why}, auth=True)
        if call.local:
            await self._webhook("help-ended", call.call_id, str(call.reason))
        self.trace("help.ended", call.call_id, f"why={why}")

    async def preparation_confirmed(self, by: str, at: datetime) -> bool:
        """Tell the platform the cabin was made ready by `by` (a username) at `at`."""
        body: dict[str, object] = {"by": by, "at": at.isoformat()}
        reply = await self._send("POST", self.base + PREPARATION_PATH, body, auth=True)
        return reply is not None and reply.status in (200, 201)


__all__ = [
    "CALLED_SENTENCE",
    "COMING_SENTENCE",
    "OFFLINE_SENTENCE",
    "HelpCall",
    "HelpCallClient",
    "HelpReason",
    "HelpState",
    "SilenceWatch",
]
