"""The demo's operator panel opens maintenance with the demo technician's own account.

Real parts: the SQLCipher store with canary patients, the accounts service
(argon2id + TOTP), the demo's enrolment (kiosk_demo.world.demo_technician),
the kiosk window with its maintenance mode. The panel opens the same sign-in
page the five taps open, and the operator types what the panel shows.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLabel, QLineEdit, QWidget
from pytestqt.qtbot import QtBot

from app.maintenance.roles import Role
from app.maintenance.service import AccountService
from app.store import AsyncStore, FileKeySource
from app.ui.main_window import KioskWindow
from app.ui.maintenance.mode import MaintenanceMode
from app.ui.maintenance.pages import HomePage, LoginPage, Page
from app.ui.operator_panel import OperatorPanel
from app.ui.views import HelpView, ScreenId
from app.ui.widgets.buttons import BigButton
from drivers.simulators import SimulatorHub, SimulatorStatus
from kiosk_demo.world import DEMO_TECHNICIAN_FILE, DemoTechnician, demo_technician
from tests.maintenance.conftest import FakeClock, audit_rows
from tests.maintenance.world import accounts_on, fill_with_canaries, load, service_for, write_site
from tests.ui.checks import all_texts, child, of_type


@dataclass
class FakeSims:
    """No simulator: the panel's card, QR and fault groups stay empty."""

    async def insert_card(self, device_id: str, label: str) -> None:
        pass

    async def remove_card(self, device_id: str) -> None:
        pass

    def show_qr(self, device_id: str, *, valid: bool | str = True) -> None:
        pass

    def status(self) -> list[SimulatorStatus]:
        return []

    def set_fault(self, device_id: str, fault: str | None) -> None:
        pass


@dataclass
class PanelWorld:
    """The demo world as the panel sees it; the technician is the demo's real enrolment."""

    clock: FakeClock
    technician: DemoTechnician | None = None
    sims: FakeSims = field(default_factory=FakeSims)

    def card_reader(self) -> str | None:
        return None

    def camera(self) -> str | None:
        return None

    def set_network(self, online: bool) -> None:
        pass

    def banner(self) -> str:
        return "demo"

    def technician_login(self) -> tuple[str, str, str] | None:
        who = self.technician
        return None if who is None else (who.username, who.password, who.code(self.clock()))


@dataclass
class Demo:
    window: KioskWindow
    mode: MaintenanceMode
    accounts: AccountService
    store: AsyncStore
    clock: FakeClock
    data: Path


@pytest.fixture
async def demo(tmp_path: Path, window: KioskWindow) -> AsyncIterator[Demo]:
    clock = FakeClock()
    site = write_site(tmp_path)
    config = load(site)
    store = await AsyncStore.open(tmp_path / "data", FileKeySource(tmp_path / "data"), clock)
    hub = SimulatorHub(config.devices, fast=True)
    await hub.start()
    try:
        await fill_with_canaries(store, clock)
        accounts = accounts_on(store, clock)
        service = service_for(accounts, store, config, hub, clock, config_path=site)
        mode = window.attach_maintenance(service)
        yield Demo(window, mode, accounts, store, clock, tmp_path / "data")
    finally:
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(window.maintenance_gesture)
        await hub.stop()
        await store.close()


async def _press(panel: OperatorPanel, qtbot: QtBot, name: str) -> None:
    """A panel button, and the task it starts, to its end."""
    qtbot.mouseClick(child(panel, BigButton, name), Qt.MouseButton.LeftButton)  # type: ignore[no-untyped-call]  # pytest-qt: unannotated
    while panel.tasks:
        await asyncio.gather(*list(panel.tasks))


def _page(mode: MaintenanceMode) -> Page | None:
    """The page shown now (a call, so mypy does not keep an earlier narrowing)."""
    return mode.page


def _screen(window: KioskWindow) -> QWidget:
    return of_type(window.stack.currentWidget(), QWidget)


