"""HTTP to the platform (aiohttp): TLS from the site configuration, the cabin's token, POST, health.

Why a thin class: the decisions live in `responses` (pure); this only moves
bytes and turns every way the network can fail into one `NetworkFailure`
with a reason, so the sender treats them all as "retry".

How the kiosk proves who it is (docs/threat-model.md): the cabin holds a
provisioning secret (`[platform] cabin_key_file`, 32+ random bytes, 0600) it
never sends; `CabinAuth` exchanges an HMAC proof of it (cabin id, time, nonce)
at `POST /auth/cabin/token` for a token the platform signs, bound to the cabin
id and valid minutes, and puts it as `Authorization: Bearer …` on every request
of every channel (FHIR, heartbeat, INSi relay, signalling, document links),
asking a new one before it expires or after a 401.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import enum
import hashlib
import hmac
import json
import secrets
import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from app.sync.errors import SyncError
from kiosk_config.schema import KioskConfig, Platform

if TYPE_CHECKING:  # aiohttp loads with the first request, after the welcome screen
    import aiohttp

FHIR_JSON = "application/fhir+json"
DEFAULT_MAX_REPLY_BYTES = 16 * 1024 * 1024


class NetworkFailureReason(enum.StrEnum):
    TIMEOUT = "timeout"
    CONNECTION = "connection"
    TLS = "tls"
    PROTOCOL = "protocol"
    TOO_LARGE = "too-large"


class NetworkFailure(SyncError):
    def __init__(self, reason: NetworkFailureReason, sentence: str) -> None:
        super().__init__(sentence)
        self.reason = reason


class TlsConfigError(SyncError):
    """The CA file or client certificate of the site configuration cannot be used."""


@dataclass(frozen=True, slots=True)
class HttpReply:
    status: int
    headers: Mapping[str, str]
    body: bytes


class ReplyTooLarge(NetworkFailure):
    def __init__(self, limit: int) -> None:
        super().__init__(
            NetworkFailureReason.TOO_LARGE,
            f"The platform's answer was longer than {limit} bytes; it was not read further.",
        )


async def read_bounded(stream: aiohttp.StreamReader, limit: int) -> bytes:
    """Read a body chunk by chunk and stop as soon as it passes `limit` bytes.

    A 400 MiB answer costs at most `limit` + one chunk of memory, never the whole.
    """
    parts: list[bytes] = []
    size = 0
    async for chunk in stream.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > limit:
            raise ReplyTooLarge(limit)
        parts.append(chunk)
    return b"".join(parts)


def ssl_context_from_files(
    ca_file: Path | None, client_cert_file: Path | None = None, client_key_file: Path | None = None
) -> ssl.SSLContext:
    """Verify the platform with the site's CA (else the system's), present the cabin's
    certificate when one is configured (mutual TLS). Hostname checking stays on."""
    try:
        context = ssl.create_default_context(cafile=str(ca_file) if ca_file is not None else None)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        if client_cert_file is not None:
            context.load_cert_chain(
                str(client_cert_file), str(client_key_file) if client_key_file else None
            )
    except (OSError, ssl.SSLError) as exc:
        raise TlsConfigError(
            "The platform's TLS settings cannot be used (CA file or client certificate "
            f"unreadable or invalid: {type(exc).__name__})."
        ) from exc
    return context


def ssl_context_for(platform: Platform) -> ssl.SSLContext:
    """From the site configuration's [platform] section."""
    return ssl_context_from_files(
        platform.ca_file, platform.client_cert_file, platform.client_key_file
    )


TOKEN_PATH = "/auth/cabin/token"  # noqa: S105 - a path, not a secret
PROOF_CONTEXT = "telecabine-cabin-token"  # as devtools.platform.cabins
REFRESH_MARGIN_S = 60.0
MIN_SECRET_BYTES = 32


class CabinAuthError(SyncError):
    """The cabin's secret cannot be read, or the platform refused the cabin's proof."""


@dataclass(frozen=True)
class CabinCredential:
    """The cabin id and its provisioning secret (never logged, never sent)."""

    cabin_id: str
    secret: bytes = field(repr=False)

    @classmethod
    def from_file(cls, cabin_id: str, path: Path) -> CabinCredential:
        """The secret file holds the secret as hex or base64url text, or raw bytes."""
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise CabinAuthError(
                f"The cabin's secret file {path} cannot be read ({type(exc).__name__})."
            ) from None
        secret = _secret_of(raw.strip())
        if len(secret) < MIN_SECRET_BYTES:
            raise CabinAuthError(
                f"The cabin's secret file {path} holds fewer than {MIN_SECRET_BYTES} bytes."
            )
        return cls(cabin_id, secret)

    def proof(self, issued_at: int, nonce: str) -> str:
        message = f"{PROOF_CONTEXT}|{self.cabin_id}|{issued_at}|{nonce}".encode()
        return hmac.new(self.secret, message, hashlib.sha256).hexdigest()

    def token_request(self, now: float, nonce: str | None = None) -> dict[str, object]:
        """The body of `POST /auth/cabin/token` (pure but for a fresh nonce)."""
        issued_at = int(now)
        nonce = nonce or secrets.token_urlsafe(18)
        return {
            "cabin_id": self.cabin_id,
            "issued_at": issued_at,
            "nonce": nonce,
            "proof": self.proof(issued_at, nonce),
        }


