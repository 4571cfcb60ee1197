"""The kiosk's signalling client: a small base class and our platform's WebSocket.

Another platform plugs in by subclassing Signalling and implementing the four
abstract methods with its own transport and, if it must, its own message
mapping onto app.call.messages; the CallSession only ever sees these methods
and those dataclasses (see docs/call.md, "Plugging another platform").
Reconnection policy is the session's, not the transport's: ``receive`` raises
SignallingUnavailable when the link is gone and the session calls ``connect``
again with the same Hello, which the platform treats as the same session.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from abc import ABC, abstractmethod

import aiohttp

from app.call import messages as m
from app.call.errors import SignallingProtocolError, SignallingUnavailable
from app.sync.transport import CabinAuth, CabinAuthError, NetworkFailure
from kiosk_config.schema import IceServer

log = logging.getLogger(__name__)


class Signalling(ABC):
    @abstractmethod
    async def connect(self, hello: m.Hello) -> m.Welcome:
        """Open the link and announce the session; raises SignallingUnavailable."""

    @abstractmethod
    async def send(self, message: m.Message) -> None:
        """Send one message; raises SignallingUnavailable if the link is down."""

    @abstractmethod
    async def receive(self) -> m.Message:
        """Next message; SignallingUnavailable when the link is gone,
        SignallingProtocolError for one bad message (the link stays up)."""

    @abstractmethod
    async def close(self) -> None:
        """Close for good; idempotent."""

    @property
    @abstractmethod
    def connected(self) -> bool: ...

    async def call_ice_servers(self) -> tuple[IceServer, ...] | None:
        """This call's ICE servers, when the platform mints them per call (its TURN
        credential); None: use the site configuration's."""
        return None

    async def send_offer(self, sdp: str, *, restart: bool = False) -> None:
        await self.send(m.Offer(sdp=sdp, restart=restart))

    async def send_answer(self, sdp: str) -> None:
        await self.send(m.Answer(sdp=sdp))

    async def send_candidate(
        self, candidate: str | None, sdp_mid: str | None, sdp_mline_index: int | None
    ) -> None:
        await self.send(m.Candidate(candidate, sdp_mid, sdp_mline_index))

    async def send_bye(self, reason: str) -> None:
        await self.send(m.Bye(reason=reason))

    async def send_text(self, text: str) -> None:
        await self.send(m.Text(text=text, sender="patient"))

    async def send_summary(self, patch: m.JsonObject) -> None:
        await self.send(m.SummaryUpdate(patch=patch))


