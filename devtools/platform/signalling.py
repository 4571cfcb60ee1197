"""Signalling and the doctor's console for the reference platform.

``install(app)`` adds, to any aiohttp application:
- ``GET /signalling/kiosk``  WebSocket: a kiosk announces a session (Hello) and
  relays offer/candidates/bye/text/media to the doctor who took it;
- ``GET /signalling/doctor?token=…`` WebSocket: a logged-in doctor sees the
  waiting list and who is online, takes a patient, relays answer/candidates/
  bye/text/media/documents to that kiosk;
- ``POST /console/api/login`` / ``logout``, ``GET /console/api/online``,
  ``GET /console/api/me`` (is this console token still logged in),
  ``GET /console/api/config`` (ICE servers for the browser);
- ``POST /cabin/turn/test-credential`` (cabin token): a TURN credential valid 30 s
  for the technician's TURN test only (`Hub.turn_test_credential`);
- ``/console/`` the doctor's web page (static files, no build step);
- ``GET /cabin/documents/{session_id}/{document_id}``: the kiosk asks, for a
  document its doctor sent in that session, the patient's link (JSON
  ``{"url", "expiresAt"}``); ``GET /patient/documents/{token}`` serves the
  document to whoever holds the link (the QR code on the end screen), and a
  plain French 404 page otherwise (see `DocumentShelf`).

Rooms are keyed by the kiosk's session id and survive a dropped link on either
side, so a kiosk or a page that reconnects finds its call again. The platform,
not the kiosk or the page, says who the doctor is (DoctorJoined). Logs carry
ids, types and lengths only: session summaries are health data.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import hashlib
import html
import json
import logging
import secrets
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import WSMsgType, web

from app.call import messages as m
from app.call.errors import SignallingErrorReason, SignallingProtocolError
from devtools.platform.cabins import (
    CABINS_KEY,
    OPEN_TEST_MODE_KEY,
    OPEN_TEST_MODE_REFUSAL,
    CabinAuthRefused,
    CabinRegistry,
    OpenTestModeNotAsked,
    warn_open_test_mode,
)
from devtools.platform.doctors import (
    DoctorAccount,
    DoctorDirectory,
    LoginGuard,
    LoginSessions,
    StaffLogin,
)
from devtools.platform.fleet import STAFF_KEY
from devtools.turn import TurnAdmin, TurnAdminError, rest_credential

log = logging.getLogger(__name__)

CONSOLE_DIR = Path(__file__).with_name("console")
ROOM_GRACE_S = 120.0  # a room whose kiosk is gone this long is closed for good
MAX_JSON_DEPTH = 32  # deeper messages are refused before json.loads can recurse
DOCUMENT_LINK_TTL_S = 7 * 24 * 3600.0  # a week to read it again, on the device that opened it
DOCUMENT_FIRST_OPEN_S = 15 * 60.0  # the link alone opens it only this long after it is given
DOCUMENT_RATE_PER_MINUTE = 10  # requests per address per minute on the patient's pages
DOCUMENT_COOKIE = "tc_document_device"
DOCUMENT_TOKEN_BYTES = 32  # 256 bits from `secrets`: a link cannot be guessed
PATIENT_DOCUMENT_PATH = "/patient/documents/"


@dataclass(frozen=True)
class DocumentAccess:
    """One line of the documents' access trace: when, which document, from where, what."""

    at: float
    document_id: str | None
    address: str
    outcome: str


@dataclass(frozen=True)
class SharedDocument:
    session_id: str
    document_id: str
    kind: str
    title: str = field(repr=False)
    text: str | None = field(repr=False, default=None)
    pdf: bytes | None = field(repr=False, default=None)
    token: str = field(repr=False, default="")
    expires_at: float = 0.0