def _secret_of(text: bytes) -> bytes:
    try:
        decoded = text.decode("ascii")
    except UnicodeDecodeError:
        return text
    try:
        return bytes.fromhex(decoded)
    except ValueError:
        pass
    try:
        return base64.urlsafe_b64decode(decoded + "=" * (-len(decoded) % 4))
    except (binascii.Error, ValueError):
        return text


class CabinAuth:
    """The cabin's current token for one platform: asked, kept, renewed before it ends."""

    def __init__(
        self,
        credential: CabinCredential,
        base_url: str,
        *,
        ssl_context: ssl.SSLContext | None = None,
        now: Callable[[], float] = time.time,
        timeout_s: float = 10.0,
    ) -> None:
        self.credential = credential
        self.url = base_url.rstrip("/") + TOKEN_PATH
        self._ssl: ssl.SSLContext | bool = ssl_context if ssl_context is not None else True
        self._now = now
        self._timeout_s = timeout_s  # aiohttp's ClientTimeout made at the first renewal
        self._token: str | None = None
        self._expires = 0.0
        self._lock = asyncio.Lock()
        self.issued = 0  # tokens asked so far (tests and the heartbeat's figures)

    @classmethod
    def for_config(cls, config: KioskConfig) -> CabinAuth | None:
        """From the site configuration ([site] cabin_id, [platform] cabin_key_file); None if
        the site has no cabin secret (a platform that does not ask for one)."""
        platform = config.platform
        if platform.cabin_key_file is None:
            return None
        tls = ssl_context_for(platform) if platform.url.startswith("https:") else None
        credential = CabinCredential.from_file(config.site.cabin_id, platform.cabin_key_file)
        return cls(credential, platform.url, ssl_context=tls)

    def invalidate(self) -> None:
        """Forget the token (the platform answered 401): the next request asks a new one."""
        self._token = None

    async def headers(self, session: aiohttp.ClientSession) -> dict[str, str]:
        """`{"Authorization": "Bearer …"}`, asking a token first when none is fresh."""
        async with self._lock:
            if self._token is None or self._now() > self._expires - REFRESH_MARGIN_S:
                await self._renew(session)
            assert self._token is not None
            return {"Authorization": f"Bearer {self._token}"}

    async def _renew(self, session: aiohttp.ClientSession) -> None:
        import aiohttp

        body = json.dumps(self.credential.token_request(self._now())).encode()
        reply = await send(
            session,
            "POST",
            self.url,
            body,
            {"Content-Type": "application/json"},
            timeout=aiohttp.ClientTimeout(total=self._timeout_s),
            ssl=self._ssl,
            max_reply=64 * 1024,
        )
        if reply.status != 200:
            raise CabinAuthError(f"The platform refused the cabin's proof (HTTP {reply.status}).")
        try:
            data = json.loads(reply.body)
            token, expires = data["token"], float(data["expiresAt"])
            if not isinstance(token, str) or not token:
                raise TypeError
        except (ValueError, KeyError, TypeError):
            raise CabinAuthError("The platform's token answer could not be read.") from None
        self._token, self._expires = token, expires
        self.issued += 1


async def send(
    session: aiohttp.ClientSession,
    method: str,
    url: str,
    body: bytes | None,
    headers: dict[str, str],
    *,
    timeout: aiohttp.ClientTimeout,
    ssl: ssl.SSLContext | bool,
    max_reply: int,
) -> HttpReply:
    """One request to the platform; whatever goes wrong on the way is one `NetworkFailure`.

    Shared by every channel to the platform (FHIR, the heartbeat): the same four
    reasons and sentences wherever the network fails.
    """
    import aiohttp

    try:
        async with session.request(
            method, url, data=body, headers=headers, timeout=timeout, ssl=ssl
        ) as response:
            payload = await read_bounded(response.content, max_reply)
            return HttpReply(response.status, dict(response.headers), payload)
    except TimeoutError as exc:
        raise NetworkFailure(
            NetworkFailureReason.TIMEOUT, "The platform did not answer in time."
        ) from exc
    except aiohttp.ClientSSLError as exc:
        raise NetworkFailure(
            NetworkFailureReason.TLS, "The platform's TLS certificate was not accepted."
        ) from exc
    except (aiohttp.ClientConnectionError, OSError) as exc:
        raise NetworkFailure(
            NetworkFailureReason.CONNECTION,
            f"The connection to the platform failed ({type(exc).__name__}).",
        ) from exc
    except (aiohttp.ClientError, ValueError) as exc:  # ValueError: a malformed header or status
        raise NetworkFailure(
            NetworkFailureReason.PROTOCOL,
            f"The platform's answer could not be read ({type(exc).__name__}).",
        ) from exc


