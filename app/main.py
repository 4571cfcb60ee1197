"""Composition root: reads the configuration, builds every part, runs one qasync loop.

    assembly = await assemble(config, sims=hub)   # store, devices, sync, call, controller
    run(config, cabin_mode=True)                   # `kiosk run --config FILE` (the cabin)
    run(config, cabin_mode=False, world=demo)      # `kiosk demo` (a window + operator panel)

Why one loop: Qt drives asyncio through qasync, so the controller, the
drivers, the store's executor callbacks, the uplink, the call and the
screens share one thread and never race; nothing blocking runs on it (the
store commits in its own executor, the card reader in the driver's, video
decoding in aiortc's). An exception that escapes anywhere (a Qt slot, an
asyncio task) reaches `install_error_routes`, which shows the calm error
screen and writes only the exception's type to the log.

`assemble` has no Qt: tests build the whole kiosk with it. The Qt half
(`bind_window`) connects the call's pictures, chat and controls to the
window and is shared by `run` and the headless demo.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from app.call import events as call_events
from app.controller.call_launcher import KioskCallLauncher, summary_of
from app.controller.controller import SessionController
from app.controller.document_links import LINK_PATH, fetch_document_link
from app.controller.ports import CallPort
from app.controller.wiring import LeftOut, SessionServices, build_session_services
from app.controller.wiring import flow_settings as flow_settings  # re-exported for callers
from app.domain.trace import IncidentCode
from app.maintenance.service import AccountService
from app.maintenance.store_binding import account_service_on, key_source_for
from app.sdnotify import Notifier
from app.store import AsyncStore, RetentionPolicy
from app.sync.clock import SystemClock
from app.sync.insi_client import PlatformInsi
from app.sync.service import SyncService, build_sync
from app.sync.store_adapter import StoreOutbox
from app.sync.transport import ssl_context_for
from app.ui.presenter import Site
from app.ui.views import DeviceKind, IntentKind, NearbyPlaceView, SiteContact
from drivers.registry import SimulatorHub
from kiosk_config import KioskConfig

log = logging.getLogger("kiosk")

STORE_UPKEEP_S = 600.0  # purge + thresholds every 10 minutes (and at start)
REMOTE_FPS = 15.0  # the doctor's picture on screen: enough for a face, light on two cores
SELF_FPS = 10.0

_UI_DEVICES = {
    "thermometer": DeviceKind.THERMOMETER,
    "oximeter": DeviceKind.OXIMETER,
    "tensiometer": DeviceKind.TENSIOMETER,
}

AUTO: Any = object()  # `call=AUTO`: the real call from the configuration


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
    tasks: list[asyncio.Task[Any]] = field(default_factory=list)
    sessions_ended: list[str] = field(default_factory=list)
    closers: list[Callable[[], Any]] = field(default_factory=list)
    _closed: bool = False

    @property
    def controller(self) -> SessionController:
        return self.services.controller

    @property
    def hub(self) -> Any:
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
            _UI_DEVICES[d.kind.value] for d in config.devices if d.kind.value in _UI_DEVICES
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


async def store_upkeep(store: AsyncStore, interval_s: float = STORE_UPKEEP_S) -> None:
    """Purge what the platform acknowledged past retention, then check the buffer thresholds.

    At start and every `interval_s`. A failure is logged and tried again next
    time: upkeep must never stop the kiosk.
    """
    while True:
        try:
            report = await store.purge()
            health = await store.check_thresholds()
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
    call: Any = AUTO,
    sync: bool = True,
    clock: Any = None,
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
        uplink = build_sync(config, StoreOutbox(store)) if sync else None
        port: CallPort | None = KioskCallLauncher(config) if call is AUTO else call
        insi = (
            PlatformInsi.from_config(config.platform, clock=clock or SystemClock())
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
    _notify_sender_after_each_session(assembly)
    assembly.tasks.append(asyncio.create_task(store_upkeep(store, upkeep_interval_s)))
    return assembly


def _notify_sender_after_each_session(assembly: Assembly) -> None:
    """A session that ends (its id goes away) is ready in the outbox: wake the sender."""
    current: list[str | None] = [None]

    def on_view(view: Any) -> None:
        session = view.context.session_id
        previous, current[0] = current[0], session
        if previous is not None and session != previous:
            assembly.sessions_ended.append(previous)
            if assembly.sync is not None:
                assembly.sync.sender.notify()

    assembly.closers.append(assembly.controller.subscribe(on_view))


# ---- Qt ------------------------------------------------------------------------------------

_QUIET_QT_MESSAGES = ("This plugin does not support propagateSizeHints()",)


def install_qt_message_filter() -> None:
    """Keep the offscreen plugin's propagateSizeHints() notice off stderr; pass the rest on."""
    from PySide6.QtCore import QtMsgType, qInstallMessageHandler

    def handler(kind: QtMsgType, context: Any, message: str) -> None:
        if any(quiet in message for quiet in _QUIET_QT_MESSAGES):
            return
        if previous is not None:
            previous(kind, context, message)
        else:
            sys.stderr.write(message + "\n")

    previous = qInstallMessageHandler(handler)


