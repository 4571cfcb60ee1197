"""The on-site staff's side of the reference platform: help calls and preparations.

Kiosk side (the cabin's Bearer token; a cabin speaks only for itself):
- `POST /cabin/help` `{"call_id", "reason": "button"|"silence"}` → 201
  `{"id", "state": "ringing"}`; the same call id again → 200 (a retry rings once).
- `GET /cabin/help/{id}` → `{"id", "state", "acknowledged_at"}`: the kiosk polls
  it to tell the patient that someone is coming. No staff name is sent back:
  the patient sees "someone is coming", the name stays in the platform's trace.
- `POST /cabin/help/{id}/end` `{"why"}` → `{"state": "ended"}`.
- `POST /cabin/preparation` `{"by", "at"}` → 201: the cabin was made ready by
  that account (username) at that time.

Staff side (the counter page; a login per person, each for the site's cabins):
- `GET /counter`: a small page that lists the calls of the person's cabins,
  refreshes itself every 3 s, and rings (a short tone, the tab's title) while
  a call is unanswered; "J'arrive" (`POST /counter/ack/{id}`) acknowledges it.
- `POST /counter/login`, `POST /counter/logout`: a session cookie (HttpOnly,
  SameSite=Strict: the acknowledge form cannot be posted from another site).

What crosses here: cabin ids, call ids, a reason code, times, the staff's
login. Never a patient datum: the call says *that* help is needed, not for
whom. Why the platform relays (and not only a local bell): a pharmacy's
network often isolates the cabin's PC from the counter's; the platform is the
one place both reach. The site's own webhook (`[site] help_webhook_url`) is
the kiosk's second way, for when the platform is far.

In memory: the reference platform forgets calls at restart (a real one keeps
them with its trace). Registered by `create_app` (devtools/platform/app.py),
with `/counter` among the paths that need no cabin token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import io
import logging
import math
import re
import secrets
import struct
import wave
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

from aiohttp import web

from devtools.platform.cabins import proven_cabin, refusal

log = logging.getLogger(__name__)

HELP_PATH = "/cabin/help"
PREPARATION_PATH = "/cabin/preparation"
COUNTER_PATH = "/counter"
COOKIE = "telecabine_counter"
REASONS = frozenset({"button", "silence"})
_CALL_ID = re.compile(r"^[A-Za-z0-9-]{8,64}$")
_LOGIN = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
_NO_STORE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


@dataclass
class HelpCall:
    call_id: str
    cabin_id: str
    reason: str
    started_at: datetime
    state: str = "ringing"  # ringing → acknowledged → ended (or ringing → ended)
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None
    ended_at: datetime | None = None
    ended_why: str | None = None


@dataclass(frozen=True)
class PreparationRecord:
    cabin_id: str
    by: str
    at: str
    received_at: datetime


@dataclass(frozen=True)
class CounterLogin:
    """A staff member's counter login: a scrypt hash and the cabins of their site."""

    login: str
    salt: bytes = field(repr=False)
    digest: bytes = field(repr=False)
    cabins: frozenset[str]

    @classmethod
    def make(cls, login: str, password: str, cabins: Iterable[str]) -> CounterLogin:
        salt = secrets.token_bytes(16)
        return cls(login, salt, _scrypt(password, salt), frozenset(cabins))

    def check(self, password: str) -> bool:
        return hmac.compare_digest(self.digest, _scrypt(password, self.salt))


def _scrypt(password: str, salt: bytes) -> bytes:
    return hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1, dklen=32)


