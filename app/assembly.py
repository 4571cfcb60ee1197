"""Composition without Qt: the kiosk's parts built from the configuration.

    assembly = await assemble(config, sims=hub)   # store, devices, sync, call, controller
    await assembly.start()
    ...
    await assembly.close()

`assemble` has no Qt: tests build the whole kiosk with it, and the entry point
(app/main.py) puts a window on it. The call's pictures, chat and controls reach
the window through app/ui/call_bridge.py (`bind_window`).
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from app.controller.adapters import DriverHub
from app.controller.call_launcher import KioskCallLauncher, summary_of
from app.controller.controller import SessionController
from app.controller.document_links import LINK_PATH, fetch_document_link
from app.controller.ports import CallPort, Clock
from app.controller.wiring import LeftOut, SessionServices, build_session_services, flow_settings
from app.maintenance.service import AccountService
from app.maintenance.store_binding import account_service_on, key_source_for
from app.store import AsyncStore, RetentionPolicy
from app.sync.clock import SystemClock
from app.sync.heartbeat import HeartbeatService, HeartbeatSettings, build_heartbeat
from app.sync.insi_client import PlatformInsi
from app.sync.service import SyncService, build_sync
from app.sync.store_adapter import StoreOutbox
from app.sync.transport import CabinAuth, ssl_context_for
from app.ui.presenter import Site
from app.ui.views import NearbyPlaceView, SiteContact
from drivers.simulators import SimulatorHub
from kiosk_config import KioskConfig
from vocabulary.devices import CATALOGUE

log = logging.getLogger("kiosk")

STORE_UPKEEP_S = 600.0  # purge + thresholds every 10 minutes (and at start)


class _Auto(enum.Enum):
    AUTO = "auto"


AUTO = _Auto.AUTO  # `call=AUTO`: the real call from the configuration


@dataclass
class Assembly:
    config: KioskConfig
    store: AsyncStore
    services: SessionServices
    sims: SimulatorHub | None
    sync: SyncService | None
    call: CallPort | None
    site: Site
    accounts: AccountService
    heartbeat: HeartbeatService | None = None
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    sessions_ended: list[str] = field(default_factory=list)
    closers: list[Callable[[], object]] = field(default_factory=list)
    _closed: bool = False

    @property
    def controller(self) -> SessionController:
        return self.services.controller

    @property
    def hub(self) -> DriverHub:
        return self.services.devices

    @property
    def left_out(self) -> list[LeftOut]:
        return self.services.left_out

    @property
    def launcher(self) -> KioskCallLauncher | None:
        return self.call if isinstance(self.call, KioskCallLauncher) else None

    async def start(self, *, ticker: bool = True) -> None:
        """The controller first (its network pump must hear the monitor's first verdict)."""
        await self.controller.start(ticker=ticker)
        if self.sync is not None:
            await self.sync.start()
        if self.heartbeat is not None:
            self.heartbeat.start()

    async def close(self) -> None:
        """Stop everything this assembly started, in reverse order; the simulators are the caller's."""
        if self._closed:
            return
        self._closed = True
        for closer in reversed(self.closers):
            with contextlib.suppress(Exception):
                closer()
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await self.services.close()
        if self.heartbeat is not None:
            await self.heartbeat.stop()
        if self.sync is not None:
            await self.sync.stop()
        await self.store.close()


DOCUMENT_PATH = LINK_PATH  # where the cabin asks the platform for a document's patient link


def site_of(config: KioskConfig) -> Site:
    e = config.emergency
    return Site(
        document_url=config.platform.url.rstrip("/") + DOCUMENT_PATH,
        languages=config.languages,
        devices=tuple(
            d.kind
            for d in config.devices
            if d.kind in CATALOGUE  # the patient's devices
        ),
        places=tuple(
            NearbyPlaceView(p.name, p.address, p.phone, p.hours) for p in config.nearby_places
        ),
        numbers={"15": e.samu, "112": e.european, "114": e.deaf, "3114": e.suicide_prevention},
        contact=SiteContact(
            config.site.name, config.site.address_lines(with_name=False), config.site.phone
        ),
        max_wait_s=flow_settings(config).max_wait_s,
    )


def retention_of(config: KioskConfig) -> RetentionPolicy:
    s = config.storage
    return RetentionPolicy.from_config(s.retention_days, s.max_buffer_mb, s.max_unsent_age_hours)


async def store_upkeep(
    store: AsyncStore,
    interval_s: float = STORE_UPKEEP_S,
    on_new_incident: Callable[[], None] | None = None,
) -> None:
    """Purge what the platform acknowledged past retention, then check the buffer thresholds.

    At start and every `interval_s`. A failure is logged and tried again next
    time: upkeep must never stop the kiosk. A threshold newly crossed (more open
    incidents than last time) is told to `on_new_incident` (the heartbeat).
    """
    open_before: int | None = None
    while True:
        try:
            report = await store.purge()
            health = await store.check_thresholds()
            opened = len(health.open_incidents)
            if on_new_incident is not None and open_before is not None and opened > open_before:
                on_new_incident()
            open_before = opened
            log.info(
                "store upkeep: %d session(s) purged, %d unsent",
                report.sessions,
                health.unsent_sessions,
            )
        except Exception as exc:
            log.error("store upkeep failed (%s)", type(exc).__name__)
        await asyncio.sleep(interval_s)


async def assemble(
    config: KioskConfig,
    *,
    data_dir: Path | None = None,
    sims: SimulatorHub | None = None,
    call: CallPort | None | _Auto = AUTO,
    sync: bool = True,
    clock: Clock | None = None,
    upkeep_interval_s: float = STORE_UPKEEP_S,
) -> Assembly:
    """Build the kiosk's parts (not started: `await assembly.start()`).

    `sims`: a started SimulatorHub for simulated devices (demo, tests), None on
    a cabin. `call`: AUTO (the real call from [platform]), None (no call: the
    waiting room goes to the degraded path) or any CallPort. `sync`: the uplink
    and the network monitor from [platform].
    """
    directory = Path(data_dir or config.storage.data_dir)
    directory.mkdir(parents=True, exist_ok=True)
    store = await AsyncStore.open(directory, key_source_for(directory), policy=retention_of(config))
    try:
        outbox = StoreOutbox(store)
        uplink = build_sync(config, outbox) if sync else None
        port: CallPort | None = KioskCallLauncher(config) if isinstance(call, _Auto) else call
        insi = (
            PlatformInsi.from_config(
                config.platform, clock=clock or SystemClock(), auth=CabinAuth.for_config(config)
            )
            if sync
            else None
        )
        services = await build_session_services(
            config,
            store=store,
            sims=sims,
            call=port,
            insi=insi,
            network=uplink.monitor if uplink is not None else None,
            clock=clock,
            start=False,
        )
    except BaseException:
        await store.close()
        raise
    assembly = Assembly(
        config,
        store,
        services,
        sims,
        uplink,
        port,
        site_of(config),
        account_service_on(store),
    )
    controller = services.controller
    if isinstance(port, KioskCallLauncher):
        port.hooks.summary = lambda: summary_of(
            controller.view.context, config, names=controller.professional_names()
        )
        if config.otoscope is not None:  # each still the doctor takes, into the store
            from app.call.exam_keeper import StillKeeper

            def not_kept(event: object) -> None:  # an incident naming the still, in its act
                task = asyncio.ensure_future(controller.exam_still_not_kept(event))
                assembly.tasks.append(task)

            port.hooks.listeners.append(
                StillKeeper(store, device=config.otoscope.kind, on_not_kept=not_kept)
            )
    _connect_call_news(assembly)
    beat = config.platform.heartbeat
    if sync and beat.enabled:
        devices = services.devices
        assembly.heartbeat = build_heartbeat(
            config,
            store,
            drivers=lambda: [devices.driver(kind) for kind in devices.kinds()],
            settings=HeartbeatSettings(interval_s=beat.interval_s, path=beat.path),
        )
    _notify_sender_after_each_session(assembly)
    heartbeat = assembly.heartbeat
    if heartbeat is not None:
        outbox.on_incident = heartbeat.incident_raised  # the uplink's incidents
    assembly.tasks.append(
        asyncio.create_task(
            store_upkeep(
                store,
                upkeep_interval_s,
                heartbeat.incident_raised if heartbeat is not None else None,
            )
        )
    )
    return assembly


def _connect_call_news(assembly: Assembly) -> None:
    """The patient's chat lines go to the call; each document's patient link comes from the platform.

    The controller owns the call's news (the chat both ways, the documents and
    their links, in its `SessionView`); this gives it the two ways out.
    """
    launcher = assembly.launcher

    async def send_text(text: str) -> None:
        session = launcher.session if launcher is not None else None
        if session is None:
            raise ConnectionError("no call under way")
        await session.send_text(text)

    template = assembly.site.document_url
    platform = assembly.config.platform
    auth = CabinAuth.for_config(assembly.config)

    async def fetch_link(session_id: str, document_id: str) -> str | None:
        if not template:
            return None
        tls = ssl_context_for(platform) if platform.url.startswith("https:") else None
        return await fetch_document_link(template, session_id, document_id, ssl=tls, auth=auth)

    assembly.controller.connect_call(
        send_text=send_text if launcher is not None else None, fetch_link=fetch_link
    )


def _notify_sender_after_each_session(assembly: Assembly) -> None:
    """A session that ends (the controller's wipe) is ready in the outbox: wake the sender."""

    def ended(session_id: str) -> None:
        assembly.sessions_ended.append(session_id)
        if assembly.sync is not None:
            assembly.sync.sender.notify()

    assembly.closers.append(assembly.controller.on_wipe(ended))
