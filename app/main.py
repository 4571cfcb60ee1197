"""The entry point: one qasync loop, the window on the assembled kiosk, until quit.

    run(config, cabin_mode=True)                   # `kiosk run --config FILE` (the cabin)
    run(config, cabin_mode=False, world=demo)      # `kiosk demo` (a window + operator panel)

Why one loop: Qt drives asyncio through qasync, so the controller, the
drivers, the store's executor callbacks, the uplink, the call and the
screens share one thread and never race; nothing blocking runs on it (the
store commits in its own executor, the card reader in the driver's, video
decoding in aiortc's). An exception that escapes anywhere (a Qt slot, an
asyncio task) reaches `install_error_routes` (app/ui/error_routes.py), which
shows the calm error screen and writes only the exception's type to the log.

The parts are built without Qt by app/assembly.py; the call reaches the
window through app/ui/call_bridge.py. This module only puts them together
and runs them; it imports nothing of the demo (the demo passes its world in).
"""

from __future__ import annotations

import asyncio
import shutil
import sys
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Protocol

from app.assembly import Assembly, assemble
from app.sdnotify import Notifier
from app.ui.call_bridge import bind_window
from app.ui.error_routes import install_error_routes, install_qt_message_filter
from drivers.simulators import SimulatorHub
from kiosk_config import KioskConfig

if TYPE_CHECKING:
    from PySide6.QtWidgets import QApplication

    from app.maintenance.technician import MaintenanceService
    from app.ui.main_window import KioskWindow


class Closeable(Protocol):
    def close(self) -> bool: ...


class DemoWorld(Protocol):
    """What `kiosk demo` passes in (kiosk_demo/world.py): the site as the demo runs it,
    its simulators, and the operator's window beside the kiosk's."""

    @property
    def config(self) -> KioskConfig: ...

    @property
    def sims(self) -> SimulatorHub: ...

    def open_panel(self, assembly: Assembly, window: KioskWindow) -> Closeable | None: ...


def _close_on_signals(closed: asyncio.Event) -> None:
    """SIGTERM (systemd stopping the cabin) and Ctrl+C (the demo) close everything in order.

    Python runs signal handlers between bytecodes; the loop's own callbacks
    (ticker, pumps) give it that chance at least every second under Qt. The
    handler only sets `closed`: quitting Qt's loop here would stop the asyncio
    loop before the parts are closed.
    """
    import signal

    loop = asyncio.get_running_loop()

    def quit_soon(signum: int, frame: FrameType | None) -> None:
        loop.call_soon_threadsafe(closed.set)

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, quit_soon)


def _qt_app() -> QApplication:
    from PySide6.QtWidgets import QApplication

    install_qt_message_filter()
    running = QApplication.instance()
    return running if isinstance(running, QApplication) else QApplication(sys.argv[:1])


def run(
    config: KioskConfig,
    *,
    cabin_mode: bool = True,
    world: AbstractAsyncContextManager[DemoWorld] | None = None,
    config_path: Path | None = None,
) -> int:
    """Run the kiosk until the application quits (the cabin: never, systemd restarts it).

    `world` (the demo): an async context manager yielding an object with
    `config` (the site as the demo runs it), `sims`, and `open_panel(assembly)`
    returning the operator's window (something with `close()`), or None;
    see kiosk_demo/world.py. `config_path`: the site file `kiosk run --config` read (the
    technician's configuration reload reads it again; docs/maintenance.md).
    """
    import qasync

    from app.ui.i18n import Catalogues
    from app.ui.main_window import KioskWindow
    from app.ui.presenter import Presenter
    from app.ui.speech import Speaker, speech_directory

    app = _qt_app()
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    notifier = Notifier()

    async def kiosk(site: KioskConfig, sims: SimulatorHub | None, demo: DemoWorld | None) -> None:
        assembly = await assemble(site, sims=sims)
        speech_dir = speech_directory()  # tmpfs when available, 0700; emptied at every wipe
        window = KioskWindow(
            Catalogues(), cabin_mode=cabin_mode, speaker=Speaker(speech_dir, lambda i: None)
        )
        if window.speaker is not None:
            window.speaker.on_incident = window.incidents.emit

        def technicians_mode() -> MaintenanceService:
            from app.maintenance.wiring import build_maintenance

            return build_maintenance(
                assembly.accounts,
                assembly.store,
                assembly.config,
                sims=assembly.sims,
                config_path=config_path,
            )

        # Five taps in the welcome corner open it from READY on; it is built after READY.
        window.attach_maintenance_on_first_use(technicians_mode)
        # Preparation between patients and the help call (issue 15; docs/onsite.md): the
        # controller refuses a start while the gate says "being prepared", tells it every
        # start and end, runs the Help page's call and traces it (HELP_* entries).
        import logging

        from app.maintenance.onsite import OnSiteService, PreparationGate
        from app.sync.help_call import HelpCallClient
        from app.sync.transport import LazySession

        help_http = LazySession()  # aiohttp made at the first call, after READY
        help_log = logging.getLogger("app.onsite")

        def help_logged(action: str, call_id: str, detail: str) -> None:
            help_log.info("%s %s %s", action, call_id, detail)  # ids and words, no patient datum

        help_calls = HelpCallClient.for_config(assembly.config, help_http, help_logged)
        gate = PreparationGate(
            OnSiteService(assembly.accounts),
            assembly.config.site.cabin_id,
            required=assembly.config.site.needs_preparation(),
            tell_platform=help_calls.preparation_confirmed,
        )
        assembly.controller.attach_preparation(
            gate, help_calls, silence_after_s=assembly.config.site.help_after_silence_s
        )
        window.attach_preparation(gate)
        install_error_routes(window)
        presenter = Presenter(assembly.site, assembly.controller.now)
        binding, link = bind_window(assembly, window, presenter)
        await assembly.start()
        if cabin_mode:
            window.show_kiosk()
        else:
            window.resize(1280, 720)
            window.show()
        notifier.ready("welcome screen shown")
        assembly.tasks.append(asyncio.create_task(notifier.run_watchdog()))
        # After READY (issue 14, cold start; docs/runtime.md): what the welcome screen does
        # not need. The technician's mode (its way in was live before READY) is built now,
        # the other screens one per turn of the loop, the other languages' catalogues parsed.
        window.maintenance  # noqa: B018 - built on first read
        window.build_remaining_screens()
        window.catalogues.load_all()
        panel = demo.open_panel(assembly, window) if demo is not None else None
        # test probe (KIOSK_PROBE, off by default; app/ui/probe.py, docs/runtime.md)
        from app.ui import probe

        assembly.closers.append(
            probe.attach(window, assembly=assembly, binding=binding, link=link, demo=demo)
        )
        closed = asyncio.Event()
        app.aboutToQuit.connect(closed.set)
        _close_on_signals(closed)
        try:
            await closed.wait()
        finally:
            if panel is not None:
                panel.close()
            binding.close()
            await assembly.close()
            await help_http.close()
            shutil.rmtree(speech_dir, ignore_errors=True)

    async def main() -> None:
        if world is None:
            await kiosk(config, None, None)
            return
        async with world as demo:
            await kiosk(demo.config, demo.sims, demo)

    with loop:
        loop.run_until_complete(main())
    return 0
