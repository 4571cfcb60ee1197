"""Wiring of the uplink: monitor + sender, built from the site configuration.

The session controller (composition root) does:

    sync = build_sync(config, outbox)          # outbox: StoreOutbox(store)
    sync.monitor.add_listener(controller.on_network)   # feeds the session flow
    await sync.start()
    ...  after a session ends:  sync.sender.notify()
    await sync.stop()

Degraded mode as far as sync is concerned: nothing is lost while offline
(the store keeps the sessions encrypted); when the monitor sees the platform
again the sender's pause ends and the queue drains by itself.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING

from app.sync.clock import MonotonicClock, SystemClock
from app.sync.monitor import NetworkEvent, NetworkMonitor
from app.sync.outbox_port import OutboxPort
from app.sync.sender import Sender, SenderSettings
from app.sync.session_snapshot import SiteInfo
from app.sync.transport import CabinAuth, LazySession, PlatformClient, ssl_context_for
from app.sync.upload import UploadSettings
from kiosk_config import KioskConfig

if TYPE_CHECKING:
    import aiohttp


class SyncService:
    def __init__(
        self,
        sender: Sender,
        monitor: NetworkMonitor,
        *,
        http: aiohttp.ClientSession | LazySession | None = None,
    ) -> None:
        self.sender = sender
        self.monitor = monitor
        self._http = http
        self._tasks: list[asyncio.Task[None]] = []
        monitor.add_listener(self._on_network)

    def _on_network(self, event: NetworkEvent) -> None:
        if event.online:
            self.sender.network_online()

    async def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self.monitor.run(), name="sync-monitor"),
            asyncio.create_task(self.sender.run(), name="sync-sender"),
        ]

    async def stop(self) -> None:
        self.monitor.stop()
        self.sender.stop()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        if self._http is not None:
            await self._http.close()


def upload_settings_from(config: KioskConfig) -> UploadSettings:
    """`[platform.upload]` of the site configuration (validated with its ranges there)."""
    section = config.platform.upload
    return UploadSettings(
        strategy=section.strategy,
        max_conditional_entries=section.max_conditional_entries,
        max_update_entries=section.max_update_entries,
        inline_max_bytes=section.inline_max_bytes,
        binary_documents=section.binary_documents,
        max_reply_bytes=section.max_reply_bytes,
    )


def build_sync(
    config: KioskConfig,
    outbox: OutboxPort,
    *,
    clock: MonotonicClock | None = None,
    settings: SenderSettings | None = None,
    request_timeout_s: float = 30.0,
) -> SyncService:
    """Everything from the site configuration (call inside the running loop)."""
    clock = clock or SystemClock()
    platform = config.platform
    tls = ssl_context_for(platform) if platform.url.startswith("https:") else None
    http = LazySession()  # made at the first request, after READY (docs/runtime.md, cold start)
    client = PlatformClient(
        http,
        platform.url,
        ssl_context=tls,
        request_timeout_s=request_timeout_s,
        health_path=platform.health_path,
        max_reply_bytes=upload_settings_from(config).max_reply_bytes,
        auth=CabinAuth.for_config(config),
    )
    settings = settings or SenderSettings(upload=upload_settings_from(config))
    sender = Sender(outbox, client, SiteInfo.from_config(config), clock=clock, settings=settings)
    monitor = NetworkMonitor(client.healthy, interval_s=platform.health_interval_s, clock=clock)
    return SyncService(sender, monitor, http=http)
