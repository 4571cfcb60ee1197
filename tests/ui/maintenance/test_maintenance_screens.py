"""The technician's way in and through maintenance on the real window, offscreen.

Real parts under the screen: the SQLCipher store with canary patients, the
accounts (argon2id + TOTP), the registry's drivers on the simulators.
"""

from __future__ import annotations

import logging
import os
import tarfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from aiohttp import web
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication, QLineEdit, QWidget
from pytestqt.qtbot import QtBot
from serial.tools.list_ports_common import ListPortInfo

from app.maintenance.diagnostics import PlatformBundleUploader
from app.maintenance.readers import CardReaderReport, ReaderState
from app.maintenance.roles import Role
from app.maintenance.technician import IDLE_LIMIT
from app.store import AsyncStore, FileKeySource
from app.ui.main_window import KioskWindow
from app.ui.maintenance.mode import MaintenanceMode
from app.ui.maintenance.pages import (
    ConfigPage,
    DevicesPage,
    FoldersPage,
    HomePage,
    LinesPage,
    LoginPage,
    MediaPage,
    PrinterPage,
    RestartPage,
    Said,
    ScanPage,
)
from app.ui.views import Presentation, ScreenId
from app.ui.widgets.buttons import BigButton
from devtools.platform.diagnostics import add_diagnostics_routes
from devtools.platform.testing import running_platform
from drivers.ble.sim_air import SimulatedPeripheral
from drivers.ble.sim_devices import SimulatedThermometer
from drivers.registry import simulated_ble_address
from drivers.simulators import SimulatorHub
from kiosk_config import KioskConfig
from tests.maintenance.conftest import GOOD_PASSWORD, FakeClock, audit_rows
from tests.maintenance.world import (
    SECRETS,
    Canary,
    accounts_on,
    code,
    enrol,
    fill_with_canaries,
    load,
    service_for,
    write_site,
)
from tests.ui.checks import all_texts, child, clipping_problems, of_type, small_targets, small_text

SHOTS = Path(os.environ.get("MAINTENANCE_SHOTS", "/tmp/maintenance-shots"))


@dataclass
class Tech:
    window: KioskWindow
    mode: MaintenanceMode
    store: AsyncStore
    clock: FakeClock
    canary: Canary
    secret: str
    qtbot: QtBot
    seen: list[str]
    hub: SimulatorHub
    site: Path
    usb: Path
    restarts: list[str]

    def screen(self) -> QWidget:
        return of_type(self.window.stack.currentWidget(), QWidget)

    def corner_tap(self) -> None:
        w = self.window
        point = QPoint(w.width() - 60, w.stack.geometry().top() + 60)
        target = w.childAt(point) or w
        self.qtbot.mouseClick(  # type: ignore[no-untyped-call]  # pytest-qt: unannotated
            target, Qt.MouseButton.LeftButton, pos=target.mapFrom(w, point)
        )

    def look(self) -> None:
        """What the technician can read now: kept to prove no canary ever showed."""
        self.seen += all_texts(self.screen())

    async def tap(self, name: str) -> None:
        button = child(self.screen(), BigButton, name)
        self.qtbot.mouseClick(button, Qt.MouseButton.LeftButton)  # type: ignore[no-untyped-call]  # pytest-qt: unannotated
        await self.mode.idle()
        self.look()

    async def sign_in(self) -> None:
        screen = self.screen()
        child(screen, QLineEdit, "username").setText("paul.tech")
        child(screen, QLineEdit, "password").setText(GOOD_PASSWORD)
        child(screen, QLineEdit, "code").setText(code(self.secret, self.clock))
        await self.tap("submit")


