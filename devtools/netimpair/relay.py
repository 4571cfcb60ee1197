"""The impairment relay: a UDP relay on loopback that applies `core.Impairment`.

Clients send to ``127.0.0.1:<relay.port>``; each client address gets its own
upstream socket towards the target (so the target, usually coturn, sees one
distinct peer per client, as through a NAT). Datagrams going to the target
cross ``impairment.up``, those coming back cross ``impairment.down``. The
clock is the event loop's (`loop.time()`), and each datagram is sent with
`loop.call_at` at the time the core gives. A datagram whose delivery time
falls in a cut announced after it was scheduled is dropped when it is due.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Callable

from devtools.netimpair.core import Drop, Impairment, Link, Profile

Address = tuple[str, int]


class _Upstream(asyncio.DatagramProtocol):
    def __init__(self, relay: ImpairmentRelay, client: Address) -> None:
        self.relay, self.client = relay, client
        self.transport: asyncio.DatagramTransport | None = None
        self.pending: list[bytes] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.DatagramTransport)
        self.transport = transport
        for data in self.pending:
            transport.sendto(data)
        self.pending.clear()

    def datagram_received(self, data: bytes, addr: Address) -> None:
        self.relay._schedule(self.relay.impairment.down, data, self._send_back)

    def _send_back(self, data: bytes) -> None:
        if self.relay._transport is not None:
            self.relay._transport.sendto(data, self.client)

    def send(self, data: bytes) -> None:
        if self.transport is None:
            self.pending.append(data)
        else:
            self.transport.sendto(data)


class ImpairmentRelay(asyncio.DatagramProtocol):
    """``await ImpairmentRelay(target_port, profile).start()``; ``relay.cut(5)``; ``relay.close()``."""

    def __init__(
        self,
        target_port: int,
        profile: Profile | None = None,
        *,
        seed: int = 17,
        target_host: str = "127.0.0.1",
        listen_port: int = 0,
    ) -> None:
        self.target: Address = (target_host, target_port)
        self.impairment = Impairment(profile or Profile(), seed=seed)
        self.port = listen_port
        self._transport: asyncio.DatagramTransport | None = None
        self._upstreams: dict[Address, _Upstream] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self.late_cut_drops = 0
        self._queues: dict[int, deque[tuple[float, bytes, Callable[[bytes], None]]]] = {}

    async def start(self) -> ImpairmentRelay:
        self._loop = asyncio.get_running_loop()
        transport, _ = await self._loop.create_datagram_endpoint(
            lambda: self, local_addr=("127.0.0.1", self.port)
        )
        self._transport = transport
        self.port = int(transport.get_extra_info("sockname")[1])
        return self

    @property
    def clients(self) -> int:
        return len(self._upstreams)

    def set_profile(self, profile: Profile) -> None:
        self.impairment.set_profile(profile)

    def cut(self, seconds: float) -> None:
        """Nothing crosses, either way, for `seconds` from now (packets in flight included)."""
        assert self._loop is not None
        self.impairment.cut(self._loop.time(), seconds)

    def dropped(self, reason: Drop) -> int:
        return (
            self.impairment.up.counters.dropped[reason]
            + self.impairment.down.counters.dropped[reason]
        )

    def datagram_received(self, data: bytes, addr: Address) -> None:
        upstream = self._upstreams.get(addr)
        if upstream is None:
            upstream = _Upstream(self, addr)
            self._upstreams[addr] = upstream
            assert self._loop is not None
            self._loop.create_task(
                self._loop.create_datagram_endpoint(lambda: upstream, remote_addr=self.target)
            )
        self._schedule(self.impairment.up, data, upstream.send)

    def _schedule(self, link: Link, data: bytes, send: Callable[[bytes], None]) -> None:
        """Queue the datagram on its link; one timer per link sends its queue in order.

        (One `call_at` per datagram could reorder datagrams due at the same
        instant: the loop's timer heap is not stable.)"""
        assert self._loop is not None
        due = link.offer(self._loop.time(), len(data))
        if isinstance(due, Drop):
            return
        queue = self._queues.setdefault(id(link), deque())
        queue.append((due, data, send))
        if len(queue) == 1:
            self._loop.call_at(due, self._flush, queue)

    def _flush(self, queue: deque[tuple[float, bytes, Callable[[bytes], None]]]) -> None:
        assert self._loop is not None
        now = self._loop.time()
        while queue and queue[0][0] <= now:
            _, data, send = queue.popleft()
            if self.impairment.in_cut(now):
                self.late_cut_drops += 1
            elif self._transport is not None:
                send(data)
        if queue:
            self._loop.call_at(queue[0][0], self._flush, queue)

    def close(self) -> None:
        for upstream in self._upstreams.values():
            if upstream.transport is not None:
                upstream.transport.close()
        self._upstreams.clear()
        if self._transport is not None:
            with contextlib.suppress(Exception):
                self._transport.close()
            self._transport = None