@dataclass
class OnSite:
    logins: dict[str, CounterLogin]
    now: Callable[[], datetime]
    calls: dict[str, HelpCall] = field(default_factory=dict)
    preparations: list[PreparationRecord] = field(default_factory=list)
    trace: list[tuple[datetime, str, str, str]] = field(default_factory=list)  # at, act, cabin, who
    sessions: dict[str, str] = field(default_factory=dict)  # cookie → login

    def note(self, act: str, cabin_id: str, who: str) -> None:
        self.trace.append((self.now(), act, cabin_id, who))
        log.info("on-site: %s %s %s", act, cabin_id, who)

    def ring(self, cabin_id: str, call_id: str, reason: str) -> tuple[HelpCall, bool]:
        known = self.calls.get(call_id)
        if known is not None:
            return known, False
        call = HelpCall(call_id, cabin_id, reason, self.now())
        self.calls[call_id] = call
        self.note("help.call", cabin_id, f"reason={reason}")
        return call, True

    def acknowledge(self, call: HelpCall, login: str) -> None:
        if call.state != "ringing":
            return
        call.state, call.acknowledged_by, call.acknowledged_at = "acknowledged", login, self.now()
        self.note("help.acknowledged", call.cabin_id, login)

    def end(self, call: HelpCall, why: str) -> None:
        if call.state == "ended":
            return
        call.state, call.ended_at, call.ended_why = "ended", self.now(), why
        self.note("help.ended", call.cabin_id, f"why={why}")

    def prepared(self, cabin_id: str, by: str, at: str) -> PreparationRecord:
        record = PreparationRecord(cabin_id, by, at, self.now())
        self.preparations.append(record)
        self.note("preparation.confirmed", cabin_id, by)
        return record

    def calls_for(self, login: CounterLogin) -> list[HelpCall]:
        mine = [c for c in self.calls.values() if c.cabin_id in login.cabins]
        return sorted(mine, key=lambda c: c.started_at, reverse=True)


ONSITE_KEY = web.AppKey("platform_onsite", OnSite)


# -- the kiosk's side ---------------------------------------------------------------------


async def _json(request: web.Request) -> dict[str, object] | None:
    if request.content_type != "application/json":
        return None
    try:
        body = await request.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _call_view(call: HelpCall) -> dict[str, object]:
    return {
        "id": call.call_id,
        "state": call.state,
        "acknowledged_at": call.acknowledged_at.isoformat() if call.acknowledged_at else None,
    }


async def help_call(request: web.Request) -> web.Response:
    proven, refused = proven_cabin(request)
    if refused is not None:
        return refused
    body = await _json(request)
    if body is None:
        return refusal(400, "A help call is a JSON object.")
    call_id, reason = body.get("call_id"), body.get("reason")
    cabin_id = proven or body.get("cabin_id")
    if not isinstance(call_id, str) or not _CALL_ID.match(call_id):
        return refusal(400, "The call id is 8 to 64 letters, digits or dashes.")
    if reason not in REASONS:
        return refusal(400, "The reason is 'button' or 'silence'.")
    if not isinstance(cabin_id, str) or not cabin_id:
        return refusal(400, "The call names no cabin.")
    onsite = request.app[ONSITE_KEY]
    known = onsite.calls.get(call_id)
    if known is not None and known.cabin_id != cabin_id:
        return refusal(403, "This call belongs to another cabin.")
    call, new = onsite.ring(cabin_id, call_id, str(reason))
    return web.json_response(_call_view(call), status=201 if new else 200)


def _own_call(request: web.Request, cabin_id: str | None) -> HelpCall | web.Response:
    call = request.app[ONSITE_KEY].calls.get(request.match_info["call_id"])
    if call is None:
        return refusal(404, "No such call.")
    if cabin_id is not None and call.cabin_id != cabin_id:
        return refusal(403, "This call belongs to another cabin.")
    return call


async def help_status(request: web.Request) -> web.Response:
    proven, refused = proven_cabin(request)
    if refused is not None:
        return refused
    call = _own_call(request, proven)
    return call if isinstance(call, web.Response) else web.json_response(_call_view(call))


async def help_end(request: web.Request) -> web.Response:
    proven, refused = proven_cabin(request)
    if refused is not None:
        return refused
    call = _own_call(request, proven)
    if isinstance(call, web.Response):
        return call
    body = await _json(request) or {}
    why = body.get("why")
    request.app[ONSITE_KEY].end(call, why if isinstance(why, str) and why.isascii() else "ended")
    return web.json_response(_call_view(call))