@pytest.fixture
async def tech(tmp_path: Path, window: KioskWindow, qtbot: QtBot) -> AsyncIterator[Tech]:
    clock = FakeClock()
    site = write_site(tmp_path)
    config = load(site)
    restarts: list[str] = []
    usb, logs = tmp_path / "usb", tmp_path / "logs"
    usb.mkdir()
    logs.mkdir()
    handler = logging.FileHandler(logs / "kiosk.log")
    handler.setLevel(logging.DEBUG)
    root = logging.getLogger()
    root.addHandler(handler)
    level = root.level
    root.setLevel(logging.DEBUG)
    store = await AsyncStore.open(tmp_path / "data", FileKeySource(tmp_path / "data"), clock)
    hub = SimulatorHub(config.devices, fast=True)
    await hub.start()
    try:
        canary = await fill_with_canaries(store, clock)
        accounts = accounts_on(store, clock)
        secret = await enrol(accounts, "paul.tech", Role.TECHNICIAN)
        service = service_for(
            accounts,
            store,
            config,
            hub,
            clock,
            config_path=site,
            export_dir=usb,
            log_dir=logs,
            port_lister=lambda: [_adapter()],
            serial_by_id=tmp_path / "no-by-id",
            card_status=_readers,
            restarter=lambda: restarts.append("restart"),
        )
        mode = window.attach_maintenance(service)
        yield Tech(window, mode, store, clock, canary, secret, qtbot, [], hub, site, usb, restarts)
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
        handler.close()
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(window.maintenance_gesture)
        await hub.stop()
        await store.close()


def _adapter() -> ListPortInfo:
    """A USB serial adapter as pyserial's sysfs reader describes one."""
    info = ListPortInfo("/dev/ttyUSB0", skip_link_detection=True)
    info.vid, info.pid = 0x0403, 0x6001
    info.manufacturer, info.product = "FTDI", "FT232R USB UART"
    return info


def _readers(config: KioskConfig) -> CardReaderReport:
    """Two readers as PC/SC lists them, a card in one (the real pcscd: tests/maintenance)."""
    return CardReaderReport(
        "running",
        (ReaderState("Virtual PCD 00 00", True, ()), ReaderState("Virtual PCD 00 01", False, ())),
        (),
    )


def _no_canary(t: Tech) -> None:
    text = "\n".join(t.seen)
    assert text, "nothing was looked at"
    for word in (*t.canary.words(), *SECRETS):
        assert word not in text


async def test_five_taps_in_the_corner_open_the_sign_in_and_four_do_not(tech: Tech) -> None:
    for _ in range(4):
        tech.corner_tap()
    assert not tech.mode.is_open
    tech.clock.advance(0)
    tech.corner_tap()
    assert tech.mode.is_open and isinstance(tech.mode.page, LoginPage)
    assert not tech.window.bar.isVisible()
    await tech.tap("cancel")
    assert not tech.mode.is_open
    assert tech.screen() is tech.window.screens[ScreenId.WELCOME]
    assert tech.window.bar.isVisible()


async def test_the_gesture_does_nothing_away_from_welcome(tech: Tech) -> None:
    from app.ui.views import HelpView

    tech.window.present(HelpView())
    for _ in range(5):
        tech.corner_tap()
    assert not tech.mode.is_open


async def test_a_wrong_code_is_refused_with_the_one_sentence(tech: Tech) -> None:
    tech.window.open_maintenance()
    screen = tech.screen()
    child(screen, QLineEdit, "username").setText("paul.tech")
    child(screen, QLineEdit, "password").setText(GOOD_PASSWORD)
    child(screen, QLineEdit, "code").setText("000000")
    await tech.tap("submit")
    assert tech.mode.page == LoginPage(failed=True)
    assert tech.mode.session is None


async def test_a_technician_walks_through_every_page_and_sees_no_patient(tech: Tech) -> None:
    tech.window.open_maintenance()
    tech.look()
    await tech.sign_in()
    assert isinstance(tech.mode.page, HomePage)
    await tech.tap("devices")
    await tech.tap("test-thermo-1")
    page = tech.mode.page
    assert isinstance(page, DevicesPage) and page.test is not None and page.test.ok
    assert any("36,8" in t for t in tech.seen)  # the value read was shown (French)
    for name in ("outbox", "store", "config", "about", "network", "ports", "readers"):
        await tech.tap("back")
        await tech.tap(name)
        assert isinstance(tech.mode.page, ConfigPage if name == "config" else LinesPage)
    assert any("0403:6001" in t for t in tech.seen)
    await tech.tap("back")
    await tech.tap("leave")
    assert not tech.mode.is_open
    assert tech.screen() is tech.window.screens[ScreenId.WELCOME]
    _no_canary(tech)
    assert not any("36,8" in t for t in all_texts(tech.window))  # shown, then discarded
    acts = [r[1] for r in await audit_rows(tech.store) if r[1].startswith("maintenance.")]
    assert acts[0] == "maintenance.enter" and acts[-1] == "maintenance.leave"
    assert "maintenance.device-test" in acts and "maintenance.config-view" in acts
    assert "maintenance.serial-ports" in acts and "maintenance.card-readers" in acts


