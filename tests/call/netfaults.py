"""Network faults on loopback: a TCP proxy that can cut its links, a lossy UDP proxy."""

from __future__ import annotations

import asyncio
import contextlib
import random


class TcpProxy:
    """Forwards 127.0.0.1:<port> to a target; ``cut()`` drops every live link."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self.links = 0

    async def start(self) -> TcpProxy:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.links += 1
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.close()
            return
        self._writers |= {writer, up_writer}

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError, asyncio.CancelledError):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        self._writers -= {writer, up_writer}

    def cut(self) -> None:
        for writer in list(self._writers):
            transport = writer.transport
            transport.abort()
        self._writers.clear()

    async def close(self) -> None:
        self.cut()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()


class _Upstream(asyncio.DatagramProtocol):
    def __init__(self, proxy: UdpLossProxy, client: tuple[str, int]) -> None:
        self.proxy, self.client = proxy, client
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.proxy._deliver_back(data, self.client)


class UdpLossProxy(asyncio.DatagramProtocol):
    """Forwards UDP 127.0.0.1:<port> to a target, dropping ``loss`` of packets each way."""

    def __init__(self, target_port: int, *, seed: int = 8) -> None:
        self.target = ("127.0.0.1", target_port)
        self.loss = 0.0
        self._random = random.Random(seed)
        self.port = 0
        self.dropped = self.forwarded = 0
        self._transport: asyncio.DatagramTransport | None = None
        self._upstreams: dict[tuple[str, int], _Upstream] = {}

    async def start(self) -> UdpLossProxy:
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(
            lambda: self, local_addr=("127.0.0.1", 0)
        )
        self._transport = transport
        self.port = transport.get_extra_info("sockname")[1]
        return self

    def _lose(self) -> bool:
        if self.loss > 0 and self._random.random() < self.loss:
            self.dropped += 1
            return True
        self.forwarded += 1
        return False

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        if self._lose():
            return
        upstream = self._upstreams.get(addr)
        if upstream is None:
            upstream = _Upstream(self, addr)
            self._upstreams[addr] = upstream
            loop = asyncio.get_running_loop()
            task = loop.create_datagram_endpoint(lambda: upstream, remote_addr=self.target)

            def send_first(_: asyncio.Future[tuple[asyncio.DatagramTransport, _Upstream]]) -> None:
                if upstream.transport is not None:
                    upstream.transport.sendto(data)

            asyncio.ensure_future(task).add_done_callback(send_first)
            return
        if upstream.transport is not None:
            upstream.transport.sendto(data)

    def _deliver_back(self, data: bytes, client: tuple[str, int]) -> None:
        if not self._lose() and self._transport is not None:
            self._transport.sendto(data, client)

    def close(self) -> None:
        for upstream in self._upstreams.values():
            if upstream.transport is not None:
                upstream.transport.close()
        if self._transport is not None:
            self._transport.close()