def install_error_routes(window: Any) -> None:
    """Unexpected errors from Qt slots and asyncio tasks go to the calm screen, type only in logs."""

    def excepthook(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        log.error("unexpected error (%s)", kind.__name__)
        window.show_calm_error(exc)

    def loop_handler(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        exc = context.get("exception")
        if not isinstance(exc, BaseException):
            # asyncio's own notices ("Unclosed client session", a slow callback...): a
            # note for the technician, nothing the patient has to see.
            log.warning(
                "asyncio notice without an exception (%d characters)",
                len(str(context.get("message", ""))),
            )
            return
        log.error("unexpected error in a task (%s)", type(exc).__name__)
        window.show_calm_error(exc)

    sys.excepthook = excepthook
    with contextlib.suppress(RuntimeError):
        asyncio.get_running_loop().set_exception_handler(loop_handler)


def _qimage(array: Any, bgr: bool) -> Any:
    from PySide6.QtGui import QImage

    height, width = array.shape[:2]
    fmt = QImage.Format.Format_BGR888 if bgr else QImage.Format.Format_RGB888
    return QImage(array.data, width, height, array.strides[0], fmt).copy()


@dataclass
class CallScreenLink:
    """What reached the screen from the call (the headless demo and the tests read it)."""

    remote_frames: int = 0
    self_frames: int = 0
    chat_from_doctor: list[str] = field(default_factory=list)
    documents: list[tuple[str, str]] = field(default_factory=list)  # (kind, title)
    document_links: dict[str, str] = field(default_factory=dict)  # id -> the patient's link
    doctor_before_video: bool | None = None
    tasks: set[asyncio.Task[Any]] = field(default_factory=set)  # UI incidents being recorded
    _last_remote: float = 0.0
    _last_self: float = 0.0

    def forget(self) -> None:
        """The session is over: nothing of its call stays here (chat, titles, working links)."""
        self.chat_from_doctor.clear()
        self.documents.clear()
        self.document_links.clear()
        self.doctor_before_video = None
        self.remote_frames = 0
        self.self_frames = 0


def bind_window(assembly: Assembly, window: Any, presenter: Any) -> tuple[Any, CallScreenLink]:
    """The window, the presenter and the controller bound; the call's media and chat shown."""
    from app.ui.binding import ControllerBinding

    link = CallScreenLink()
    launcher = assembly.launcher
    tasks: set[asyncio.Task[Any]] = set()

    def controls(intent: Any) -> None:
        session = launcher.session if launcher is not None else None
        if session is None:
            return
        if intent.kind is IntentKind.MUTE:
            session.set_muted(intent.value == "on")
        elif intent.kind is IntentKind.CAMERA:
            session.set_camera_off(intent.value == "off")
        elif intent.kind is IntentKind.SEND_TEXT and intent.value:
            task = asyncio.ensure_future(send_text(session, intent.value))
            tasks.add(task)
            task.add_done_callback(tasks.discard)

    async def send_text(session: Any, text: str) -> None:
        """A chat line that cannot leave must not cover the running call with the calm screen."""
        try:
            await session.send_text(text)
        except Exception as exc:
            log.warning("chat text not sent (%s, %d characters)", type(exc).__name__, len(text))
            await assembly.controller.record_incident(IncidentCode.CHAT_SEND_FAILED, "chat")

    def record_incident(incident: Any) -> None:
        """A UI incident (ui-error, speech-failed, audio-failed) joins the act's trace."""
        task = asyncio.ensure_future(assembly.controller.record_incident(incident.code))
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    binding = ControllerBinding(
        assembly.controller,
        window,
        presenter,
        call_controls=controls,
        on_incident=record_incident,
    )
    link.tasks = tasks
    binding.on_wipe.append(link.forget)
    if launcher is None:
        return binding, link

    def remote(rgb: Any) -> None:
        now = time.monotonic()
        if now - link._last_remote < 1 / REMOTE_FPS:
            return
        link._last_remote = now
        if link.doctor_before_video is None:
            link.doctor_before_video = assembly.controller.view.doctor is not None
        window.set_remote_frame(_qimage(rgb, bgr=False))
        video = getattr(window.current_screen, "video", None)
        if video is not None and video.isVisible():
            link.remote_frames += 1

    def local(bgr: Any) -> None:
        now = time.monotonic()
        if now - link._last_self < 1 / SELF_FPS:
            return
        link._last_self = now
        link.self_frames += 1
        window.set_self_frame(_qimage(bgr, bgr=True))

    def on_event(event: Any) -> None:
        if isinstance(event, call_events.TextReceived) and event.sender == "doctor":
            link.chat_from_doctor.append(event.text)
            presenter.chat(True, event.text)
            binding.refresh()
        elif isinstance(event, call_events.DocumentReceived):
            document = event.document
            link.documents.append((document.kind.value, document.title))
            presenter.document(document.document_id, document.kind.value, document.title)
            binding.refresh()
            session_id = assembly.controller.view.context.session_id
            if assembly.site.document_url and session_id:
                task = asyncio.ensure_future(
                    document_link(assembly.site.document_url, session_id, document.document_id)
                )
                tasks.add(task)
                task.add_done_callback(tasks.discard)

    async def document_link(template: str, session_id: str, document_id: str) -> None:
        """The platform's patient link for the document becomes its QR code on the end screen."""
        platform = assembly.config.platform
        tls = ssl_context_for(platform) if platform.url.startswith("https:") else None
        url = await fetch_document_link(template, session_id, document_id, ssl=tls)
        if url is not None and assembly.controller.view.context.session_id == session_id:
            link.document_links[document_id] = url
            presenter.document_link(document_id, url)
            binding.refresh()

    launcher.hooks.on_remote_video = remote
    launcher.hooks.on_local_video = local
    launcher.hooks.on_mic_level = window.set_mic_level
    launcher.hooks.listeners.append(on_event)
    return binding, link


def _close_on_signals(closed: asyncio.Event) -> None:
    """SIGTERM (systemd stopping the cabin) and Ctrl+C (the demo) close everything in order.

    Python runs signal handlers between bytecodes; the loop's own callbacks
    (ticker, pumps) give it that chance at least every second under Qt. The
    handler only sets `closed`: quitting Qt's loop here would stop the asyncio
    loop before the parts are closed.
    """
    import signal

    loop = asyncio.get_running_loop()

    def quit_soon(signum: int, frame: Any) -> None:
        loop.call_soon_threadsafe(closed.set)

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, quit_soon)


def _qt_app() -> Any:
    from PySide6.QtWidgets import QApplication

    install_qt_message_filter()
    return QApplication.instance() or QApplication(sys.argv[:1])


def run(config: KioskConfig, *, cabin_mode: bool = True, world: Any = None) -> int:
    """Run the kiosk until the application quits (the cabin: never, systemd restarts it).

    `world` (the demo): an async context manager yielding an object with
    `config` (the site as the demo runs it), `sims` and what the operator
    panel drives; see app/cli/demo_world.py.
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

    async def kiosk(site: KioskConfig, sims: SimulatorHub | None, demo: Any) -> None:
        assembly = await assemble(site, sims=sims)
        speech_dir = speech_directory()  # tmpfs when available, 0700; emptied at every wipe
        window = KioskWindow(
            Catalogues(), cabin_mode=cabin_mode, speaker=Speaker(speech_dir, lambda i: None)
        )
        if window.speaker is not None:
            window.speaker.on_incident = window.incidents.emit
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
        panel = None
        if demo is not None:
            from app.ui.operator_panel import OperatorPanel

            panel = OperatorPanel(assembly, demo)
            panel.show()
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