async def test_two_minutes_without_a_touch_return_to_welcome(tech: Tech) -> None:
    tech.window.open_maintenance()
    await tech.sign_in()
    tech.clock.advance(IDLE_LIMIT.total_seconds())
    tech.mode.tick()
    await tech.mode.idle()
    assert not tech.mode.is_open
    assert tech.screen() is tech.window.screens[ScreenId.WELCOME]
    rows = await audit_rows(tech.store)
    assert ("paul.tech", "maintenance.leave", "ok", "-", "why=idle") in rows


async def test_the_sign_in_page_left_alone_returns_to_welcome(tech: Tech) -> None:
    tech.window.open_maintenance()
    tech.clock.advance(IDLE_LIMIT.total_seconds() - 5)
    tech.mode.touched()
    tech.clock.advance(10)
    tech.mode.tick()
    assert tech.mode.is_open  # a touch 10 s ago
    tech.clock.advance(IDLE_LIMIT.total_seconds())
    tech.mode.tick()
    assert not tech.mode.is_open


@pytest.mark.parametrize("lang", ["fr", "en", "ar"])
@pytest.mark.parametrize("contrast", [False, True])
async def test_pages_render_unclipped_with_big_targets(
    tech: Tech, lang: str, contrast: bool
) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    tech.window.present(
        tech.window.current_view, Presentation(language=lang, high_contrast=contrast)
    )
    tech.window.open_maintenance()
    QApplication.processEvents()
    login = tech.screen()
    assert small_targets(login) == [] and clipping_problems(login) == []
    assert tech.window.grab().save(
        str(SHOTS / f"maintenance-login-{lang}{'-hc' if contrast else ''}.png")
    )
    await tech.sign_in()
    shots = {
        "home": None,
        "devices": "test-thermo-1",
        "outbox": None,
        "about": None,
        "network": None,
        "ports": None,
        "readers": None,
        "media": None,
        "config": None,
        "printer": None,
    }
    pages: list[str] = []
    for name, then in shots.items():
        if name != "home":
            await tech.tap(name)
        if then is not None:
            await tech.tap(then)
        QApplication.processEvents()
        screen = tech.screen()
        assert small_targets(screen) == [], name
        assert clipping_problems(screen) == [], name
        assert small_text(screen) == [], name
        path = SHOTS / f"maintenance-{name}-{lang}{'-hc' if contrast else ''}.png"
        assert tech.window.grab().save(str(path))
        pages.append(name)
        if name != "home":
            await tech.tap("back")
    assert pages == list(shots)
    _no_canary(tech)


