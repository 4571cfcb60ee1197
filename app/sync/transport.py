"""HTTP to the platform (aiohttp): TLS from the site configuration, POST and health.

Why a thin class: the decisions live in `responses` (pure); this only moves
bytes and turns every way the network can fail into one `NetworkFailure`
with a reason, so the sender treats them all as "retry".
"""

from __future__ import annotations

import enum
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from app.sync.errors import SyncError
from kiosk_config.schema import Platform

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


class PlatformClient:
    """POSTs bundles to the platform's base URL and probes its health endpoint."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        base_url: str,
        *,
        ssl_context: ssl.SSLContext | None = None,
        request_timeout_s: float = 30.0,
        health_path: str = "/health",
        health_timeout_s: float = 5.0,
        max_reply_bytes: int = DEFAULT_MAX_REPLY_BYTES,
    ) -> None:
        self._session = session
        self._base = base_url.rstrip("/")
        self._ssl: ssl.SSLContext | bool = ssl_context if ssl_context is not None else True
        self._timeout = aiohttp.ClientTimeout(total=request_timeout_s)
        self._health_url = self._base + health_path
        self._health_timeout = aiohttp.ClientTimeout(total=health_timeout_s)
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
        return await send(
            self._session,
            method,
            url,
            body,
            headers,
            timeout=self._timeout,
            ssl=self._ssl,
            max_reply=self._max_reply,
        )

    async def healthy(self) -> bool:
        """True when the health endpoint answers 2xx in time; never raises."""
        try:
            async with self._session.get(
                self._health_url, timeout=self._health_timeout, ssl=self._ssl
            ) as response:
                await response.read()
                return 200 <= response.status < 300
        except (TimeoutError, aiohttp.ClientError, OSError):
            return False