class WebSocketSignalling(Signalling):
    """Our platform: JSON messages over a WebSocket at ``<platform url>/signalling/kiosk``.

    ``auth`` (the cabin's token, app.sync.transport.CabinAuth) goes in the opening
    handshake as ``Authorization: Bearer …``: the platform refuses an anonymous socket,
    and a session id alone never opens or takes over a room (docs/call.md).
    """

    def __init__(
        self,
        platform_url: str,
        *,
        ssl_context: ssl.SSLContext | None = None,
        connect_timeout_s: float = 5.0,
        heartbeat_s: float = 2.0,
        auth: CabinAuth | None = None,
    ) -> None:
        self._auth = auth
        base = platform_url.rstrip("/")
        if base.startswith("http"):
            base = "ws" + base[4:]
        self.url = base + "/signalling/kiosk"
        self._ssl = ssl_context
        self._timeout = connect_timeout_s
        self._heartbeat = heartbeat_s
        self._http: aiohttp.ClientSession | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._http_base = platform_url.rstrip("/")
        self._session_id: str | None = None

    @property
    def connected(self) -> bool:
        return self._ws is not None and not self._ws.closed

    def _unavailable(self, why: str) -> SignallingUnavailable:
        return SignallingUnavailable(f"The platform's signalling {why}.", url=self.url)

    async def connect(self, hello: m.Hello) -> m.Welcome:
        await self._drop_socket()
        if self._http is None or self._http.closed:
            self._http = aiohttp.ClientSession()
        try:
            headers = await self._auth.headers(self._http) if self._auth is not None else {}
        except CabinAuthError:
            raise self._unavailable("refused the cabin's proof") from None
        except NetworkFailure as exc:
            raise self._unavailable(f"cannot be reached ({exc.reason.value})") from None
        try:
            self._ws = await self._http.ws_connect(
                self.url,
                headers=headers,
                heartbeat=self._heartbeat,
                timeout=aiohttp.ClientWSTimeout(ws_close=self._timeout),
                ssl=self._ssl if self._ssl is not None else True,
                max_msg_size=m.MAX_MESSAGE_CHARS,
            )
            await self._ws.send_str(m.encode(hello))
            async with asyncio.timeout(self._timeout):
                reply = await self.receive()
        except aiohttp.WSServerHandshakeError as exc:
            await self._drop_socket()
            if exc.status == 401 and self._auth is not None:
                self._auth.invalidate()  # the next connect asks a new token
            raise self._unavailable(f"refused the link (HTTP {exc.status})") from None
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            await self._drop_socket()
            raise self._unavailable(f"cannot be reached ({type(exc).__name__})") from None
        if not isinstance(reply, m.Welcome):
            await self._drop_socket()
            raise self._unavailable(f"answered the announcement with '{reply.type}'")
        log.info("signalling connected (session id length %d)", len(hello.session_id))
        self._session_id = hello.session_id
        return reply

    async def call_ice_servers(self) -> tuple[IceServer, ...] | None:
        """`GET /cabin/ice/{session}` with the cabin's token: the TURN credential the platform
        minted for this call (valid for the call only). None without a cabin token, or when
        the platform gives none or cannot be asked: the site configuration's servers are used."""
        http, session_id = self._http, self._session_id
        if self._auth is None or http is None or http.closed or session_id is None:
            return None  # per-call credentials come with enrolment: an anonymous kiosk has none
        url = f"{self._http_base}/cabin/ice/{session_id}"
        try:
            headers = await self._auth.headers(http) if self._auth is not None else {}
            async with http.get(
                url,
                headers=headers,
                ssl=self._ssl if self._ssl is not None else True,
                timeout=aiohttp.ClientTimeout(total=self._timeout),
            ) as response:
                if response.status != 200:
                    log.info("call ICE servers not given (HTTP %d)", response.status)
                    return None
                body = await response.json()
            servers = tuple(
                IceServer(
                    urls=tuple(s["urls"]) if isinstance(s["urls"], list) else (s["urls"],),
                    username=s.get("username"),
                    credential=s.get("credential"),
                )
                for s in body["iceServers"]
            )
        except (aiohttp.ClientError, OSError, TimeoutError, CabinAuthError, NetworkFailure):
            log.info("call ICE servers could not be asked; the site's are used")
            return None
        except (ValueError, KeyError, TypeError):  # pydantic's ValidationError is a ValueError
            log.warning("call ICE servers answer unreadable; the site's are used")
            return None
        return servers or None

    async def send(self, message: m.Message) -> None:
        ws = self._ws
        if ws is None or ws.closed:
            raise self._unavailable("is not connected")
        try:
            await ws.send_str(m.encode(message))
        except (aiohttp.ClientError, OSError, ConnectionError) as exc:
            raise self._unavailable(f"failed while sending ({type(exc).__name__})") from None

    async def receive(self) -> m.Message:
        ws = self._ws
        if ws is None:
            raise self._unavailable("is not connected")
        msg = await ws.receive()
        if msg.type is aiohttp.WSMsgType.TEXT:
            try:
                return m.decode(msg.data)
            except SignallingProtocolError:
                log.warning("signalling: malformed message of %d characters", len(msg.data))
                raise
        await self._drop_socket()
        raise self._unavailable(f"closed the link ({msg.type.name.lower()})")

    async def _drop_socket(self) -> None:
        ws, self._ws = self._ws, None
        if ws is not None and not ws.closed:
            await ws.close()

    async def close(self) -> None:
        await self._drop_socket()
        http, self._http = self._http, None
        if http is not None:
            await http.close()
