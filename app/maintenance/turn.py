"""The TURN test of the network page: an allocation, a round trip and a throughput through it.

Why through the relay and not a ping: a consultation behind a pharmacy's NAT
often goes through TURN; what matters is that the cabin can allocate a relay
with its credential and that packets cross it fast enough. The test makes two
allocations on the configured server (aioice's TURN client, the one aiortc
uses) and sends between the two relayed addresses: cabin → server → server →
cabin, so no outside peer is needed and nothing leaves for anyone else.

- **allocate**: the Allocate request answered (the relayed address);
- **rtt**: the median of a few echoes A → relay B → B → relay A (ms);
- **throughput**: a short burst A → relay B (`BURST` datagrams of `PAYLOAD`
  bytes), received rate at B in kbit/s and the share lost.

Each step a code or figures, never a credential.

Where the credential comes from (`check_site_turn`): a site whose TURN entry
carries a username and credential is tested with them; one that lists the URL
alone (TURN REST, as the demo and any platform minting per-call credentials)
asks its platform, with the cabin's token, for a credential made for this test
only (``POST /cabin/turn/test-credential``: valid 30 s, its relay sessions cut
after the test, the request traced by the platform). The test then allocates as
a call would; a refused or unreachable mint is the step "turn credential" with
its code, and no allocation is tried without a credential.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast
from urllib.parse import parse_qs

from app.maintenance.network import NetworkStep
from kiosk_config import KioskConfig
from kiosk_config.schema import IceServer

ECHOES = 5
BURST = 200
PAYLOAD = 1000  # bytes: under any path MTU once wrapped in TURN's 4-byte channel header


@dataclass(frozen=True, slots=True)
class TurnTarget:
    url: str  # as configured (no credential in it)
    host: str
    port: int
    transport: str  # "udp", "tcp"
    tls: bool


def parse_turn_url(url: str) -> TurnTarget | None:
    """`turn:host[:port][?transport=udp|tcp]` / `turns:…`; None for stun: or anything else."""
    scheme, _, rest = url.partition(":")
    if scheme not in ("turn", "turns") or not rest:
        return None
    where, _, query = rest.partition("?")
    transport = parse_qs(query).get("transport", ["tcp" if scheme == "turns" else "udp"])[0]
    if transport not in ("udp", "tcp"):
        return None
    if where.startswith("["):  # an IPv6 literal
        host, _, tail = where[1:].partition("]")
        port_text = tail.removeprefix(":")
    else:
        host, _, port_text = where.rpartition(":") if ":" in where else (where, "", "")
    try:
        port = int(port_text) if port_text else (5349 if scheme == "turns" else 3478)
    except ValueError:
        return None
    if not host or not 0 < port < 65536:
        return None
    tls = scheme == "turns"
    return TurnTarget(url, host, port, "tcp" if tls else transport, tls)


class _Peer(asyncio.DatagramProtocol):
    """One side of the test: keeps arrivals (counts and times only) and may echo them."""

    def __init__(self, echo: bool) -> None:
        self.echo = echo
        self.transport: asyncio.DatagramTransport | None = None
        self.arrived: list[tuple[bytes, float]] = []
        self.bytes = 0
        self.first: float | None = None
        self.last: float | None = None
        self.changed = asyncio.Event()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # aioice's TurnTransport

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        now = time.monotonic()
        if data.startswith(b"echo"):
            if self.echo and self.transport is not None:
                self.transport.sendto(b"back" + data[4:], addr)
            else:
                self.arrived.append((data[:16], now))
        elif data.startswith(b"back"):
            self.arrived.append((data[:16], now))
        else:
            self.bytes += len(data)
            self.first = now if self.first is None else self.first
            self.last = now
        self.changed.set()


async def _allocate(
    target: TurnTarget, username: str | None, password: str | None, peer: _Peer
) -> asyncio.DatagramTransport:
    from aioice.turn import create_turn_endpoint

    context: ssl.SSLContext | None = ssl.create_default_context() if target.tls else None
    transport, _ = await create_turn_endpoint(
        lambda: peer,
        (target.host, target.port),
        username,
        password,
        lifetime=120,
        ssl=context,
        transport=target.transport,
    )
    return cast(asyncio.DatagramTransport, transport)  # aioice's TurnTransport is one


def _failure(exc: BaseException) -> str:
    from aioice import stun

    if isinstance(exc, TimeoutError | stun.TransactionTimeout):
        return "timeout"
    if isinstance(exc, stun.TransactionFailed):
        code = exc.response.attributes.get("ERROR-CODE")
        return f"refused-{code[0]}" if isinstance(code, tuple) else "refused"
    if isinstance(exc, ConnectionRefusedError):
        return "refused"
    if isinstance(exc, OSError):
        return f"os-error ({exc.strerror or type(exc).__name__})"
    return type(exc).__name__


def _ms(start: float) -> int:
    return int((time.monotonic() - start) * 1000)


async def check_turn(server: IceServer, *, timeout_s: float = 5.0) -> tuple[NetworkStep, ...]:
    """The three steps on the first TURN URL of `server`; () when it has none."""
    target = next((t for u in server.urls if (t := parse_turn_url(str(u))) is not None), None)
    if target is None:
        return ()
    name = f"turn {target.host}:{target.port}/{target.transport}"
    a, b = _Peer(echo=False), _Peer(echo=True)
    opened: list[asyncio.DatagramTransport] = []
    steps: list[NetworkStep] = []
    start = time.monotonic()
    try:
        async with asyncio.timeout(timeout_s):
            for peer in (a, b):
                opened.append(await _allocate(target, server.username, server.credential, peer))
    except Exception as exc:  # noqa: BLE001 - a code on the page, never a trace
        steps.append(NetworkStep(f"{name} allocate", False, _ms(start), _failure(exc)))
        await _close(opened)
        return tuple(steps)
    relay_a = opened[0].get_extra_info("sockname")
    relay_b = opened[1].get_extra_info("sockname")
    steps.append(NetworkStep(f"{name} allocate", True, _ms(start), f"relayed={relay_a[0]}"))
    try:
        steps.append(await _round_trip(opened[0], opened[1], a, relay_a, relay_b, timeout_s))
        if steps[-1].ok:
            steps.append(await _throughput(opened[0], b, relay_b, timeout_s))
    finally:
        await _close(opened)
    return tuple(steps)


async def _round_trip(
    ta: asyncio.DatagramTransport,
    tb: asyncio.DatagramTransport,
    a: _Peer,
    relay_a: tuple[str, int],
    relay_b: tuple[str, int],
    timeout_s: float,
) -> NetworkStep:
    tb.sendto(b"open", relay_a)  # B's permission for A's relay: A's echoes may come in
    ta.sendto(b"open", relay_b)  # and A's channel to B's relay
    await asyncio.sleep(0.2)
    times: list[float] = []
    start = time.monotonic()
    for n in range(ECHOES):
        tag = f"echo{n:04d}".encode()
        a.changed.clear()
        sent = time.monotonic()
        ta.sendto(tag, relay_b)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(min(2.0, timeout_s)):
                while not any(d == b"back" + tag[4:] for d, _ in a.arrived):
                    await a.changed.wait()
                    a.changed.clear()
        back = next((t for d, t in a.arrived if d == b"back" + tag[4:]), None)
        if back is not None:
            times.append((back - sent) * 1000)
    if not times:
        return NetworkStep("turn rtt", False, _ms(start), "no-echo")
    median = statistics.median(times)
    detail = f"echoes={len(times)}/{ECHOES} median={median:.1f}ms"
    return NetworkStep("turn rtt", True, round(median), detail)


async def _throughput(
    ta: asyncio.DatagramTransport, b: _Peer, relay_b: tuple[str, int], timeout_s: float
) -> NetworkStep:
    payload = bytes(PAYLOAD)
    start = time.monotonic()
    for n in range(BURST):
        ta.sendto(payload, relay_b)
        if n % 20 == 19:
            await asyncio.sleep(0.005)  # let the loop write: a burst, not one syscall storm
    deadline = time.monotonic() + min(2.0, timeout_s)
    while b.bytes < BURST * PAYLOAD and time.monotonic() < deadline:
        b.changed.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(b.changed.wait(), 0.3)
        if b.last is not None and time.monotonic() - b.last > 0.3:
            break
    received = b.bytes // PAYLOAD
    if received == 0 or b.first is None or b.last is None:
        return NetworkStep("turn throughput", False, _ms(start), "nothing-received")
    span = max(b.last - start, 1e-3)
    kbit = int(b.bytes * 8 / span / 1000)
    lost = 100 * (BURST - received) // BURST
    return NetworkStep("turn throughput", True, _ms(start), f"kbit/s={kbit} lost={lost}%")


async def _close(opened: Sequence[asyncio.DatagramTransport]) -> None:
    for transport in opened:
        transport.close()
    await asyncio.sleep(0.05)  # the Refresh(0) that deletes each allocation goes out


TEST_CREDENTIAL_PATH = "/cabin/turn/test-credential"


async def mint_test_credential(
    config: KioskConfig, *, timeout_s: float = 5.0
) -> IceServer | NetworkStep:
    """The platform's credential for this TURN test (an IceServer), or the failed step.

    Asked with the cabin's token (`CabinAuth`, as every cabin channel); a site with no
    cabin secret has no way to be given one: ``no-cabin-secret``."""
    import aiohttp  # on first use, as network.py

    from app.sync.transport import CabinAuth, CabinAuthError, NetworkFailure, ssl_context_for

    start = time.monotonic()
    name = "turn credential"
    try:
        auth = CabinAuth.for_config(config)
    except CabinAuthError:
        return NetworkStep(name, False, _ms(start), "cabin-secret-unreadable")
    if auth is None:
        return NetworkStep(name, False, _ms(start), "no-cabin-secret")
    url = str(config.platform.url).rstrip("/") + TEST_CREDENTIAL_PATH
    tls = ssl_context_for(config.platform) if url.startswith("https:") else None
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout_s)) as http:
            headers = await auth.headers(http)
            async with http.post(url, headers=headers, ssl=tls if tls is not None else True) as r:
                if r.status != 200:
                    return NetworkStep(name, False, _ms(start), f"HTTP {r.status}")
                body = await r.json()
        entry = body["iceServers"][0]
        server = IceServer(
            urls=tuple(entry["urls"]) if isinstance(entry["urls"], list) else (entry["urls"],),
            username=entry["username"],
            credential=entry["credential"],
        )
    except CabinAuthError:
        return NetworkStep(name, False, _ms(start), "cabin-refused")
    except (aiohttp.ClientError, OSError, TimeoutError, NetworkFailure) as exc:
        return NetworkStep(name, False, _ms(start), _failure(exc))
    except (ValueError, KeyError, TypeError, IndexError):  # pydantic's errors are ValueErrors
        return NetworkStep(name, False, _ms(start), "unreadable-answer")
    return server


def _has_credential(server: IceServer) -> bool:
    return bool(server.username) and bool(server.credential)


async def check_site_turn(
    config: KioskConfig, *, timeout_s: float = 5.0
) -> tuple[NetworkStep, ...]:
    """The TURN test of each configured server with a TURN URL: with its own credential,
    or, when it lists the URL alone, with one the platform mints for this test only."""
    steps: list[NetworkStep] = []
    for server in config.platform.ice_servers:
        if not any(parse_turn_url(str(u)) for u in server.urls):
            continue
        if _has_credential(server):
            steps += await check_turn(server, timeout_s=timeout_s)
            continue
        minted = await mint_test_credential(config, timeout_s=timeout_s)
        if isinstance(minted, NetworkStep):
            steps.append(minted)
            continue
        # the configured URL, the minted credential (the platform's URLs are not trusted
        # to send the test elsewhere than the site's relay)
        test = IceServer(urls=server.urls, username=minted.username, credential=minted.credential)
        steps += await check_turn(test, timeout_s=timeout_s)
    return tuple(steps)


__all__ = [
    "TurnTarget",
    "check_site_turn",
    "check_turn",
    "mint_test_credential",
    "parse_turn_url",
]