async def preparation(request: web.Request) -> web.Response:
    proven, refused = proven_cabin(request)
    if refused is not None:
        return refused
    body = await _json(request)
    if body is None:
        return refusal(400, "A preparation is a JSON object.")
    by, at, cabin_id = body.get("by"), body.get("at"), proven or body.get("cabin_id")
    if not isinstance(by, str) or not _LOGIN.match(by):
        return refusal(400, "The preparation names the account that confirmed it.")
    try:
        when = datetime.fromisoformat(at) if isinstance(at, str) else None
    except ValueError:
        when = None
    if when is None or when.tzinfo is None:
        return refusal(400, "The preparation's time is an ISO time with its offset.")
    if not isinstance(cabin_id, str) or not cabin_id:
        return refusal(400, "The preparation names no cabin.")
    record = request.app[ONSITE_KEY].prepared(cabin_id, by, when.isoformat())
    return web.json_response({"cabin_id": record.cabin_id, "by": record.by}, status=201)


# -- the counter page ---------------------------------------------------------------------


def _ring_tone() -> str:
    """A short two-tone chime as a WAV data URI (made here: no file to ship)."""
    rate, out = 8000, io.BytesIO()
    frames = b"".join(
        struct.pack("<h", int(9000 * math.sin(2 * math.pi * (880 if n < 1600 else 660) * n / rate)))
        for n in range(3200)
    )
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(frames)
    return "data:audio/wav;base64," + base64.b64encode(out.getvalue()).decode()


_TONE = _ring_tone()


def _page(title: str, body: str, *, refresh: bool = False) -> web.Response:
    meta = '<meta http-equiv="refresh" content="3">' if refresh else ""
    text = (
        '<!doctype html><html lang="fr"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width">{meta}'
        f"<title>{html.escape(title)}</title>"
        "<style>body{font:20px system-ui;margin:2em}button{font-size:24px;min-height:64px;"
        "padding:0 1em}li{margin:1em 0}.ringing{font-weight:bold;color:#8a0000}</style>"
        f"</head><body>{body}</body></html>"
    )
    return web.Response(text=text, content_type="text/html", headers=_NO_STORE)


def _login_page(message: str | None = None) -> web.Response:
    note = f'<p role="alert">{html.escape(message)}</p>' if message else ""
    return _page(
        "Comptoir — connexion",
        "<h1>Appels des cabines</h1>"
        f"{note}"
        f'<form method="post" action="{COUNTER_PATH}/login">'
        '<label>Identifiant <input name="login" autocomplete="username" required></label> '
        '<label>Mot de passe <input name="password" type="password" '
        'autocomplete="current-password" required></label> '
        "<button>Se connecter</button></form>",
    )


def _who(request: web.Request) -> CounterLogin | None:
    onsite = request.app[ONSITE_KEY]
    login = onsite.sessions.get(request.cookies.get(COOKIE, ""))
    return onsite.logins.get(login) if login is not None else None


async def counter(request: web.Request) -> web.Response:
    who = _who(request)
    if who is None:
        return _login_page()
    onsite = request.app[ONSITE_KEY]
    calls = onsite.calls_for(who)
    ringing = [c for c in calls if c.state == "ringing"]
    items = []
    for call in calls[:20]:
        when = call.started_at.astimezone().strftime("%H:%M:%S")
        what = "appui sur Aide" if call.reason == "button" else "personne sans réponse"
        line = f"{html.escape(call.cabin_id)} — {when} — {what}"
        if call.state == "ringing":
            items.append(
                f'<li class="ringing">🔔 {line} '
                f'<form method="post" action="{COUNTER_PATH}/ack/{html.escape(call.call_id)}" '
                'style="display:inline"><button>J\'arrive</button></form></li>'
            )
        elif call.state == "acknowledged":
            by = html.escape(call.acknowledged_by or "")
            items.append(f"<li>{line} — pris en charge par {by}</li>")
        else:
            items.append(f"<li>{line} — terminé</li>")
    done = [r for r in onsite.preparations if r.cabin_id in who.cabins][-5:]
    prepared = "".join(
        f"<li>{html.escape(r.cabin_id)} — prête ({html.escape(r.at)}) — {html.escape(r.by)}</li>"
        for r in reversed(done)
    )
    bell = f'<audio src="{_TONE}" autoplay></audio>' if ringing else ""
    body = (
        f"<h1>Appels des cabines</h1><p>Connecté : {html.escape(who.login)}</p>{bell}"
        f"<ul>{''.join(items) or '<li>Aucun appel.</li>'}</ul>"
        f"<h2>Préparations</h2><ul>{prepared or '<li>Aucune.</li>'}</ul>"
        f'<form method="post" action="{COUNTER_PATH}/logout"><button>Se déconnecter</button></form>'
    )
    title = f"🔔 {len(ringing)} appel(s)" if ringing else "Appels des cabines"
    return _page(title, body, refresh=True)