class DocumentShelf:
    """The documents doctors issued, each behind a link only the patient's QR code holds.

    Why a minted token and not the document id in the URL: ids are short and
    made by the doctor's software ("demo-doc-1"); anyone could type the next
    one. The token is 256 random bits, minted here when the document passes
    from the doctor to the kiosk, valid for `DOCUMENT_LINK_TTL_S`. The kiosk
    learns it by asking with the session id it opened the call with (a
    random id only that cabin and the platform know). Kept in memory: the
    reference platform is for tests and the demo.
    """

    def __init__(self, now: Callable[[], float] = time.time) -> None:
        self.now = now
        self._by_token: dict[str, SharedDocument] = {}
        self._by_session: dict[tuple[str, str], str] = {}
        self._device_of: dict[str, str] = {}  # token → SHA-256 of the device's cookie
        self._hits: dict[str, list[float]] = {}
        self.trace: list[DocumentAccess] = []

    def open(
        self, token: str, cookie: str | None, address: str
    ) -> tuple[str, SharedDocument | None, str | None]:
        """One patient's request: (outcome, the document or None, a cookie to set or None).

        The link alone opens the document only within `DOCUMENT_FIRST_OPEN_S` of its
        minting, and only once: that first device gets a cookie, and from then on the
        document is served only with it, until `DOCUMENT_LINK_TTL_S`. Whoever finds the
        printed sheet or photographs the QR code later gets nothing. Rate limited per
        address; every request traced (no token, no document content).
        """
        now = self.now()
        hits = [t for t in self._hits.get(address, []) if now - t < 60.0]
        hits.append(now)
        self._hits[address] = hits
        document = self.by_token(token)
        if len(hits) > DOCUMENT_RATE_PER_MINUTE:
            outcome, result, new_cookie = "rate-limited", None, None
        elif document is None:
            outcome, result, new_cookie = "unknown-or-expired", None, None
        elif token in self._device_of:
            seen = hashlib.sha256((cookie or "").encode()).hexdigest()
            if cookie and secrets.compare_digest(seen, self._device_of[token]):
                outcome, result, new_cookie = "served-bound-device", document, None
            else:
                outcome, result, new_cookie = "refused-other-device", None, None
        elif now > document.expires_at - DOCUMENT_LINK_TTL_S + DOCUMENT_FIRST_OPEN_S:
            outcome, result, new_cookie = "refused-first-open-window-over", None, None
        else:
            new_cookie = secrets.token_urlsafe(32)
            self._device_of[token] = hashlib.sha256(new_cookie.encode()).hexdigest()
            outcome, result = "served-first-open", document
        self.trace.append(
            DocumentAccess(now, document.document_id if document else None, address, outcome)
        )
        if len(self.trace) > 10_000:
            del self.trace[:1000]
        log.info("patient document request: %s", outcome)
        return outcome, result, new_cookie

    def keep(self, session_id: str, message: m.DocumentMessage) -> SharedDocument:
        token = secrets.token_urlsafe(DOCUMENT_TOKEN_BYTES)
        pdf = None
        if message.pdf_base64:
            try:
                pdf = base64.b64decode(message.pdf_base64, validate=True)
            except (binascii.Error, ValueError):
                pdf = None
        document = SharedDocument(
            session_id,
            message.document_id,
            message.kind,
            message.title,
            message.text,
            pdf,
            token,
            self.now() + DOCUMENT_LINK_TTL_S,
        )
        self._purge()
        self._by_token[token] = document
        self._by_session[(session_id, message.document_id)] = token
        return document

    def for_session(self, session_id: str, document_id: str) -> SharedDocument | None:
        token = self._by_session.get((session_id, document_id))
        return self.by_token(token) if token else None

    def by_token(self, token: str) -> SharedDocument | None:
        document = self._by_token.get(token)
        if document is None or not secrets.compare_digest(document.token, token):
            return None
        if document.expires_at <= self.now():
            return None
        return document

    def _purge(self) -> None:
        now = self.now()
        for token, document in list(self._by_token.items()):
            if document.expires_at <= now:
                del self._by_token[token]
                self._device_of.pop(token, None)
                self._by_session.pop((document.session_id, document.document_id), None)


_OTHER_DEVICE_PAGE = """<!doctype html>
<html lang="fr"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Document déjà ouvert</title></head>
<body style="font-family: sans-serif; font-size: 1.2rem; max-width: 40rem; margin: 2rem auto">
<h1>Document déjà ouvert</h1>
<p>Ce document a déjà été ouvert sur un autre téléphone : pour protéger vos données de santé,
il ne s'ouvre plus que sur celui-là.</p>
<p>Demandez le document au médecin qui vous a reçu, ou au pharmacien de la cabine.</p>
</body></html>
"""

_TOO_MANY_PAGE = """<!doctype html>
<html lang="fr"><head><meta charset="utf-8"><title>Trop de demandes</title></head>
<body style="font-family: sans-serif; font-size: 1.2rem; max-width: 40rem; margin: 2rem auto">
<h1>Trop de demandes</h1><p>Réessayez dans une minute.</p></body></html>
"""

_KIND_TITLES = {"prescription": "Ordonnance", "report": "Compte rendu"}

_NOT_FOUND_PAGE = """<!doctype html>
<html lang="fr"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Document introuvable</title></head>
<body style="font-family: sans-serif; font-size: 1.2rem; max-width: 40rem; margin: 2rem auto">
<h1>Document introuvable</h1>
<p>Ce lien ne mène à aucun document. Il a peut-être expiré : un lien s'ouvre dans les
quinze minutes qui suivent la consultation, puis reste valable sept jours sur le téléphone
qui l'a ouvert.</p>
<p>Demandez le document au médecin qui vous a reçu, ou au pharmacien de la cabine.</p>
</body></html>
"""


def _document_page(document: SharedDocument) -> str:
    kind = _KIND_TITLES.get(document.kind, "Document")
    title = html.escape(document.title)
    text = html.escape(document.text or "")
    expires = time.strftime("%d/%m/%Y", time.localtime(document.expires_at))
    return f"""<!doctype html>
<html lang="fr"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{kind}</title></head>
<body style="font-family: sans-serif; font-size: 1.2rem; max-width: 40rem; margin: 2rem auto">
<p>{kind}</p>
<h1>{title}</h1>
<pre style="white-space: pre-wrap; font-family: inherit">{text}</pre>
<p><small>Enregistrez ou imprimez ce document : ce lien reste valable jusqu'au {expires}.</small></p>
</body></html>
"""


