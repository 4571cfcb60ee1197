"""Who a kiosk is: enrolled cabins, the short-lived tokens the platform signs for them.

The scheme (written down in docs/threat-model.md):

1. At enrolment each cabin gets a provisioning secret (32 random bytes), kept
   by the platform and in the cabin's credentials folder
   (`[platform] cabin_key_file`), never sent over the wire.
2. The kiosk asks `POST /auth/cabin/token` with its cabin id, the time, a fresh
   nonce and `HMAC-SHA256(secret, "telecabine-cabin-token|<cabin>|<time>|<nonce>")`.
   A proof older or newer than `PROOF_WINDOW_S`, or a nonce already used, is refused.
3. The platform answers a token it signs with its own key, bound to the cabin
   id and valid `TOKEN_TTL_S`. The kiosk sends it as `Authorization: Bearer …`
   on every channel (FHIR, signalling WebSocket, INSi relay, heartbeat,
   document links) and asks a new one before it expires.

Pure but for the application key: time comes from the injected `now`; no I/O.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re
import secrets
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

TOKEN_TTL_S = 600.0  # ten minutes; the kiosk refreshes a minute before the end
PROOF_WINDOW_S = 120.0  # clock skew a cabin may have and still prove itself
PROOF_CONTEXT = "telecabine-cabin-token"
TOKEN_PREFIX = "tcab1"
_CABIN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{2,39}$")
_NONCE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
_HEX = re.compile(r"^[0-9a-f]{64}$")


class CabinAuthRefused(Exception):
    """A token request or a token was refused; the sentence says why (no secret in it)."""


def proof_of(secret: bytes, cabin_id: str, issued_at: int, nonce: str) -> str:
    """The proof a cabin sends (the kiosk computes the same in app/sync/transport.py)."""
    message = f"{PROOF_CONTEXT}|{cabin_id}|{issued_at}|{nonce}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Cabin:
    cabin_id: str
    secret: bytes = field(repr=False)
    doctors: frozenset[str] = frozenset()  # logins this cabin's patients are routed to


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class CabinRegistry:
    """The enrolled cabins, the platform's signing key, and the nonces seen lately."""

    def __init__(
        self,
        cabins: Iterable[Cabin],
        *,
        signing_key: bytes | None = None,
        now: Callable[[], float] = time.time,
        token_ttl_s: float = TOKEN_TTL_S,
    ) -> None:
        self._cabins = {c.cabin_id: c for c in cabins}
        self._key = signing_key or secrets.token_bytes(32)
        self.now = now
        self.token_ttl_s = token_ttl_s
        self._nonces: dict[str, float] = {}

    def cabin(self, cabin_id: str) -> Cabin | None:
        return self._cabins.get(cabin_id)

    def enrol(self, cabin: Cabin) -> None:
        self._cabins[cabin.cabin_id] = cabin

    def routed_to(self, cabin_id: str, login: str) -> bool:
        """Whether a doctor may see and take this cabin's patients."""
        cabin = self._cabins.get(cabin_id)
        return cabin is not None and login in cabin.doctors

    # ---- issuing ----------------------------------------------------------------------

    def issue(self, request: Mapping[str, Any]) -> tuple[str, float]:
        """A token and its expiry (epoch seconds) for a valid proof; CabinAuthRefused else."""
        cabin_id = request.get("cabin_id")
        issued_at = request.get("issued_at")
        nonce = request.get("nonce")
        proof = request.get("proof")
        if not (
            isinstance(cabin_id, str)
            and _CABIN_ID.match(cabin_id)
            and isinstance(issued_at, int)
            and not isinstance(issued_at, bool)
            and isinstance(nonce, str)
            and _NONCE.match(nonce)
            and isinstance(proof, str)
            and _HEX.match(proof)
        ):
            raise CabinAuthRefused("The token request is malformed.")
        now = self.now()
        if abs(now - issued_at) > PROOF_WINDOW_S:
            raise CabinAuthRefused("The token request is too old or from the future.")
        cabin = self._cabins.get(cabin_id)
        # Same work whether or not the cabin exists.
        expected = proof_of(cabin.secret if cabin else b"\0" * 32, cabin_id, issued_at, nonce)
        if cabin is None or not hmac.compare_digest(expected, proof):
            raise CabinAuthRefused("The cabin could not prove who it is.")
        self._forget_old_nonces(now)
        if nonce in self._nonces:
            raise CabinAuthRefused("The token request was already used.")
        self._nonces[nonce] = now
        expires = now + self.token_ttl_s
        return self.sign(cabin_id, expires), expires

    def sign(self, cabin_id: str, expires: float) -> str:
        payload = _b64(f"{cabin_id}|{int(expires)}".encode())
        mac = hmac.new(self._key, f"{TOKEN_PREFIX}.{payload}".encode(), hashlib.sha256).digest()
        return f"{TOKEN_PREFIX}.{payload}.{_b64(mac)}"

    def _forget_old_nonces(self, now: float) -> None:
        for nonce, seen in list(self._nonces.items()):
            if now - seen > 2 * PROOF_WINDOW_S:
                del self._nonces[nonce]

    # ---- checking ----------------------------------------------------------------------

    def cabin_of(self, token: str) -> str | None:
        """The cabin a token was signed for, or None (bad, forged, expired, unknown cabin)."""
        parts = token.split(".")
        if len(parts) != 3 or parts[0] != TOKEN_PREFIX or len(token) > 512:
            return None
        try:
            mac = _unb64(parts[2])
            cabin_id, _, expires = _unb64(parts[1]).decode("ascii").partition("|")
            expiry = int(expires)
        except (ValueError, UnicodeDecodeError):
            return None
        good = hmac.new(self._key, f"{TOKEN_PREFIX}.{parts[1]}".encode(), hashlib.sha256).digest()
        if not hmac.compare_digest(good, mac) or expiry <= self.now():
            return None
        return cabin_id if cabin_id in self._cabins else None

    def cabin_of_header(self, authorization: str) -> str | None:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token:
            return None
        return self.cabin_of(token.strip())