async def test_pair_a_scanned_thermometer_test_it_and_export_with_no_canary(tech: Tech) -> None:
    """Issue 15's done-when: scan, pair, test, export; canaries in the store, none seen or sent."""
    new = SimulatedThermometer("C4:11:22:33:44:55", "SIM-THERMO new")
    new.next_value = Decimal("37.4")  # not the configured simulator's 36.8: the new one answers
    tech.hub.air.add(new)
    tech.hub.air.add(SimulatedPeripheral("D0:00:00:00:00:01", f"iPhone de {tech.canary.name}", []))
    tech.corner_tap()
    for _ in range(4):
        tech.corner_tap()
    assert tech.mode.is_open
    tech.look()
    await tech.sign_in()
    await tech.tap("scan")
    page = tech.mode.page
    assert isinstance(page, ScanPage)
    found = [a for a, _n in page.found]
    assert "C4:11:22:33:44:55" in found and simulated_ble_address("thermo-1") in found
    assert "D0:00:00:00:00:01" not in found  # a phone: counted, never named
    await tech.tap("found-C4:11:22:33:44:55")
    assert of_type(tech.mode.page, ScanPage).targets == ("thermo-1",)  # a thermometer's place
    SHOTS.mkdir(parents=True, exist_ok=True)
    QApplication.processEvents()
    assert small_targets(tech.screen()) == [] and clipping_problems(tech.screen()) == []
    assert tech.window.grab().save(str(SHOTS / "maintenance-scan-fr.png"))
    await tech.tap("pair-thermo-1")
    QApplication.processEvents()
    assert tech.window.grab().save(str(SHOTS / "maintenance-paired-fr.png"))
    assert 'ble_address = "C4:11:22:33:44:55"' in tech.site.read_text()
    assert load(tech.site).devices[0].ble_address == "C4:11:22:33:44:55"
    await tech.tap("back")
    await tech.tap("devices")
    await tech.tap("test-thermo-1")
    test = of_type(tech.mode.page, DevicesPage).test
    assert test is not None and test.ok and str(test.values[0].value) == "37.4"
    assert any("37,4" in t for t in tech.seen)
    await tech.tap("back")
    tech.mode.service.export_roots = (Path("/"),)  # /proc, /sys …: mount points, offered too
    await tech.tap("export")
    assert of_type(tech.mode.page, FoldersPage).folders[0] == str(tech.usb)
    await tech.tap("folder-0")
    QApplication.processEvents()
    assert tech.window.grab().save(str(SHOTS / "maintenance-export-fr.png"))
    [bundle] = list(tech.usb.iterdir())
    assert bundle.name.endswith(".tar.gz")
    with tarfile.open(bundle) as tar:
        names = tar.getnames()
        contents = b"".join(
            extracted.read()
            for member in tar.getmembers()
            if (extracted := tar.extractfile(member)) is not None
        ).decode()
    assert {"manifest.json", "configuration.txt", "outbox.json", "logs/kiosk.log"} <= set(names)
    assert "hardware.json" in names  # the serial adapter and the readers, no card read
    assert "0403:6001" in contents and "Virtual PCD 00 01" in contents
    assert "C4:11:22:33:44:55" in contents and "entry-refused-422" in contents
    assert "store: opened" in contents  # the technical log went in
    for word in (*tech.canary.words(), *SECRETS, "37.4", "36.8"):
        assert word not in contents, word
    await tech.tap("back")
    # The same bundle uploaded: the reference platform keeps what it received.
    received = tech.usb.parent / "platform-diagnostics"

    def diagnostics(app: web.Application) -> None:
        add_diagnostics_routes(app, received)

    async with running_platform(tech.usb.parent / "platform", extensions=(diagnostics,)) as (
        base_url,
        _handle,
    ):
        tech.mode.service.uploader = PlatformBundleUploader(base_url)
        await tech.tap("upload")
    assert any("MAINT-CAB-01" in t for t in tech.seen)  # the platform's id for it, shown
    [sent] = list(received.glob("*/*.tar.gz"))
    with tarfile.open(sent) as tar:
        uploaded = b"".join(
            extracted.read()
            for member in tar.getmembers()
            if (extracted := tar.extractfile(member)) is not None
        ).decode()
    assert "entry-refused-422" in uploaded and "store: opened" in uploaded
    for word in (*tech.canary.words(), *SECRETS, "37.4", "36.8"):
        assert word not in uploaded, word
    await tech.tap("back")
    await tech.tap("leave")
    _no_canary(tech)
    rows = await audit_rows(tech.store)
    acts = [r[1] for r in rows if r[1].startswith("maintenance.")]
    for act in (
        "maintenance.ble-scan",
        "maintenance.pair",
        "maintenance.device-test",
        "maintenance.export",
        "maintenance.upload",
    ):
        assert act in acts
    for row in rows:
        for word in tech.canary.words():
            assert word not in repr(row)


async def test_a_quarantined_session_is_sent_again_from_the_outbox_page(tech: Tech) -> None:
    tech.window.open_maintenance()
    await tech.sign_in()
    await tech.tap("outbox")
    page = of_type(tech.mode.page, LinesPage)
    [item] = page.resend
    await tech.tap(f"resend-{item}")
    after = of_type(tech.mode.page, LinesPage)
    assert after.title == "maint.outbox" and after.resend == ()
    _no_canary(tech)


async def test_pages_fit_a_1280x800_screen_in_large_text(tech: Tech) -> None:
    tech.window.resize(1280, 800)
    QApplication.processEvents()
    tech.window.present(tech.window.current_view, Presentation(language="fr", large_text=True))
    tech.window.open_maintenance()
    QApplication.processEvents()
    problems = small_targets(tech.screen()) + clipping_problems(tech.screen())
    await tech.sign_in()
    for name in ("home", "devices", "scan", "outbox"):
        if name != "home":
            await tech.tap(name)
        QApplication.processEvents()
        problems += small_targets(tech.screen()) + clipping_problems(tech.screen())
        assert tech.window.grab().save(str(SHOTS / f"maintenance-{name}-1280-large.png"))
        if name != "home":
            await tech.tap("back")
    assert problems == []