async def authorised_send(
    session: aiohttp.ClientSession,
    auth: CabinAuth | None,
    method: str,
    url: str,
    body: bytes | None,
    headers: dict[str, str],
    *,
    timeout: aiohttp.ClientTimeout,
    ssl: ssl.SSLContext | bool,
    max_reply: int,
) -> HttpReply:
    """`send` with the cabin's Bearer token; a 401 renews the token and tries once more.

    A refused proof is a `NetworkFailure` (PROTOCOL) for the callers' retry logic.
    """

    async def once() -> HttpReply:
        full = dict(headers)
        if auth is not None:
            try:
                full.update(await auth.headers(session))
            except CabinAuthError as exc:
                raise NetworkFailure(NetworkFailureReason.PROTOCOL, str(exc)) from None
        return await send(
            session, method, url, body, full, timeout=timeout, ssl=ssl, max_reply=max_reply
        )

    reply = await once()
    if reply.status == 401 and auth is not None:
        auth.invalidate()
        reply = await once()
    return reply


class LazySession:
    """An aiohttp `ClientSession` made at its first use, not at assembly: aiohttp (17 MiB)
    then loads after the welcome screen (docs/runtime.md, cold start). Its owner closes it."""

    def __init__(self) -> None:
        self._session: aiohttp.ClientSession | None = None

    def get(self) -> aiohttp.ClientSession:
        if self._session is None:
            import aiohttp

            self._session = aiohttp.ClientSession()
        return self._session

    async def close(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()


def session_of(session: aiohttp.ClientSession | LazySession) -> aiohttp.ClientSession:
    return session.get() if isinstance(session, LazySession) else session


class PlatformClient:
    """POSTs bundles to the platform's base URL and probes its health endpoint."""

    def __init__(
        self,
        session: aiohttp.ClientSession | LazySession,
        base_url: str,
        *,
        ssl_context: ssl.SSLContext | None = None,
        request_timeout_s: float = 30.0,
        health_path: str = "/health",
        health_timeout_s: float = 5.0,
        max_reply_bytes: int = DEFAULT_MAX_REPLY_BYTES,
        auth: CabinAuth | None = None,
    ) -> None:
        self._auth = auth
        self._session = session
        self._base = base_url.rstrip("/")
        self._ssl: ssl.SSLContext | bool = ssl_context if ssl_context is not None else True
        self._timeout_s = request_timeout_s
        self._health_url = self._base + health_path
        self._health_timeout_s = health_timeout_s
        self._max_reply = max_reply_bytes

    async def post_bundle(self, body: bytes, *, prefer: str | None = None) -> HttpReply:
        """POST a transaction Bundle to the base URL (`prefer`: the Prefer header)."""
        headers = {"Content-Type": FHIR_JSON, "Accept": FHIR_JSON}
        if prefer is not None:
            headers["Prefer"] = prefer
        return await self._request("POST", self._base + "/", body, headers)

    async def put_binary(self, binary_id: str, content_type: str, content: bytes) -> HttpReply:
        """PUT a document's bytes as `Binary/{id}` (raw body: no 1 MB JSON string limit)."""
        headers = {"Content-Type": content_type, "Accept": FHIR_JSON}
        return await self._request("PUT", f"{self._base}/Binary/{binary_id}", content, headers)

    async def capabilities(self) -> HttpReply:
        """GET the server's CapabilityStatement (`/metadata`)."""
        headers = {"Accept": FHIR_JSON}
        return await self._request("GET", self._base + "/metadata", None, headers)

    async def _request(
        self, method: str, url: str, body: bytes | None, headers: dict[str, str]
    ) -> HttpReply:
        import aiohttp

        return await authorised_send(
            session_of(self._session),
            self._auth,
            method,
            url,
            body,
            headers,
            timeout=aiohttp.ClientTimeout(total=self._timeout_s),
            ssl=self._ssl,
            max_reply=self._max_reply,
        )

    async def healthy(self) -> bool:
        """True when the health endpoint answers 2xx in time; never raises."""
        import aiohttp

        try:
            async with session_of(self._session).get(
                self._health_url,
                timeout=aiohttp.ClientTimeout(total=self._health_timeout_s),
                ssl=self._ssl,
            ) as response:
                await response.read()
                return 200 <= response.status < 300
        except (TimeoutError, aiohttp.ClientError, OSError):
            return False
