"""A TCP proxy on loopback that breaks connections on purpose.

Why a proxy of our own: `tc netem` is not available here, and the faults
that matter for "exactly once" are precise ones: the platform committed the
bundle but the kiosk never hears back (`DROP_RESPONSE`), the connection dies
before the request (`DROP_BEFORE_REQUEST`), the platform is overloaded
(`HTTP_503` with Retry-After, `HTTP_500`), the line goes silent (`HANG`),
or is reset (`RESET`). A schedule picks the fault of each new connection,
scripted or random with a seed (printed by tests so a failure can be
replayed).

Faults apply per connection: a client that keeps connections alive carries
many requests over one forwarded connection; tests use a client that opens
one connection per request.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import random
import socket
import struct
from collections import Counter
from collections.abc import Callable, Mapping, Sequence

LOOPBACK = "127.0.0.1"
MAX_HEAD = 64 * 1024


class Fault(enum.StrEnum):
    FORWARD = "forward"
    DROP_BEFORE_REQUEST = "drop-before-request"
    DROP_RESPONSE = "forward-then-drop-response"
    HTTP_500 = "http-500"
    HTTP_503 = "http-503"
    HANG = "hang"
    RESET = "reset"


Schedule = Callable[[int], Fault]


class ScriptedSchedule:
    """Faults for the first connections in order, then `then` for all others."""

    def __init__(self, faults: Sequence[Fault], then: Fault = Fault.FORWARD) -> None:
        self._faults = list(faults)
        self._then = then

    def __call__(self, index: int) -> Fault:
        return self._faults[index] if index < len(self._faults) else self._then


class RandomSchedule:
    """Each connection draws a fault with the given weights, from a seeded generator."""

    def __init__(self, seed: int, weights: Mapping[Fault, float]) -> None:
        self.seed = seed
        self._rng = random.Random(seed)  # noqa: S311 - test faults, not security
        self._faults = list(weights)
        self._weights = [weights[f] for f in self._faults]

    def __call__(self, index: int) -> Fault:
        return self._rng.choices(self._faults, self._weights)[0]


def always(fault: Fault) -> Schedule:
    return lambda _index: fault


class FaultProxy:
    def __init__(
        self,
        upstream_port: int,
        schedule: Schedule | None = None,
        *,
        retry_after: str = "1",
        listen_port: int = 0,
        max_hang_s: float = 30.0,
    ) -> None:
        self.upstream_port = upstream_port
        self.schedule: Schedule = schedule or always(Fault.FORWARD)
        self.retry_after = retry_after
        self.counts: Counter[Fault] = Counter()
        self._listen_port = listen_port
        self._max_hang_s = max_hang_s
        self._server: asyncio.Server | None = None
        self._connections = 0
        self._handlers: set[asyncio.Task[None]] = set()

    @property
    def port(self) -> int:
        assert self._server is not None, "start() the proxy first"
        return int(self._server.sockets[0].getsockname()[1])

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._accept, LOOPBACK, self._listen_port)
        return self.port

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._handlers):
            task.cancel()
        await asyncio.gather(*self._handlers, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    async def __aenter__(self) -> FaultProxy:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        index = self._connections
        self._connections += 1
        fault = self.schedule(index)
        self.counts[fault] += 1
        try:
            await self._handle(fault, reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, OSError):
            pass
        finally:
            self._handlers.discard(task)
            if not writer.is_closing():
                writer.close()

    async def _handle(
        self, fault: Fault, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        if fault is Fault.DROP_BEFORE_REQUEST:
            _reset(writer)
            return
        if fault is Fault.FORWARD:
            await self._forward(reader, writer)
            return
        request = await _read_request(reader)
        if fault is Fault.RESET:
            _reset(writer)
        elif fault in (Fault.HTTP_500, Fault.HTTP_503):
            writer.write(self._canned(500 if fault is Fault.HTTP_500 else 503))
            await writer.drain()
        elif fault is Fault.HANG:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(reader.read(), self._max_hang_s)
        elif fault is Fault.DROP_RESPONSE:
            up_reader, up_writer = await asyncio.open_connection(LOOPBACK, self.upstream_port)
            try:
                up_writer.write(request)
                await up_writer.drain()
                # The platform commits before it answers: the first byte proves it.
                await up_reader.read(1)
            finally:
                up_writer.close()
            _reset(writer)

    def _canned(self, status: int) -> bytes:
        reason = {500: "Internal Server Error", 503: "Service Unavailable"}[status]
        body = (
            b'{"resourceType":"OperationOutcome","issue":[{"severity":"error",'
            b'"code":"transient","diagnostics":"fault proxy"}]}'
        )
        head = (
            f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/fhir+json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n"
        )
        if status == 503:
            head += f"Retry-After: {self.retry_after}\r\n"
        return head.encode("ascii") + b"\r\n" + body

    async def _forward(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(LOOPBACK, self.upstream_port)

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                with contextlib.suppress(Exception):
                    dst.write_eof()

        try:
            await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        finally:
            up_writer.close()


async def _read_request(reader: asyncio.StreamReader) -> bytes:
    """One HTTP/1.1 request, head and body (Content-Length or chunked)."""
    head = await reader.readuntil(b"\r\n\r\n")
    if len(head) > MAX_HEAD:
        raise ConnectionError("request head too large")
    length = 0
    chunked = False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
        elif name.strip().lower() == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    if chunked:
        body = b""
        while not body.endswith(b"0\r\n\r\n"):
            body += await reader.readuntil(b"\r\n")
        return head + body
    return head + (await reader.readexactly(length) if length else b"")


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with a TCP RST (SO_LINGER 0), as a crashed middlebox would."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()
