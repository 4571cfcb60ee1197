"""The network page: can this cabin reach its platform, and how well.

Each step is timed and ends in a code, never a stack trace: the name
resolves (DNS), a TCP connection opens, TLS is negotiated with the site's CA
and client certificate (the certificate's dates are read: an expired or
soon-expiring one is the classic cabin outage), then the platform's health
endpoint answers over HTTP. A step that fails stops the ones after it.
No patient is involved: only the configured platform address is contacted.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from app.sync.transport import ssl_context_for
from kiosk_config import KioskConfig


@dataclass(frozen=True, slots=True)
class NetworkStep:
    name: str  # "dns", "tcp", "tls", "health"
    ok: bool
    ms: int | None
    detail: str  # a code or figures: "addresses=2", "HTTP 200", "timeout", "refused" …


@dataclass(frozen=True, slots=True)
class NetworkReport:
    host: str
    steps: tuple[NetworkStep, ...]
    certificate_not_after: datetime | None = None

    @property
    def ok(self) -> bool:
        return bool(self.steps) and all(s.ok for s in self.steps)


def _ms(start: float) -> int:
    return int((time.monotonic() - start) * 1000)


def _failure(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "timeout"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"certificate-refused ({exc.verify_message})"
    if isinstance(exc, ssl.SSLError):
        return f"tls-error ({exc.reason})"
    if isinstance(exc, ConnectionRefusedError):
        return "refused"
    if isinstance(exc, OSError):
        return f"os-error ({exc.strerror or type(exc).__name__})"
    return type(exc).__name__


async def check_network(config: KioskConfig, *, timeout_s: float = 5.0) -> NetworkReport:
    url = urlsplit(str(config.platform.url))
    host = url.hostname or ""
    tls = url.scheme == "https"
    port = url.port or (443 if tls else 80)
    steps: list[NetworkStep] = []
    loop = asyncio.get_running_loop()

    start = time.monotonic()
    try:
        infos = await asyncio.wait_for(loop.getaddrinfo(host, port), timeout_s)
    except (OSError, TimeoutError) as exc:
        steps.append(NetworkStep("dns", False, _ms(start), _failure(exc)))
        return NetworkReport(host, tuple(steps))
    addresses = {info[4][0] for info in infos}
    steps.append(NetworkStep("dns", True, _ms(start), f"addresses={len(addresses)}"))

    start = time.monotonic()
    try:
        _reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout_s)
    except (OSError, TimeoutError) as exc:
        steps.append(NetworkStep("tcp", False, _ms(start), _failure(exc)))
        return NetworkReport(host, tuple(steps))
    steps.append(NetworkStep("tcp", True, _ms(start), f"port={port}"))
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()

    not_after: datetime | None = None
    context: ssl.SSLContext | None = None
    if tls:
        start = time.monotonic()
        try:
            context = ssl_context_for(config.platform)
            _reader, writer = await asyncio.wait_for(
                asyncio.open_connection(host, port, ssl=context, server_hostname=host), timeout_s
            )
        except Exception as exc:  # noqa: BLE001 - the site's TLS files too: a code, not a trace
            steps.append(NetworkStep("tls", False, _ms(start), _failure(exc)))
            return NetworkReport(host, tuple(steps))
        peer = writer.get_extra_info("peercert") or {}
        ends = peer.get("notAfter") if isinstance(peer, dict) else None
        if isinstance(ends, str):
            not_after = datetime.fromtimestamp(ssl.cert_time_to_seconds(ends), UTC)
        days = "" if not_after is None else f" not-after={not_after:%Y-%m-%d}"
        steps.append(
            NetworkStep("tls", True, _ms(start), f"{writer.get_extra_info('cipher')[1]}{days}")
        )
        writer.close()
        with contextlib.suppress(OSError, ssl.SSLError):
            await writer.wait_closed()

    import aiohttp  # on first use: not before the welcome screen (docs/runtime.md)

    start = time.monotonic()
    health = str(config.platform.url).rstrip("/") + config.platform.health_path
    try:
        timeout = aiohttp.ClientTimeout(total=timeout_s)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            async with session.get(health, ssl=context if context is not None else True) as reply:
                await reply.read()
                status = reply.status
    except (aiohttp.ClientError, OSError, TimeoutError) as exc:
        steps.append(NetworkStep("health", False, _ms(start), _failure(exc)))
        return NetworkReport(host, tuple(steps), not_after)
    steps.append(NetworkStep("health", 200 <= status < 300, _ms(start), f"HTTP {status}"))
    return NetworkReport(host, tuple(steps), not_after)