CABINS_KEY = web.AppKey("platform_cabins", CabinRegistry)
OPEN_TEST_MODE_KEY = web.AppKey("platform_open_test_mode", bool)
CABIN_OF_REQUEST = web.RequestKey("telecabine_cabin_id", str)  # the cabin its token proved

log = logging.getLogger(__name__)


def refusal(status: int, sentence: str) -> web.Response:
    """A refusal the kiosk's clients read: a JSON body with one sentence."""
    return web.json_response({"error": sentence}, status=status)


def proven_cabin(request: web.Request) -> tuple[str | None, web.Response | None]:
    """The cabin the request's token proved, or a 401 when the platform enrols cabins and none was.

    Routes outside the token middleware's paths (diagnostics, on-site) ask here; in the open
    test mode the answer is (None, None) and the route reads the cabin the body names.
    """
    proven = request.get(CABIN_OF_REQUEST)
    cabins = request.app.get(CABINS_KEY)
    if proven is None and cabins is not None:
        proven = cabins.cabin_of_header(request.headers.get("Authorization", ""))
        if proven is None:
            return None, refusal(401, "A cabin token is required (Bearer).")
    return proven, None


OPEN_TEST_MODE_REFUSAL = (
    "The reference platform authenticates kiosks: give it the enrolled cabins "
    "(a CabinRegistry; --cabin on the command line), or ask for the open test mode "
    "by name (open_test_mode=True; --open-test-mode), which only tests and the demo use."
)
OPEN_TEST_MODE_BANNER = (
    "!!! OPEN TEST MODE: kiosks are NOT authenticated on this platform (no cabin token "
    "on FHIR, signalling, INSi, heartbeat, document links). Tests and the demo only. !!!"
)


class OpenTestModeNotAsked(ValueError):
    """A platform without enrolled cabins was started without asking for the open test mode."""


def warn_open_test_mode(where: str) -> None:
    """Say it loudly: in the log (warning) and on standard error."""
    log.warning("%s (%s)", OPEN_TEST_MODE_BANNER, where)
    print(f"{OPEN_TEST_MODE_BANNER} ({where})", file=sys.stderr, flush=True)