# Messages a kiosk may relay to its doctor, and a doctor to its kiosk.
_FROM_KIOSK = (m.Offer, m.Candidate, m.Text, m.MediaState, m.DocumentAck, m.Bye)
_FROM_DOCTOR = (m.Answer, m.Candidate, m.Text, m.MediaState, m.DocumentMessage, m.Bye)


@dataclass
class Room:
    session_id: str
    cabin_id: str
    summary: dict[str, Any]
    kiosk: web.WebSocketResponse | None = None
    doctor: DoctorAccount | None = None
    doctor_ws: web.WebSocketResponse | None = None
    ended: bool = False
    since: float = field(default_factory=time.time)
    kiosk_gone_at: float | None = None  # the hub's clock when the kiosk's socket went away
    # This call's tag in its TURN usernames ("<expiry>:<who>.<call_ref>"): at hang-up the
    # platform cancels every relay session whose username holds it (docs/call.md).
    call_ref: str = field(default_factory=lambda: secrets.token_hex(8))
    turn_valid_until: float = 0.0  # wall clock: the latest expiry minted for this call

    def status(self) -> str:
        if self.kiosk is None:
            return "kiosk-disconnected"
        if self.doctor is None:
            return "waiting"
        return "in-call" if self.doctor_ws is not None else "doctor-disconnected"

    def listing(self) -> dict[str, Any]:
        return {
            "session_id": self.session_id,
            "cabin_id": self.cabin_id,
            "status": self.status(),
            "doctor": self.doctor.identity.name if self.doctor else None,
            "since": self.since,
            "summary": self.summary,
        }


# How long a minted TURN credential opens new allocations. coturn checks the REST
# username's timestamp only when a relay session first authenticates (its Allocate),
# never on Refresh (coturn 4.6 ns_turn_server.c check_stun_auth: the session keeps the
# key; tested in tests/platform/test_turn_revocation.py), so the credential need only
# outlive the allocation's setup: the kiosk asks one at each negotiation, the doctor's
# page gets one with the patient and before each offer. The allocations themselves are
# ended at hang-up through coturn's CLI (`TurnRest.admin`).
CALL_TURN_TTL_S = 120.0
TURN_SWEEP_MARGIN_S = 15.0  # ended calls are swept this long past their last expiry
# The technician's TURN test (app/maintenance/turn.py) gets a credential of its own: it
# allocates within seconds, so 30 s of validity; its relay sessions are cancelled once the
# test's longest run is over (`TURN_TEST_RUN_S` past the expiry), whether or not the test
# closed them, so a credential lifted from a cabin during a test relays nothing for long.
TURN_TEST_TTL_S = 30.0
TURN_TEST_RUN_S = 30.0
TURN_TEST_PATH = "/cabin/turn/test-credential"


@dataclass(frozen=True)
class TurnTestMinted:
    """One line of the TURN test credentials' trace: when, which cabin, what was answered."""

    at: float
    cabin: str | None
    outcome: str  # "minted", "refused-no-token", "not-offered"


@dataclass(frozen=True)
class TurnRest:
    """coturn's TURN REST scheme: the platform shares `secret` with coturn
    (`use-auth-secret`) and mints, per call, credentials that end `ttl_s` later.

    `admin`: coturn's management CLI; when given, the relay sessions of a call are
    cancelled at its end (and again while its credentials could still allocate), so a
    credential stops working with its call, not only at its expiry."""

    urls: tuple[str, ...]
    secret: str = field(repr=False)
    ttl_s: float = CALL_TURN_TTL_S
    admin: TurnAdmin | None = None


@dataclass
class IceSettings:
    servers: list[dict[str, Any]] = field(default_factory=list)
    relay_only: bool = False
    turn: TurnRest | None = None


