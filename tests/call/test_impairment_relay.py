"""The impairment relay on real sockets: delay, loss, cut and cap as measured by a UDP echo,
and a real TURN allocation (coturn) through it."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import pytest

from devtools.netimpair import Drop, ImpairmentRelay, Profile
from devtools.turn import TURNSERVER, TurnServer
from tests.call.conftest import require_program

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]


class Echo(asyncio.DatagramProtocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.DatagramTransport)
        self.transport = transport

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.transport.sendto(data, addr)


class Client(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.received: list[tuple[float, bytes]] = []

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.received.append((time.monotonic(), data))


@dataclass
class Rig:
    relay: ImpairmentRelay
    transport: asyncio.DatagramTransport
    client: Client
    echo: asyncio.DatagramTransport

    def close(self) -> None:
        self.transport.close()
        self.relay.close()
        self.echo.close()


async def echo_through(profile: Profile) -> Rig:
    loop = asyncio.get_running_loop()
    echo, _ = await loop.create_datagram_endpoint(Echo, local_addr=("127.0.0.1", 0))
    relay = await ImpairmentRelay(echo.get_extra_info("sockname")[1], profile, seed=3).start()
    client = Client()
    transport, _ = await loop.create_datagram_endpoint(
        lambda: client, remote_addr=("127.0.0.1", relay.port)
    )
    return Rig(relay, transport, client, echo)


async def test_delay_loss_and_cut_on_a_udp_echo() -> None:
    rig = await echo_through(Profile(delay_s=0.05))
    relay, transport, client = rig.relay, rig.transport, rig.client
    try:
        sent = time.monotonic()
        transport.sendto(b"ping")
        await asyncio.sleep(0.3)
        assert len(client.received) == 1
        assert 0.095 < client.received[0][0] - sent < 0.2  # 50 ms each way

        relay.set_profile(Profile(loss=0.3))
        client.received.clear()
        for i in range(400):
            transport.sendto(i.to_bytes(2, "big"))
            await asyncio.sleep(0.001)
        await asyncio.sleep(0.2)
        # Each round trip crosses the relay twice: 1 - 0.7² = 51 % lost.
        assert 0.40 < 1 - len(client.received) / 400 < 0.62
        assert relay.dropped(Drop.LOSS) == 400 - len(client.received)

        relay.set_profile(Profile())
        client.received.clear()
        relay.cut(1.0)
        cut_at = time.monotonic()
        while time.monotonic() < cut_at + 1.5:
            transport.sendto(b"x")
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.05)
        arrivals = [t - cut_at for t, _ in client.received]
        assert arrivals and all(a >= 0.98 for a in arrivals)  # silence for the whole cut
        assert min(arrivals) < 1.1  # and the line is back at once
    finally:
        rig.close()


async def test_the_cap_holds_the_rate() -> None:
    rig = await echo_through(Profile(rate_bps=800_000, burst_bytes=3000, queue_s=0.5))
    relay, transport, client = rig.relay, rig.transport, rig.client
    try:
        start = time.monotonic()
        while time.monotonic() < start + 2.0:  # ~2.4 Mbit/s offered each way
            transport.sendto(bytes(1000))
            await asyncio.sleep(0.003)
        await asyncio.sleep(0.6)
        times = [t for t, _ in client.received]
        rate = (len(times) - 1) * 1000 * 8 / (times[-1] - times[0])
        assert 0.8 * 800_000 < rate < 1.05 * 800_000
        assert relay.dropped(Drop.QUEUE) > 0
    finally:
        rig.close()


async def test_a_turn_allocation_crosses_the_relay() -> None:
    from aioice.turn import create_turn_endpoint

    require_program(TURNSERVER, "coturn")
    with TurnServer() as turn:
        relay = await ImpairmentRelay(turn.port, Profile(delay_s=0.05)).start()
        try:
            started = time.monotonic()
            transport, _ = await create_turn_endpoint(
                asyncio.DatagramProtocol, ("127.0.0.1", relay.port), turn.user, turn.password
            )
            took = time.monotonic() - started
            transport.close()
            assert relay.clients == 1
            assert relay.impairment.up.counters.delivered >= 2  # the 401 dance, then Allocate
            assert took > 0.2  # two round trips at 100 ms each
            # A 5 s cut: STUN retransmits (0.5, 1, 2, 4 s apart) until the line is back.
            relay.cut(5.0)
            cut_at = time.monotonic()
            transport, _ = await create_turn_endpoint(
                asyncio.DatagramProtocol, ("127.0.0.1", relay.port), turn.user, turn.password
            )
            transport.close()
            assert time.monotonic() - cut_at > 5.0
            assert relay.dropped(Drop.CUT) >= 3
        finally:
            relay.close()