async def test_the_panel_opens_maintenance_with_the_demo_technician(
    demo: Demo, qtbot: QtBot
) -> None:
    world = PanelWorld(demo.clock)
    panel = OperatorPanel(object(), world, maintenance=demo.window)
    qtbot.addWidget(panel)
    label = child(panel, QLabel, "operator-technician")
    assert "technicien.demo" not in label.text()  # not enrolled yet: the panel waits

    world.technician = await demo_technician(demo.accounts, demo.data)
    assert (demo.data / DEMO_TECHNICIAN_FILE).stat().st_mode & 0o777 == 0o600
    demo.clock.advance(30)
    panel.show_login()
    shown = label.text().splitlines()
    username, password, code = (line.split(":", 1)[1].strip() for line in shown)
    assert username == "technicien.demo"
    assert code == world.technician.code(demo.clock())

    await _press(panel, qtbot, "operator.maintenance.open")
    assert demo.mode.is_open and isinstance(_page(demo.mode), LoginPage)

    # The operator types what the panel shows, on the kiosk's own sign-in page.
    screen = _screen(demo.window)
    child(screen, QLineEdit, "username").setText(username)
    child(screen, QLineEdit, "password").setText(password)
    child(screen, QLineEdit, "code").setText(code)
    qtbot.mouseClick(child(screen, BigButton, "submit"), Qt.MouseButton.LeftButton)  # type: ignore[no-untyped-call]  # pytest-qt: unannotated
    await demo.mode.idle()
    assert isinstance(_page(demo.mode), HomePage)
    assert demo.mode.session is not None
    assert demo.mode.session.professional.role is Role.TECHNICIAN
    assert "Technicien de la démonstration" in "\n".join(all_texts(_screen(demo.window)))
    rows = await audit_rows(demo.store)
    assert ("technicien.demo", "auth.sign-in", "ok") in {(r[0], r[1], r[2]) for r in rows}
    assert ("demo:operator", "account.created", "ok") in {(r[0], r[1], r[2]) for r in rows}

    # The same code a second time is refused, as any replayed code is.
    qtbot.mouseClick(child(_screen(demo.window), BigButton, "leave"), Qt.MouseButton.LeftButton)  # type: ignore[no-untyped-call]  # pytest-qt: unannotated
    await demo.mode.idle()
    assert _page(demo.mode) is None
    await _press(panel, qtbot, "operator.maintenance.open")
    screen = _screen(demo.window)
    for name, text in (("username", username), ("password", password), ("code", code)):
        child(screen, QLineEdit, name).setText(text)
    qtbot.mouseClick(child(screen, BigButton, "submit"), Qt.MouseButton.LeftButton)  # type: ignore[no-untyped-call]  # pytest-qt: unannotated
    await demo.mode.idle()
    refused = _page(demo.mode)
    assert isinstance(refused, LoginPage) and refused.failed


async def test_the_panel_opens_nothing_away_from_the_welcome_screen(
    demo: Demo, qtbot: QtBot
) -> None:
    panel = OperatorPanel(object(), PanelWorld(demo.clock), maintenance=demo.window)
    qtbot.addWidget(panel)
    demo.window.present(HelpView())
    await _press(panel, qtbot, "operator.maintenance.open")
    assert not demo.mode.is_open
    assert demo.window.current_view.screen is ScreenId.HELP


async def test_the_demo_technician_is_made_once_and_never_reset(demo: Demo) -> None:
    first = await demo_technician(demo.accounts, demo.data)
    again = await demo_technician(demo.accounts, demo.data)
    assert again == first
    assert json.loads((demo.data / DEMO_TECHNICIAN_FILE).read_text())["secret"] not in str(
        await audit_rows(demo.store)
    )
    (demo.data / DEMO_TECHNICIAN_FILE).unlink()  # the secret is lost: a new account, not a reset
    other = await demo_technician(demo.accounts, demo.data)
    assert other.username == "technicien.demo2" and other.totp_secret != first.totp_secret
    names = [a.username for a in await demo.accounts.list_accounts()]
    assert names == ["technicien.demo", "technicien.demo2"]


def test_a_panel_without_a_door_has_no_maintenance_group(qtbot: QtBot) -> None:
    panel = OperatorPanel(object(), PanelWorld(FakeClock()))
    qtbot.addWidget(panel)
    assert panel.findChild(BigButton, "operator.maintenance.open") is None