def json_depth_exceeds(text: str, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether brackets outside strings nest deeper than `limit` (checked without recursion)."""
    depth = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > limit:
                return True
        elif char in "]}":
            depth -= 1
    return False


class Hub:
    def __init__(
        self,
        directory: DoctorDirectory,
        ice: IceSettings,
        shelf: DocumentShelf | None = None,
        *,
        cabins: CabinRegistry | None = None,
        clock: Callable[[], float] = time.monotonic,
        room_grace_s: float = ROOM_GRACE_S,
        guard: LoginGuard | None = None,
    ) -> None:
        self.shelf = shelf or DocumentShelf()
        self.directory = directory
        self.ice = ice
        self.cabins = cabins
        self.clock = clock
        self.room_grace_s = room_grace_s
        self.guard = guard or LoginGuard()
        self.logins = LoginSessions()
        self.staff = StaffLogin(directory, self.guard, self.logins)
        self.rooms: dict[str, Room] = {}
        self.cabin_of_session: dict[str, str] = {}  # for the document links asked after the call
        self.doctor_sockets: dict[web.WebSocketResponse, DoctorAccount] = {}
        self.kiosk_sockets: set[web.WebSocketResponse] = set()
        self.ended_calls: dict[str, float] = {}  # call_ref → its credentials' last expiry
        self.turn_tests: dict[str, float] = {}  # a test's tag → when its sessions are cut
        self.turn_test_trace: list[TurnTestMinted] = []
        self.pending: set[asyncio.Task[Any]] = set()  # cancellations under way (tests wait)

    # ---- HTTP --------------------------------------------------------------------------

    async def login(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
            login, password = str(body["login"]), str(body["password"])
        except (ValueError, KeyError, TypeError):
            return web.json_response({"error": "Identifiant et mot de passe requis."}, status=400)
        outcome, account, wait = self.staff.attempt(login, password, request.remote or "?")
        if outcome == "locked":
            log.warning("console login refused: locked (%d s left)", int(wait))
            return web.json_response(
                {
                    "error": "Trop d'essais : connexion bloquée. Réessayez dans "
                    f"{max(1, round(wait / 60))} minute(s)."
                },
                status=429,
                headers={"Retry-After": str(max(1, int(wait + 0.999)))},
            )
        if account is None:
            log.warning("console login refused")
            return web.json_response(
                {"error": "Identifiant ou mot de passe incorrect."}, status=401
            )
        token = self.logins.open(account.login)
        log.info("console login accepted")
        return web.json_response({"token": token, "doctor": account.identity.to_json()})

    async def logout(self, request: web.Request) -> web.Response:
        self.logins.close(request.headers.get("Authorization", "").removeprefix("Bearer "))
        return web.json_response({"ok": True})

    async def me(self, request: web.Request) -> web.Response:
        """Who a console token belongs to (401 when unknown): a reloaded or reconnecting page
        checks its login before opening its socket again."""
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        login = self.logins.login_of(token)
        account = self.directory.get(login) if login else None
        if account is None:
            return web.json_response({"error": "Connexion requise."}, status=401)
        return web.json_response({"doctor": account.identity.to_json()})

    async def online(self, request: web.Request) -> web.Response:
        return web.json_response({"doctors": self._online()})

    def _doctor_of(self, request: web.Request) -> DoctorAccount | None:
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        login = self.logins.login_of(token) if token else None
        return self.directory.get(login) if login else None

    async def config(self, request: web.Request) -> web.Response:
        """ICE servers for a logged-in doctor's page (the TURN credential is not for anyone)."""
        if self._doctor_of(request) is None:
            return web.json_response({"error": "Connexion requise."}, status=401)
        return web.json_response(
            {
                "iceServers": self.ice.servers,
                "iceTransportPolicy": "relay" if self.ice.relay_only else "all",
            }
        )

    def _online(self) -> list[dict[str, str]]:
        seen: dict[str, dict[str, str]] = {}
        for account in self.doctor_sockets.values():
            seen[account.login] = account.identity.to_json()
        return sorted(seen.values(), key=lambda d: d["name"])

    # ---- sending -----------------------------------------------------------------------

    @staticmethod
    async def _send(ws: web.WebSocketResponse | None, payload: dict[str, Any] | m.Message) -> None:
        if ws is None or ws.closed:
            return
        text = json.dumps(payload) if isinstance(payload, dict) else m.encode(payload)
        try:
            await ws.send_str(text)
        except (ConnectionError, RuntimeError):
            log.info("signalling: send to a closing socket dropped")

    def routed(self, room: Room, account: DoctorAccount) -> bool:
        """A doctor sees and takes only the patients routed to them (all, without a registry)."""
        return self.cabins is None or self.cabins.routed_to(room.cabin_id, account.login)

    async def _broadcast_lists(self) -> None:
        self.sweep()
        online = self._online()
        for ws, account in list(self.doctor_sockets.items()):
            waiting = [
                r.listing() for r in self.rooms.values() if not r.ended and self.routed(r, account)
            ]
            await self._send(ws, {"type": "waiting", "patients": waiting})
            await self._send(ws, {"type": "online", "doctors": online})

    def sweep(self) -> list[str]:
        """Close the rooms whose kiosk has been gone longer than the grace; their ids."""
        now = self.clock()
        gone = [
            sid
            for sid, room in self.rooms.items()
            if room.kiosk is None
            and room.kiosk_gone_at is not None
            and now - room.kiosk_gone_at > self.room_grace_s
        ]
        for sid in gone:
            room = self.rooms.pop(sid)
            self._call_over(room)
            log.info("signalling: a room expired after its kiosk left")
        return gone

    # ---- TURN: a credential stops working with its call -----------------------------------

    def _call_over(self, room: Room) -> None:
        """The room's call is over: remember its TURN tag and cancel its relay sessions."""
        room.ended = True
        if self.ice.turn is None:
            return
        self.ended_calls[room.call_ref] = max(room.turn_valid_until, time.time())
        self._spawn(self.end_turn_sessions())

    def _spawn(self, coroutine: Coroutine[Any, Any, Any]) -> None:
        try:
            task = asyncio.get_running_loop().create_task(coroutine)
        except RuntimeError:  # no loop (a synchronous test of sweep): the sweeper will do it
            coroutine.close()
            return
        self.pending.add(task)
        task.add_done_callback(self.pending.discard)

    async def end_turn_sessions(self) -> int:
        """Cancel the coturn sessions of ended calls; how many were cancelled.

        Called at each hang-up and by the sweeper: a credential minted shortly before the
        end could still open an allocation until its expiry, so an ended call is swept
        until `TURN_SWEEP_MARGIN_S` past its last expiry. Without `admin` the credential
        ends at its expiry only (and its allocations with their lifetime), said in the log.
        """
        turn = self.ice.turn
        now = time.time()
        for tag, cut_at in list(self.turn_tests.items()):
            if now > cut_at:  # the technician's test is over: its sessions go like a call's
                del self.turn_tests[tag]
                self.ended_calls[tag] = now
        if turn is None or not self.ended_calls:
            return 0
        for ref, until in list(self.ended_calls.items()):
            if now > until + TURN_SWEEP_MARGIN_S:
                del self.ended_calls[ref]
        if turn.admin is None:
            log.warning("TURN: no coturn CLI configured, a call's relay ends at its expiry only")
            self.ended_calls.clear()
            return 0
        cancelled = 0
        for ref in list(self.ended_calls):
            try:
                cancelled += await turn.admin.cancel(ref)
            except TurnAdminError as exc:
                log.warning("TURN: relay sessions of an ended call not cancelled (%s)", exc)
                break
        if cancelled:
            log.info("TURN: %d relay session(s) of ended calls cancelled", cancelled)
        return cancelled

    async def sweep_forever(self, period_s: float = 5.0) -> None:
        while True:
            await asyncio.sleep(period_s)
            if self.sweep():
                await self._broadcast_lists()
            await self.end_turn_sessions()

    # ---- kiosk -------------------------------------------------------------------------

    def cabin_of(self, request: web.Request) -> str | None:
        """The cabin a request's Bearer token proves (None: no registry, or no valid token)."""
        if self.cabins is None:
            return None
        return self.cabins.cabin_of_header(request.headers.get("Authorization", ""))

    async def kiosk_ws(self, request: web.Request) -> web.StreamResponse:
        cabin = self.cabin_of(request)
        if self.cabins is not None and cabin is None:
            log.warning("kiosk signalling refused: no valid cabin token")
            return web.json_response({"error": "Cabin authentication required."}, status=401)
        ws = web.WebSocketResponse(heartbeat=5.0, max_msg_size=m.MAX_MESSAGE_CHARS)
        await ws.prepare(request)
        self.kiosk_sockets.add(ws)
        room: Room | None = None
        try:
            first = await ws.receive(timeout=10)
            text = first.data if first.type is WSMsgType.TEXT else ""
            hello = m.decode(text) if text and not json_depth_exceeds(text) else None
            if not isinstance(hello, m.Hello):
                await self._send(ws, m.ErrorMessage("hello-expected", "Send 'hello' first."))
                return ws
            if cabin is not None and hello.cabin_id != cabin:
                log.warning("kiosk signalling refused: hello for another cabin than the token's")
                await self._send(
                    ws, m.ErrorMessage("wrong-cabin", "This cabin may not announce that session.")
                )
                return ws
            self.sweep()
            room = self.rooms.get(hello.session_id)
            if room is None or room.ended:
                room = Room(hello.session_id, hello.cabin_id, dict(hello.summary))
                self.rooms[hello.session_id] = room
                self.cabin_of_session[hello.session_id] = hello.cabin_id
            else:
                # A session id is not a credential: only the cabin that opened the room may
                # come back to it, and with cabins enrolled a live kiosk socket is replaced
                # only by the same authenticated cabin (its own reconnection after a drop the
                # platform has not noticed yet). In the open test mode nobody is
                # authenticated: the cabin id must match, and that is all it can check.
                live = room.kiosk is not None and not room.kiosk.closed
                proven = self.cabins is None or cabin == room.cabin_id
                if hello.cabin_id != room.cabin_id or (live and not proven):
                    log.warning("kiosk signalling refused: the session belongs to another socket")
                    room = None
                    await self._send(
                        ws, m.ErrorMessage("session-taken", "This session is already open.")
                    )
                    return ws
                room.summary = dict(hello.summary) or room.summary
                if room.kiosk is not None and room.kiosk is not ws:
                    await room.kiosk.close()
            room.kiosk = ws
            room.kiosk_gone_at = None
            log.info("kiosk announced a session (%d summary keys)", len(room.summary))
            await self._send(ws, m.Welcome(hello.session_id))
            if room.doctor is not None:
                if room.doctor_ws is not None:
                    await self._send(ws, m.DoctorJoined(room.doctor.identity))
                else:
                    await self._send(ws, m.PeerLeft("doctor"))
            await self._broadcast_lists()
            async for msg in ws:
                if msg.type is not WSMsgType.TEXT:
                    continue
                await self._from_kiosk(room, msg.data)
        except (SignallingProtocolError, TimeoutError) as exc:
            log.info("kiosk signalling refused: %s", type(exc).__name__)
        finally:
            self.kiosk_sockets.discard(ws)
            if room is not None and room.kiosk is ws:
                room.kiosk = None
                room.kiosk_gone_at = self.clock()
                if not room.ended:
                    await self._send(room.doctor_ws, m.PeerLeft("kiosk"))
                await self._broadcast_lists()
        return ws

    async def _from_kiosk(self, room: Room, data: str) -> None:
        try:
            if json_depth_exceeds(data):
                raise SignallingProtocolError(
                    SignallingErrorReason.NOT_JSON, "The message nests too deeply."
                )
            message = m.decode(data)
        except SignallingProtocolError as exc:
            await self._send(room.kiosk, m.ErrorMessage(exc.reason.value, str(exc)))
            return
        if isinstance(message, m.SummaryUpdate):
            room.summary.update(message.patch)
            await self._send(
                room.doctor_ws, {"type": "patient", "session_id": room.session_id, **room.listing()}
            )
            await self._broadcast_lists()
        elif isinstance(message, _FROM_KIOSK):
            if isinstance(message, m.Offer) and room.doctor is not None and self.ice.turn:
                # Every offer (a first one or a restart) makes the page open a new peer
                # connection: it gets a fresh credential for it, the last one may be over.
                await self._send(
                    room.doctor_ws,
                    {
                        "type": "patient",
                        **room.listing(),
                        "iceServers": self.call_ice(room.doctor.login, room),
                    },
                )
            await self._send(room.doctor_ws, message)
            if isinstance(message, m.Bye):
                self._call_over(room)
                self.rooms.pop(room.session_id, None)
                await self._broadcast_lists()

    # ---- doctor ------------------------------------------------------------------------

    async def doctor_ws(self, request: web.Request) -> web.StreamResponse:
        login = self.logins.login_of(request.query.get("token", ""))
        account = self.directory.get(login) if login else None
        if account is None:
            return web.json_response({"error": "Connexion requise."}, status=401)
        ws = web.WebSocketResponse(heartbeat=5.0, max_msg_size=m.MAX_MESSAGE_CHARS)
        await ws.prepare(request)
        self.doctor_sockets[ws] = account
        try:
            await self._send(ws, {"type": "me", "doctor": account.identity.to_json()})
            await self._broadcast_lists()
            async for msg in ws:
                if msg.type is WSMsgType.TEXT:
                    await self._from_doctor(ws, account, msg.data)
        finally:
            self.doctor_sockets.pop(ws, None)
            for room in list(self.rooms.values()):
                if room.doctor_ws is ws:
                    room.doctor_ws = None
                    await self._send(room.kiosk, m.PeerLeft("doctor"))
            await self._broadcast_lists()
        return ws

    async def _from_doctor(
        self, ws: web.WebSocketResponse, account: DoctorAccount, data: str
    ) -> None:
        if json_depth_exceeds(data):
            log.warning("doctor signalling: a message nesting too deeply was refused")
            await self._send(
                ws,
                {"type": "error", "code": "too-deep", "message": "Message trop imbriqué."},
            )
            return
        try:
            raw = json.loads(data)
        except (ValueError, RecursionError):
            return
        if isinstance(raw, dict) and raw.get("type") == "take":
            resume = raw.get("resume") is True  # the page's peer connection is still up
            await self._take(ws, account, str(raw.get("session_id", "")), resume=resume)
            return
        try:
            message = m.decode(data)
        except SignallingProtocolError as exc:
            await self._send(ws, {"type": "error", "code": exc.reason.value, "message": str(exc)})
            return
        room = next((r for r in self.rooms.values() if r.doctor_ws is ws), None)
        if room is None or not isinstance(message, _FROM_DOCTOR):
            return
        if isinstance(message, m.DocumentMessage) and message.document_id:
            self.shelf.keep(room.session_id, message)  # before the kiosk can ask for its link
            log.info("document kept for the patient's link (%s)", message.kind)
        await self._send(room.kiosk, message)
        if isinstance(message, m.Bye):
            self._call_over(room)
            room.doctor_ws = None
            self.rooms.pop(room.session_id, None)
            await self._broadcast_lists()

    async def _take(
        self,
        ws: web.WebSocketResponse,
        account: DoctorAccount,
        session_id: str,
        *,
        resume: bool = False,
    ) -> None:
        self.sweep()
        room = self.rooms.get(session_id)
        if room is None or room.ended or not self.routed(room, account):
            await self._send(
                ws,
                {
                    "type": "error",
                    "code": "no-such-patient",
                    "session_id": session_id,
                    "message": "Ce patient n'est plus en salle d'attente.",
                },
            )
            return
        taken_by_other = room.doctor is not None and room.doctor.login != account.login
        if taken_by_other and room.doctor_ws is not None and room.doctor is not None:
            # Told plainly, with the colleague's name: the page must not wait on "connexion…".
            await self._send(
                ws,
                {
                    "type": "error",
                    "code": "already-taken",
                    "session_id": session_id,
                    "doctor": room.doctor.identity.name,
                    "message": f"{room.doctor.identity.name} a déjà pris en charge ce patient.",
                },
            )
            return
        room.doctor, room.doctor_ws = account, ws
        log.info("doctor took a session")
        patient: dict[str, Any] = {"type": "patient", **room.listing()}
        if self.ice.turn is not None:
            patient["iceServers"] = self.call_ice(account.login, room)  # this call's own
        await self._send(ws, patient)
        resume = resume and not taken_by_other
        await self._send(room.kiosk, m.DoctorJoined(account.identity, resume=resume))
        await self._broadcast_lists()

    # ---- the patient's documents ------------------------------------------------------------

    def call_ice(self, name: str, room: Room) -> list[dict[str, Any]]:
        """The ICE servers of one call: the static ones, and a TURN credential minted now
        for `name` (the cabin or the doctor's login) tagged with the call's `call_ref`."""
        servers = list(self.ice.servers)
        turn = self.ice.turn
        if turn is not None:
            expires = int(time.time() + turn.ttl_s)
            room.turn_valid_until = max(room.turn_valid_until, float(expires))
            username, password = rest_credential(turn.secret, f"{name}.{room.call_ref}", expires)
            servers.append({"urls": list(turn.urls), "username": username, "credential": password})
        return servers

    async def call_ice_for_kiosk(self, request: web.Request) -> web.Response:
        """`GET /cabin/ice/{session_id}`: the kiosk's ICE servers for the call of its room."""
        session_id = request.match_info["session_id"]
        room = self.rooms.get(session_id)
        cabin = self.cabin_of(request)
        allowed = room is not None and not room.ended
        if self.cabins is not None:
            allowed = allowed and room is not None and cabin == room.cabin_id
        if not allowed or room is None:
            log.warning("call ICE refused: no live room of this cabin")
            return web.json_response({"error": "No call of this cabin."}, status=401)
        return web.json_response(
            {
                "iceServers": self.call_ice(room.cabin_id, room),
                "iceTransportPolicy": "relay" if self.ice.relay_only else "all",
            }
        )

    async def turn_test_credential(self, request: web.Request) -> web.Response:
        """`POST /cabin/turn/test-credential` with the cabin's token: a TURN credential for
        the technician's TURN test only (`TURN_TEST_TTL_S`, tagged ``maint-<random>``, its
        sessions cut after the test); traced in `turn_test_trace`, never the credential."""
        turn, cabin = self.ice.turn, self.cabin_of(request)
        outcome = "minted"
        if turn is None or self.cabins is None:
            outcome = "not-offered"
        elif cabin is None:
            outcome = "refused-no-token"
        self.turn_test_trace.append(TurnTestMinted(time.time(), cabin, outcome))
        del self.turn_test_trace[:-1000]
        log.info("TURN test credential: %s", outcome)
        if outcome == "not-offered":
            return web.json_response({"error": "No TURN REST credentials here."}, status=404)
        if outcome != "minted" or turn is None:
            return web.json_response({"error": "Cabin authentication required."}, status=401)
        expires = int(time.time() + TURN_TEST_TTL_S)
        tag = f"maint-{secrets.token_hex(8)}"
        self.turn_tests[tag] = expires + TURN_TEST_RUN_S
        username, password = rest_credential(turn.secret, f"{cabin}.{tag}", expires)
        return web.json_response(
            {
                "iceServers": [
                    {"urls": list(turn.urls), "username": username, "credential": password}
                ],
                "expiresAt": expires,
            }
        )

    async def cabin_token(self, request: web.Request) -> web.Response:
        """`POST /auth/cabin/token`: a cabin's proof of its secret → a short-lived token."""
        if self.cabins is None:
            return web.json_response({"error": "No cabin is enrolled here."}, status=404)
        try:
            body = await request.json()
            if not isinstance(body, dict):
                raise TypeError
            token, expires = self.cabins.issue(body)
        except (ValueError, TypeError, CabinAuthRefused) as exc:
            log.warning("cabin token refused (%s)", type(exc).__name__)
            return web.json_response({"error": "Cabin authentication refused."}, status=401)
        log.info("cabin token issued")
        return web.json_response({"token": token, "expiresAt": expires})

    async def document_link(self, request: web.Request) -> web.Response:
        if self.cabins is not None:
            cabin = self.cabin_of(request)
            room_cabin = self.cabin_of_session.get(request.match_info["session_id"])
            if cabin is None or cabin != room_cabin:
                log.warning("document link refused: no valid cabin token for that session")
                return web.json_response({"error": "Cabin authentication required."}, status=401)
        document = self.shelf.for_session(
            request.match_info["session_id"], request.match_info["document_id"]
        )
        if document is None:
            return web.json_response(
                {"error": "Aucun document de ce nom pour cette séance."}, status=404
            )
        expires = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(document.expires_at))
        url = f"{request.scheme}://{request.host}{PATIENT_DOCUMENT_PATH}{document.token}"
        return web.json_response({"url": url, "expiresAt": expires})

    async def patient_document(self, request: web.Request) -> web.Response:
        headers = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
        token = request.match_info["token"]
        outcome, document, cookie = self.shelf.open(
            token, request.cookies.get(DOCUMENT_COOKIE), request.remote or "?"
        )
        if outcome == "rate-limited":
            headers["Retry-After"] = "60"
            return web.Response(
                text=_TOO_MANY_PAGE, status=429, content_type="text/html", headers=headers
            )
        if document is None:
            page = _OTHER_DEVICE_PAGE if outcome == "refused-other-device" else _NOT_FOUND_PAGE
            return web.Response(text=page, status=404, content_type="text/html", headers=headers)
        if document.pdf is not None:
            response = web.Response(
                body=document.pdf, content_type="application/pdf", headers=headers
            )
        else:
            response = web.Response(
                text=_document_page(document), content_type="text/html", headers=headers
            )
        if cookie is not None:
            response.set_cookie(
                DOCUMENT_COOKIE,
                cookie,
                path=PATIENT_DOCUMENT_PATH + token,
                max_age=int(DOCUMENT_LINK_TTL_S),
                httponly=True,
                secure=request.secure,
                samesite="Strict",
            )
        return response

    async def close_all(self, app: web.Application) -> None:
        for ws in list(self.doctor_sockets) + list(self.kiosk_sockets):
            await ws.close()
        if self.pending:  # cancellations under way at a hang-up just before: let them end
            await asyncio.wait(list(self.pending), timeout=5.0)