async def counter_login(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    login, password = str(form.get("login", "")), str(form.get("password", ""))
    onsite = request.app[ONSITE_KEY]
    known = onsite.logins.get(login)
    if known is None or not known.check(password):
        onsite.note("counter.sign-in", "-", "refused")
        return _login_page("Identifiant ou mot de passe incorrect.")
    token = secrets.token_urlsafe(32)
    onsite.sessions[token] = known.login
    onsite.note("counter.sign-in", "-", known.login)
    response = web.HTTPSeeOther(COUNTER_PATH)
    response.set_cookie(COOKIE, token, httponly=True, samesite="Strict", path=COUNTER_PATH)
    raise response


async def counter_logout(request: web.Request) -> web.StreamResponse:
    request.app[ONSITE_KEY].sessions.pop(request.cookies.get(COOKIE, ""), None)
    response = web.HTTPSeeOther(COUNTER_PATH)
    response.del_cookie(COOKIE, path=COUNTER_PATH)
    raise response


async def counter_ack(request: web.Request) -> web.StreamResponse:
    who = _who(request)
    if who is None:
        return _login_page("Connectez-vous pour répondre à un appel.")
    onsite = request.app[ONSITE_KEY]
    call = onsite.calls.get(request.match_info["call_id"])
    if call is None or call.cabin_id not in who.cabins:
        return web.Response(status=404, text="Cet appel n'est pas pour vous.")
    onsite.acknowledge(call, who.login)
    raise web.HTTPSeeOther(COUNTER_PATH)


def add_onsite_routes(
    app: web.Application,
    logins: Iterable[CounterLogin] = (),
    *,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> OnSite:
    """Register the kiosk's help and preparation endpoints and the counter page.

    Called again on the same application (`create_app` registers them with no
    login; the demo and tests add theirs), it adds the logins and no route.
    """
    if ONSITE_KEY in app:
        known = app[ONSITE_KEY]
        known.logins.update({c.login: c for c in logins})
        return known
    onsite = OnSite({c.login: c for c in logins}, now)
    app[ONSITE_KEY] = onsite
    app.router.add_post(HELP_PATH, help_call)
    app.router.add_get(HELP_PATH + "/{call_id}", help_status)
    app.router.add_post(HELP_PATH + "/{call_id}/end", help_end)
    app.router.add_post(PREPARATION_PATH, preparation)
    app.router.add_get(COUNTER_PATH, counter)
    app.router.add_post(COUNTER_PATH + "/login", counter_login)
    app.router.add_post(COUNTER_PATH + "/logout", counter_logout)
    app.router.add_post(COUNTER_PATH + "/ack/{call_id}", counter_ack)
    return onsite


def as_json(onsite: OnSite) -> Mapping[str, object]:
    """What the platform holds (tests, a support desk): calls, preparations, the trace."""
    return {
        "calls": [asdict(c) for c in onsite.calls.values()],
        "preparations": [asdict(p) for p in onsite.preparations],
        "trace": [(at.isoformat(), act, cabin, who) for at, act, cabin, who in onsite.trace],
    }
