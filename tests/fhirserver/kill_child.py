"""A kiosk sender in its own process, for the kill-mid-drain test (tests/fhirserver).

    python -m tests.fhirserver.kill_child STORE_DIR URL STRATEGY MODE K

Opens the real SQLCipher store at STORE_DIR and drains its outbox to URL with
the kiosk's own sender. Every acknowledgement the store recorded is printed as
`ack <session id>`. MODE says where the process offers itself to be killed
(SIGKILL, by the test) at the K-th request (Binary PUTs and bundle POSTs):

- `sending`: prints `sending K` just before the request leaves, then sends it;
- `replied`: the platform answered request K (it stored what was sent) and the
  process then hangs before the sender sees the answer: prints `replied K`;
- `none`: drains everything and prints `drained <acknowledged> <quarantined>`.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Coroutine
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp

from app.store import AsyncStore, FileKeySource
from app.sync.sender import Sender, SenderSettings
from app.sync.store_adapter import StoreOutbox
from app.sync.transport import HttpReply, PlatformClient
from app.sync.upload import UploadSettings
from tests.sync.sessions import TEST_SITE


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


class KillableClient(PlatformClient):
    def __init__(self, http: aiohttp.ClientSession, url: str, mode: str, k: int) -> None:
        super().__init__(http, url, request_timeout_s=60)
        self.mode, self.k, self.n = mode, k, 0

    async def _step(self, send: Coroutine[Any, Any, HttpReply]) -> HttpReply:
        self.n += 1
        if self.mode == "sending" and self.n == self.k:
            say(f"sending {self.n}")
        reply = await send
        if self.mode == "replied" and self.n == self.k:
            say(f"replied {self.n}")
            await asyncio.Event().wait()  # killed here, the answer never seen
        return reply

    async def post_bundle(self, body: bytes, *, prefer: str | None = None) -> HttpReply:
        return await self._step(super().post_bundle(body, prefer=prefer))

    async def put_binary(self, binary_id: str, content_type: str, content: bytes) -> HttpReply:
        return await self._step(super().put_binary(binary_id, content_type, content))


class PrintingOutbox(StoreOutbox):
    def __init__(self, store: AsyncStore) -> None:
        super().__init__(store)
        self._store_ = store

    async def acknowledge(self, item_id: int, response_digest: str, at: datetime) -> None:
        await super().acknowledge(item_id, response_digest, at)
        item = await self._store_.outbox_item(item_id)
        say(f"ack {item.session_id}")


async def main(store_dir: str, url: str, strategy: str, mode: str, k: int) -> None:
    data_dir = Path(store_dir)
    store = await AsyncStore.open(data_dir, FileKeySource(data_dir))
    try:
        async with aiohttp.ClientSession() as http:
            sender = Sender(
                PrintingOutbox(store),
                KillableClient(http, url, mode, k),
                TEST_SITE,
                settings=SenderSettings(batch=250, upload=UploadSettings(strategy=strategy)),
            )
            report = await sender.drain_once()
            say(f"drained {report.acknowledged} {report.quarantined} {report.retry_in_s}")
    finally:
        await store.close()


if __name__ == "__main__":
    store_dir, url, strategy, mode, k = sys.argv[1:6]
    asyncio.run(main(store_dir, url, strategy, mode, int(k)))