HUB_KEY = web.AppKey("telecabine_call_hub", Hub)


async def _console_index(request: web.Request) -> web.FileResponse:
    return web.FileResponse(CONSOLE_DIR / "index.html")


async def _console_redirect(request: web.Request) -> web.Response:
    raise web.HTTPFound("/console/")


def install(
    app: web.Application,
    *,
    directory: DoctorDirectory | None = None,
    ice_servers: Sequence[dict[str, Any]] = (),
    relay_only: bool = False,
    turn: TurnRest | None = None,
    shelf: DocumentShelf | None = None,
    cabins: CabinRegistry | None = None,
    clock: Callable[[], float] = time.monotonic,
    room_grace_s: float = ROOM_GRACE_S,
    guard: LoginGuard | None = None,
    open_test_mode: bool = False,
) -> None:
    """Add signalling and the doctor's console to ``app`` (an extension of create_app).

    `cabins` (else the application's `CABINS_KEY`, set by `create_app(cabins=…)`) makes
    every kiosk channel require a cabin token. Without one, signalling is installed
    only in the open test mode, asked by name: `open_test_mode=True` here, or an
    application `create_app(open_test_mode=True)` built; anything else raises
    `OpenTestModeNotAsked`, so a platform started the normal way authenticates kiosks.
    """
    cabins = cabins if cabins is not None else app.get(CABINS_KEY)
    if cabins is None:
        if not (open_test_mode or app.get(OPEN_TEST_MODE_KEY, False)):
            raise OpenTestModeNotAsked(OPEN_TEST_MODE_REFUSAL)
        warn_open_test_mode("signalling")
    hub = Hub(
        directory or DoctorDirectory.demo(),
        IceSettings(list(ice_servers), relay_only, turn),
        shelf,
        cabins=cabins,
        clock=clock,
        room_grace_s=room_grace_s,
        guard=guard,
    )
    app[HUB_KEY] = hub
    app[STAFF_KEY] = hub.staff  # the fleet page's login is the console's (devtools.platform.fleet)
    app.router.add_post("/auth/cabin/token", hub.cabin_token)
    app.router.add_get("/cabin/ice/{session_id}", hub.call_ice_for_kiosk)
    app.router.add_post(TURN_TEST_PATH, hub.turn_test_credential)
    app.router.add_get("/signalling/kiosk", hub.kiosk_ws)
    app.router.add_get("/signalling/doctor", hub.doctor_ws)
    app.router.add_post("/console/api/login", hub.login)
    app.router.add_post("/console/api/logout", hub.logout)
    app.router.add_get("/console/api/online", hub.online)
    app.router.add_get("/console/api/me", hub.me)
    app.router.add_get("/console/api/config", hub.config)
    app.router.add_get("/cabin/documents/{session_id}/{document_id}", hub.document_link)
    app.router.add_get(PATIENT_DOCUMENT_PATH + "{token}", hub.patient_document)
    app.router.add_get("/console", _console_redirect)
    app.router.add_get("/console/", _console_index)
    app.router.add_static("/console/static/", CONSOLE_DIR)
    app.on_shutdown.append(hub.close_all)

    async def sweeper(app: web.Application) -> AsyncIterator[None]:
        task = asyncio.create_task(hub.sweep_forever())
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    app.cleanup_ctx.append(sweeper)
