"""Composition root: reads the configuration, builds every part, runs one qasync loop.

    assemble(config, ...) -> Assembly      # store, devices, accounts, flow, controller
    run(config_path, cabin_mode=True)      # `kiosk run --config FILE` (the cabin)
    run_demo(config_path)                  # `kiosk demo` (a window + the operator panel)

Why one loop: Qt drives asyncio through qasync, so the controller, the
drivers, the store's executor callbacks and the screens share one thread
and never race; nothing blocking runs on it (the store commits in its own
executor, the card reader in the driver's). An exception that escapes
anywhere (a Qt slot, an asyncio task) reaches `install_error_routes`, which
shows the calm error screen and writes only the exception's type to the log.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from app.controller.adapters import DriverHub, StoreSession
from app.controller.controller import SessionController
from app.domain.flow import SessionFlow
from app.domain.mode import RunMode
from app.domain.session_context import FlowSettings
from app.maintenance.service import AccountService
from app.maintenance.store_binding import StoreAccountRepository, StoreAuditSink
from app.store import AsyncStore, FileKeySource
from app.ui.presenter import Site
from app.ui.views import DeviceKind, NearbyPlaceView
from drivers.registry import SimulatorHub, build_driver
from kiosk_config import KioskConfig

log = logging.getLogger("kiosk")

_UI_DEVICES = {
    "thermometer": DeviceKind.THERMOMETER,
    "oximeter": DeviceKind.OXIMETER,
    "tensiometer": DeviceKind.TENSIOMETER,
}


@dataclass
class Assembly:
    config: KioskConfig
    store: AsyncStore
    hub: DriverHub
    sims: SimulatorHub | None
    accounts: AccountService
    controller: SessionController
    site: Site
    closers: list[Callable[[], Any]] = field(default_factory=list)

    async def close(self) -> None:
        await self.controller.close()
        await self.hub.close()
        if self.sims is not None:
            await self.sims.stop()
        await self.store.close()


def site_of(config: KioskConfig) -> Site:
    e = config.emergency
    return Site(
        languages=config.languages,
        devices=tuple(
            _UI_DEVICES[d.kind.value] for d in config.devices if d.kind.value in _UI_DEVICES
        ),
        places=tuple(
            NearbyPlaceView(p.name, p.address, p.phone, p.hours) for p in config.nearby_places
        ),
        numbers={"15": e.samu, "112": e.european, "114": e.deaf, "3114": e.suicide_prevention},
    )


def flow_settings(config: KioskConfig) -> FlowSettings:
    t = config.timeouts
    return FlowSettings(
        mode=RunMode(config.site.mode.value),
        languages=config.languages,
        default_language=config.languages[0],
        inactivity_warning_s=t.inactivity_warning_s,
        inactivity_countdown_s=t.inactivity_countdown_s,
        card_removed_grace_s=t.card_removed_grace_s,
    )


async def assemble(
    config: KioskConfig,
    *,
    data_dir: Path | None = None,
    simulate_measuring_devices: bool = False,
    call: Any = None,
    clock: Any = None,
) -> Assembly:
    """Build the kiosk's parts. In the demo the measuring devices run on the registry's simulators;
    card and QR reports are then given by the operator panel or the scripted patient."""
    directory = data_dir or config.storage.data_dir
    store = await AsyncStore.open(directory, FileKeySource(directory))
    measuring = [d for d in config.devices if d.kind.value in _UI_DEVICES]
    sims: SimulatorHub | None = None
    if simulate_measuring_devices:
        sims = SimulatorHub(measuring, fast=True, workdir=directory)
        await sims.start()
    devices = measuring if simulate_measuring_devices else list(config.devices)
    hub = DriverHub([build_driver(d, config.timeouts, hub=sims) for d in devices])
    accounts = AccountService(StoreAccountRepository(store, actor="kiosk"), StoreAuditSink(store))
    controller = SessionController(
        SessionFlow(flow_settings(config)),
        store=StoreSession(store, config.site.cabin_id),
        devices=hub,
        call=call,
        audit=StoreAuditSink(store),
        accounts=accounts,
        **({"clock": clock} if clock is not None else {}),
    )
    return Assembly(config, store, hub, sims, accounts, controller, site_of(config))


def install_error_routes(window: Any) -> None:
    """Unexpected errors from Qt slots and asyncio tasks go to the calm screen, type only in logs."""

    def excepthook(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        log.error("unexpected error (%s)", kind.__name__)
        window.show_calm_error(exc)

    def loop_handler(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        exc = context.get("exception")
        log.error("unexpected error in a task (%s)", type(exc).__name__ if exc else "no exception")
        window.show_calm_error(exc if isinstance(exc, BaseException) else None)

    sys.excepthook = excepthook
    asyncio.get_event_loop_policy()  # the loop below is qasync's
    try:
        asyncio.get_running_loop().set_exception_handler(loop_handler)
    except RuntimeError:
        pass


def _qt_app() -> Any:
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    return app


def run(config: KioskConfig, *, cabin_mode: bool = True, demo_panel: bool = False) -> int:
    """Run the kiosk until the application quits (the cabin: never, systemd restarts it)."""
    import qasync

    from app.ui.binding import ControllerBinding
    from app.ui.i18n import Catalogues
    from app.ui.main_window import KioskWindow
    from app.ui.presenter import Presenter
    from app.ui.speech import Speaker

    app = _qt_app()
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)

    async def main() -> None:
        assembly = await assemble(config, simulate_measuring_devices=demo_panel)
        speech_dir = Path(config.storage.data_dir) / "speech"
        window = KioskWindow(
            Catalogues(), cabin_mode=cabin_mode, speaker=Speaker(speech_dir, lambda i: None)
        )
        if window.speaker is not None:
            window.speaker.on_incident = window.incidents.emit
        install_error_routes(window)
        presenter = Presenter(assembly.site, assembly.controller.now)
        ControllerBinding(assembly.controller, window, presenter)
        await assembly.controller.start()
        if cabin_mode:
            window.show_kiosk()
        else:
            window.resize(1280, 720)
            window.show()
        panel = None
        if demo_panel:
            from app.ui.operator_panel import OperatorPanel

            panel = OperatorPanel(assembly)
            panel.show()
        closed = asyncio.Event()
        app.aboutToQuit.connect(closed.set)
        await closed.wait()
        if panel is not None:
            panel.close()
        await assembly.close()

    with loop:
        loop.run_until_complete(main())
    return 0