async def test_camera_preview_microphone_meter_and_tone_show_and_keep_nothing(tech: Tech) -> None:
    """The test site's generated picture and tone, as the waiting room opens them."""
    import asyncio

    from PySide6.QtWidgets import QLabel, QProgressBar

    SHOTS.mkdir(parents=True, exist_ok=True)
    tech.window.open_maintenance()
    await tech.sign_in()
    await tech.tap("media")
    assert of_type(tech.mode.page, MediaPage) == MediaPage()

    def press(name: str) -> None:
        button = child(tech.screen(), BigButton, name)
        tech.qtbot.mouseClick(button, Qt.MouseButton.LeftButton)  # type: ignore[no-untyped-call]  # pytest-qt: unannotated

    press("media-camera")
    await asyncio.sleep(0.6)
    QApplication.processEvents()
    preview = child(tech.screen(), QLabel, "camera-preview")
    assert not preview.pixmap().isNull()  # pictures painted as they come
    assert small_targets(tech.screen()) == [] and clipping_problems(tech.screen()) == []
    assert tech.window.grab().save(str(SHOTS / "maintenance-camera-fr.png"))
    await tech.tap("stop")
    page = of_type(tech.mode.page, MediaPage)
    assert page.running is None and page.said[0].msgid == "maint.media.camera_ok"
    press("media-microphone")
    await asyncio.sleep(0.4)
    QApplication.processEvents()
    assert child(tech.screen(), QProgressBar, "mic-level").value() > 50  # the tone is loud
    assert tech.window.grab().save(str(SHOTS / "maintenance-microphone-fr.png"))
    await tech.tap("stop")
    assert of_type(tech.mode.page, MediaPage).said[0].msgid == "maint.media.mic_ok"
    await tech.tap("media-speaker")  # one second of tone, then the sentence
    assert of_type(tech.mode.page, MediaPage).said[0].msgid == "maint.media.speaker_ok"
    QApplication.processEvents()
    assert tech.window.grab().save(str(SHOTS / "maintenance-speaker-fr.png"))
    press("media-camera")
    await asyncio.sleep(0.3)
    await tech.tap("stop")
    await tech.tap("back")
    await tech.tap("leave")
    _no_canary(tech)
    rows = await audit_rows(tech.store)
    media = {r[1]: r for r in rows if r[1] in {"maintenance.camera", "maintenance.microphone"}}
    assert "frames=" in media["maintenance.camera"][4]
    assert "peak=" in media["maintenance.microphone"][4]
    assert ("paul.tech", "maintenance.speaker") in {(r[0], r[1]) for r in rows}


async def test_leaving_mid_preview_stops_the_camera(tech: Tech) -> None:
    import asyncio

    tech.window.open_maintenance()
    await tech.sign_in()
    await tech.tap("media")
    button = child(tech.screen(), BigButton, "media-camera")
    tech.qtbot.mouseClick(button, Qt.MouseButton.LeftButton)  # type: ignore[no-untyped-call]  # pytest-qt: unannotated
    await asyncio.sleep(0.3)
    tech.mode.close()  # as idle or the welcome screen would
    await asyncio.wait_for(tech.mode.idle(), 3.0)  # the preview ended with the mode
    assert not tech.mode.is_open and tech.mode.screen.preview is None


