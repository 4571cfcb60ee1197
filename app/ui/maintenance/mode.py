"""The technician's touches carried to the maintenance service, and its answers to the screen.

Why here and not in the window: the window only opens and closes the mode;
this object keeps the one maintenance session, runs each call as a task on
the qasync loop (the screen never waits), and closes the mode on leaving,
on an ended session (2 minutes without a touch: `tick`, once a second) or
when the sign-in page itself is left untouched that long. It holds what a
page showed only as long as the page is shown: `close()` clears the screen.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from dataclasses import replace
from pathlib import Path

from app.maintenance.errors import (
    AuthError,
    MaintenanceError,
    MaintenanceErrorReason,
    MaintenanceRefused,
    PermissionDenied,
)
from app.maintenance.pairing import BondRefused
from app.maintenance.technician import IDLE_LIMIT, MaintenanceService, MaintenanceSession
from app.ui.maintenance.pages import (
    ConfigPage,
    DevicesPage,
    FoldersPage,
    HomePage,
    LinesPage,
    LoginPage,
    MediaPage,
    Page,
    PrinterPage,
    RestartPage,
    Said,
    ScanPage,
)
from app.ui.maintenance.screen import MaintenanceScreen
from vocabulary.devices import DeviceKind

log = logging.getLogger(__name__)


class MaintenanceMode:
    def __init__(
        self,
        service: MaintenanceService,
        screen: MaintenanceScreen,
        *,
        show: Callable[[Page], None],
        close: Callable[[], None],
    ) -> None:
        self.service = service
        self.screen = screen
        self._show = show
        self._close = close
        self.session: MaintenanceSession | None = None
        self.page: Page | None = None
        self.is_open = False
        self._opened_touch = service.now()
        self._tasks: set[asyncio.Task[None]] = set()
        self._media_stopper: asyncio.Event | None = None  # set: the running preview/meter ends
        self._scan: ScanPage | None = None
        self._kinds: dict[str, DeviceKind] = {}  # scanned address -> the kind it advertises
        a = screen.calls
        a.submit = lambda u, p, c: self._spawn(self._sign_in(u, p, c))
        a.cancel = self.close
        a.home = lambda: self._spawn(self._home())
        a.devices = lambda: self._spawn(self._devices())
        a.test = lambda d: self._spawn(self._test(d))
        a.scan = lambda: self._spawn(self._do_scan())
        a.choose = self._choose
        a.pair = self._pair_asked
        a.bond = lambda d, k: self._spawn(self._pair(d, k))
        a.outbox = lambda: self._spawn(self._outbox())
        a.store = lambda: self._spawn(self._store())
        a.config = lambda: self._spawn(self._config())
        a.about = lambda: self._spawn(self._about())
        a.export = lambda: self._spawn(self._export())
        a.upload = lambda: self._spawn(self._upload())
        a.network = lambda: self._spawn(self._network())
        a.ports = lambda: self._spawn(self._ports())
        a.readers = lambda: self._spawn(self._readers())
        a.printer = lambda: self._spawn(self._printer())
        a.printer_test = lambda: self._spawn(self._printer_test())
        a.media = lambda: self._render(MediaPage())
        a.media_test = lambda w: self._spawn(self._media_test(w))
        a.media_stop = self._media_stop
        a.reload = lambda: self._spawn(self._reload())
        a.restart = lambda: self._render(RestartPage())
        a.restart_now = lambda: self._spawn(self._restart())
        a.export_to = lambda f: self._spawn(self._export_to(Path(f)))
        a.resend = lambda i: self._spawn(self._resend(i))
        a.leave = lambda: self._spawn(self._leave())

    # -- opening, closing, idling ---------------------------------------------------

    def open(self) -> None:
        self.is_open = True
        self.session = None
        self._opened_touch = self.service.now()
        self._render(LoginPage())

    def close(self) -> None:
        """Back to welcome; whatever the pages showed is dropped with the widgets."""
        self.is_open = False
        self.session = None
        self.page = None
        self._scan = None
        self._media_stop()
        self.screen.clear()
        self._close()

    def touched(self) -> None:
        if not self.is_open:
            return
        if self.session is not None:
            self.service.touch(self.session)
        else:
            self._opened_touch = self.service.now()

    def tick(self) -> None:
        """Once a second while open: 2 minutes without a touch end it."""
        if not self.is_open:
            return
        if self.session is not None:
            if self.service.expired(self.session):
                self._spawn(self._leave(idle=True))
        elif self.service.now() - self._opened_touch >= IDLE_LIMIT:
            self.close()

    async def idle(self) -> None:
        """Wait for every call under way (tests)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    # -- the calls ------------------------------------------------------------------

    def _spawn(self, coro: Coroutine[object, object, None]) -> None:
        task = asyncio.ensure_future(self._guard(coro))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _guard(self, coro: Coroutine[object, object, None]) -> None:
        try:
            await coro
        except MaintenanceRefused as exc:
            if exc.reason is MaintenanceErrorReason.SESSION_ENDED:
                self.close()
            else:
                self._render(LinesPage("maint.error", (Said("maint.refused"),), (str(exc.reason),)))
        except MaintenanceError as exc:
            log.warning("maintenance: refused (%s)", type(exc).__name__)
            self._render(LinesPage("maint.error", (Said("maint.refused"),)))
        except Exception as exc:  # noqa: BLE001 - a screen state, never a stack trace
            log.error("maintenance: unexpected error (%s)", type(exc).__name__)
            self._render(LinesPage("maint.error", (Said("maint.failed"),)))

    def _render(self, page: Page) -> None:
        if not self.is_open:
            return
        self.page = page
        self._show(page)

    def _session(self) -> MaintenanceSession:
        if self.session is None:
            raise MaintenanceRefused(MaintenanceErrorReason.SESSION_ENDED, "Not signed in.")
        return self.session

    async def _sign_in(self, username: str, password: str, code: str) -> None:
        try:
            self.session = await self.service.enter(username, password, code)
        except (AuthError, PermissionDenied):
            self._render(LoginPage(failed=True))
            return
        await self._home()

    async def _home(self) -> None:
        session = self._session()
        self._render(HomePage(session.professional.display_name))

    async def _devices(self) -> None:
        self._render(DevicesPage(await self.service.devices(self._session())))

    async def _test(self, device_id: str) -> None:
        session = self._session()
        entries = await self.service.devices(session)
        result = await self.service.test_device(session, device_id)
        self._render(DevicesPage(entries, result))

    async def _do_scan(self) -> None:
        session = self._session()
        self._render(LinesPage("maint.scan", (Said("maint.scan.running"),)))
        result = await self.service.scan(session)
        found = tuple((d.address, f"{d.name or '-'} · {d.kind}") for d in result.devices)
        self._kinds = {d.address: d.kind for d in result.devices}
        self._scan = ScanPage(found, ())
        self._render(self._scan)

    def _choose(self, address: str) -> None:
        if self._scan is None:
            return
        targets = self.service.ble_targets(self._kinds.get(address))
        self._scan = ScanPage(self._scan.found, targets, address)
        self._render(self._scan)

    def _pair_asked(self, device_id: str) -> None:
        """A device that bonds with a passkey asks for it first; any other is paired now."""
        if self._scan is None or self._scan.chosen is None:
            return
        if self.service.ble_bonding(device_id) == "passkey":
            self._scan = replace(self._scan, passkey_for=device_id, done=None)
            self._render(self._scan)
            return
        self._spawn(self._pair(device_id, None))

    async def _pair(self, device_id: str, passkey: str | None) -> None:
        session = self._session()
        if self._scan is None or self._scan.chosen is None:
            return
        address = self._scan.chosen
        bonds = self.service.ble_bonding(device_id) != "none"
        if bonds:
            self._render(replace(self._scan, bonding=True, done=Said("maint.bond.running")))
        try:
            await self.service.pair(session, device_id, address, passkey)
        except BondRefused as exc:
            # the same page again, the passkey field empty: the technician may try again
            self._scan = replace(self._scan, bonding=False, done=Said(f"maint.bond.{exc.failure}"))
            self._render(self._scan)
            return
        done = "maint.bond.done" if bonds else "maint.pair.done"
        self._scan = ScanPage(
            self._scan.found,
            self._scan.targets,
            None,
            Said(done, (("device", device_id), ("address", address))),
        )
        self._render(self._scan)

    async def _outbox(self) -> None:
        o = await self.service.outbox(self._session())
        said = [
            Said("maint.outbox.unsent", (("count", o.unsent),)),
            Said("maint.outbox.quarantined", (("count", o.quarantined),)),
        ]
        if o.oldest_unsent_age_s is not None:
            said.append(Said("maint.outbox.oldest", (("seconds", o.oldest_unsent_age_s),)))
        lines = [f"⚠ {code}" for code in o.incidents]  # codes are data, not words
        lines += [
            f"#{q.item_id} · {q.reason_code} · {q.attempts} · {q.age_s} s" for q in o.quarantine
        ]
        resend = tuple(q.item_id for q in o.quarantine)
        self._render(LinesPage("maint.outbox", tuple(said), tuple(lines), resend))

    async def _resend(self, item_id: int) -> None:
        await self.service.resend(self._session(), item_id)
        await self._outbox()

    async def _network(self) -> None:
        self._render(LinesPage("maint.network", (Said("maint.network.running"),)))
        report = await self.service.network(self._session())
        said = Said("maint.network.ok" if report.ok else "maint.network.failed")
        lines = [
            f"{'✓' if s.ok else '✗'} {s.name} · {s.ms if s.ms is not None else '-'} ms · {s.detail}"
            for s in report.steps
        ]
        self._render(LinesPage("maint.network", (said,), (report.host, *lines)))

    async def _ports(self) -> None:
        report = await self.service.serial_ports(self._session())
        said = [Said("maint.ports.found", (("count", len(report.ports)),))]
        for c in report.configured:
            msgid = "maint.ports.configured_ok" if c.found else "maint.ports.configured_missing"
            said.append(Said(msgid, (("device", c.device_id), ("port", c.port))))
        if not report.configured:
            said.append(Said("maint.ports.none_configured"))
        lines: list[str] = []
        for port in report.ports:  # paths, ids and the adapter's own name: data, not words
            used = f" · ← {', '.join(port.used_by)}" if port.used_by else ""
            lines.append(f"{port.device} · {port.usb_id or '-'} · {port.description}{used}")
            lines += [f"  ↳ {link}" for link in port.links]
        self._render(LinesPage("maint.ports", tuple(said), tuple(lines)))

    async def _readers(self) -> None:
        report = await self.service.card_readers(self._session())
        said = [Said("maint.readers.privacy")]
        if report.service != "running":
            said.append(Said("maint.readers.no_service"))
        said.append(Said("maint.readers.found", (("count", len(report.readers)),)))
        for r in report.readers:
            msgid = "maint.readers.card_in" if r.card_present else "maint.readers.card_out"
            said.append(Said(msgid, (("reader", r.name),)))
        for c in report.configured:
            if c.reader is not None:
                said.append(
                    Said(
                        "maint.readers.configured_ok",
                        (("device", c.device_id), ("reader", c.reader)),
                    )
                )
            else:
                said.append(
                    Said(
                        "maint.readers.configured_missing",
                        (("device", c.device_id), ("wanted", c.wanted or "-")),
                    )
                )
        # codes and names are data; the service's state in words is the sentence above
        lines = [] if report.service == "running" else [f"pcscd · {report.service}"]
        lines += [
            f"{r.name}{' · ← ' + ', '.join(r.used_by) if r.used_by else ''}" for r in report.readers
        ]
        self._render(LinesPage("maint.readers", tuple(said), tuple(lines)))

    async def _printer(self, *, done: Said | None = None) -> None:
        check = await self.service.printer(self._session())
        if check is None:
            self._render(PrinterPage((Said("maint.printer.none"),)))
            return
        queue = self.service.config.printer.queue if self.service.config.printer else "-"
        said = [
            Said("maint.printer.ready", (("queue", queue),))
            if check.ready
            else Said(
                "maint.printer.not_ready",
                (("queue", queue), ("code", str(check.queue_problem or "-"))),
            ),
            Said("maint.printer.retention_off" if check.retention_off else "maint.printer.keeps"),
        ]
        if done is not None:
            said.append(done)
        # check.problems are English sentences for logs and the CLI; the screen says it in words
        self._render(PrinterPage(tuple(said), can_print=True))

    async def _printer_test(self) -> None:
        result = await self.service.print_test_page(self._session())
        done = (
            Said("maint.printer.test_printed")
            if result.printed
            else Said("maint.printer.test_failed", (("code", result.problem or "-"),))
        )
        await self._printer(done=done)

    def _media_stop(self) -> None:
        if self._media_stopper is not None:
            self._media_stopper.set()

    async def _media_test(self, which: str) -> None:
        session = self._session()
        self._media_stop()
        stop = self._media_stopper = asyncio.Event()
        self._render(MediaPage(running=which))
        service = self.service
        if which == "camera":
            result = await service.camera_preview(session, self.screen.set_preview, stop=stop)
            code = result.failure or "-"
            said = (
                Said("maint.media.camera_ok", (("fps", round(result.fps or 0)),))
                if result.ok
                else Said("maint.media.camera_failed", (("code", code),))
            )
        elif which == "microphone":
            result = await service.microphone_test(session, self.screen.set_level, stop=stop)
            code = result.failure or "-"
            said = (
                Said("maint.media.mic_ok", (("peak", round(result.peak_dbfs or 0)),))
                if result.ok
                else Said("maint.media.mic_failed", (("code", code),))
            )
        else:
            result = await service.speaker_test(session)
            said = (
                Said("maint.media.speaker_ok")
                if result.ok
                else Said("maint.media.speaker_failed", (("code", result.failure or "-"),))
            )
        if self._media_stopper is stop:
            self._media_stopper = None
        self._render(MediaPage(said=(said,)))

    async def _store(self) -> None:
        check = await self.service.verify_store(self._session())
        said = Said("maint.store.ok" if check.ok else "maint.store.broken")
        self._render(LinesPage("maint.store", (said,), check.lines))

    async def _config(self, said: tuple[Said, ...] = ()) -> None:
        lines = await self.service.configuration(self._session())
        self._render(ConfigPage(said, tuple(f"{k} = {v}" for k, v in lines)))

    async def _reload(self) -> None:
        try:
            result = await self.service.reload_config(self._session())
        except MaintenanceRefused as exc:
            if exc.reason is not MaintenanceErrorReason.CONFIG_RELOAD_REFUSED:
                raise
            await self._config((Said("maint.config.reload_refused"),))
            return
        said = (
            Said("maint.config.reloaded", (("count", len(result.changed)),)),
            Said("maint.config.next_start"),
        )
        changed = tuple(f"± {key}" for key in result.changed)  # names only, no value
        lines = await self.service.configuration(self._session())
        self._render(ConfigPage(said, changed + tuple(f"{k} = {v}" for k, v in lines)))

    async def _restart(self) -> None:
        await self.service.restart(self._session())  # audited, the session left, then the exit
        self.close()

    async def _about(self) -> None:
        session = self._session()
        found = await self.service.versions(session)
        clock = await self.service.clock(session)
        sync = (
            "maint.clock.unknown"
            if clock.synchronized is None
            else "maint.clock.synced"
            if clock.synchronized
            else "maint.clock.not_synced"
        )
        said = (
            Said("maint.clock.now", (("time", clock.utc.strftime("%Y-%m-%d %H:%M:%S UTC")),)),
            Said(sync),
        )
        self._render(LinesPage("maint.about", said, tuple(f"{n} {v}" for n, v in found)))

    async def _export(self) -> None:
        self._session()
        folders = self.service.export_folders()
        if not folders:
            self._render(LinesPage("maint.export", (Said("maint.export.no_folder"),)))
        elif len(folders) == 1:
            await self._export_to(folders[0])
        else:
            self._render(FoldersPage(tuple(str(f) for f in folders)))

    async def _export_to(self, folder: Path) -> None:
        name = (await self.service.export(self._session(), folder)).name
        self._render(LinesPage("maint.export", (Said("maint.export.done", (("name", name),)),)))

    async def _upload(self) -> None:
        """The same bundle, to the platform; the stick stays the way when this fails."""
        session = self._session()
        self._render(LinesPage("maint.upload", (Said("maint.upload.sending"),)))
        try:
            receipt = await self.service.upload(session)
        except MaintenanceRefused as exc:
            if exc.reason is MaintenanceErrorReason.SESSION_ENDED:
                raise
            failed = (Said("maint.upload.failed"),)
            self._render(LinesPage("maint.upload", failed, (str(exc.reason),)))
            return
        done = Said("maint.upload.done", (("id", receipt.bundle_id),))
        self._render(LinesPage("maint.upload", (done,)))

    async def _leave(self, *, idle: bool = False) -> None:
        session = self.session
        if session is not None:
            await self.service.leave(session, idle=idle)
        self.close()