async def test_reload_the_configuration_then_restart_the_kiosk(tech: Tech) -> None:
    tech.window.open_maintenance()
    await tech.sign_in()
    await tech.tap("config")
    assert isinstance(tech.mode.page, ConfigPage)
    tech.site.write_text(
        tech.site.read_text().replace("Pharmacie de maintenance", "Pharmacie du Marché")
    )
    await tech.tap("reload")
    page = of_type(tech.mode.page, ConfigPage)
    assert page.said[0] == Said("maint.config.reloaded", (("count", 1),))
    assert page.lines[0] == "± site.name" and "site.name = Pharmacie du Marché" in page.lines
    QApplication.processEvents()
    assert small_targets(tech.screen()) == [] and clipping_problems(tech.screen()) == []
    assert tech.window.grab().save(str(SHOTS / "maintenance-config-reloaded-fr.png"))
    tech.site.write_text(tech.site.read_text().replace('kind = "oximeter"', 'kind = "oxymetre"'))
    await tech.tap("reload")
    assert of_type(tech.mode.page, ConfigPage).said == (Said("maint.config.reload_refused"),)
    assert tech.mode.service.config.site.name == "Pharmacie du Marché"  # the good one kept
    await tech.tap("restart")
    assert isinstance(tech.mode.page, RestartPage)
    QApplication.processEvents()
    assert small_targets(tech.screen()) == [] and clipping_problems(tech.screen()) == []
    assert tech.window.grab().save(str(SHOTS / "maintenance-restart-fr.png"))
    await tech.tap("cancel")
    assert isinstance(tech.mode.page, ConfigPage) and tech.restarts == []
    await tech.tap("restart")
    await tech.tap("restart-now")
    assert tech.restarts == ["restart"] and not tech.mode.is_open
    _no_canary(tech)
    acts = [(r[1], r[2]) for r in await audit_rows(tech.store) if r[0] == "paul.tech"]
    assert ("maintenance.config-reload", "ok") in acts
    assert ("maintenance.config-reload", "refused") in acts
    assert acts[-2:] == [("maintenance.restart", "ok"), ("maintenance.leave", "ok")]


async def test_the_network_page_shows_the_turn_test(tech: Tech) -> None:
    """A real coturn on loopback stands for the site's TURN server (devtools/turn)."""
    import shutil

    from devtools.turn import TurnServer

    if shutil.which("turnserver") is None:
        pytest.skip("coturn's turnserver is not installed here (apt coturn)")
    with TurnServer() as turn:
        tech.site.write_text(
            tech.site.read_text()
            .replace("turn:turn.example.net:3478", turn.url)
            .replace("turn-user-SECRET", turn.user)
            .replace("turn-credential-SECRET", turn.password)
        )
        tech.window.open_maintenance()
        await tech.sign_in()
        await tech.tap("config")
        await tech.tap("reload")  # the page's own way to take the edited site file
        await tech.tap("back")
        await tech.tap("network")
    page = of_type(tech.mode.page, LinesPage)
    turn_lines = [line for line in page.lines if "turn" in line]
    assert len(turn_lines) == 3 and all(line.startswith("✓") for line in turn_lines)
    assert any("kbit/s=" in line for line in turn_lines)
    QApplication.processEvents()
    assert small_targets(tech.screen()) == [] and clipping_problems(tech.screen()) == []
    assert tech.window.grab().save(str(SHOTS / "maintenance-network-turn-fr.png"))
    assert turn.password not in "\n".join(tech.seen)
    _no_canary(tech)


async def test_the_printer_page_without_a_printer_offers_no_test_page(tech: Tech) -> None:
    tech.window.open_maintenance()
    await tech.sign_in()
    await tech.tap("printer")
    page = tech.mode.page
    assert isinstance(page, PrinterPage) and not page.can_print
    assert page.said == (Said("maint.printer.none"),)
    assert child(tech.screen(), BigButton, "back") is not None
    assert not [
        b for b in tech.screen().findChildren(BigButton) if b.objectName() == "printer-test"
    ]


async def test_the_printer_page_prints_a_test_page_on_a_real_cupsd(tech: Tech) -> None:
    from tests.printing.cupsd import cupsd_missing_reason, private_cupsd

    missing = cupsd_missing_reason()
    if missing is not None:
        pytest.skip(missing)
    with private_cupsd() as cups:
        cups.add_pdf_queue("kiosk")
        site = tech.site.read_text() + f'\n[printer]\nqueue = "kiosk"\nserver = "{cups.socket}"\n'
        tech.site.write_text(site)
        tech.mode.service.config = load(tech.site)
        tech.window.open_maintenance()
        await tech.sign_in()
        await tech.tap("printer")
        page = tech.mode.page
        assert isinstance(page, PrinterPage) and page.can_print
        assert page.said[0] == Said("maint.printer.ready", (("queue", "kiosk"),))
        await tech.tap("printer-test")
        page = tech.mode.page
        assert isinstance(page, PrinterPage)
        assert page.said[-1] == Said("maint.printer.test_printed")
        assert len(cups.pdfs()) == 1
    _no_canary(tech)
    acts = [r[1] for r in await audit_rows(tech.store)]
    assert "maintenance.printer" in acts and "maintenance.printer-test" in acts
