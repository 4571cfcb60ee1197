"""The technician bonds the A&D-like monitor on the real window, offscreen: the passkey typed
on the digits keyboard, a wrong one said plainly and refused, the right one bonds and writes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication, QLineEdit, QWidget
from pytestqt.qtbot import QtBot

from app.maintenance.roles import Role
from app.store import AsyncStore, FileKeySource
from app.ui.main_window import KioskWindow
from app.ui.maintenance.mode import MaintenanceMode
from app.ui.maintenance.pages import Page, Said, ScanPage
from app.ui.widgets.buttons import BigButton
from drivers.ble.sim_blood_pressure import SIMULATED_PASSKEY, SimulatedBloodPressureMonitor
from drivers.ble.sim_devices import SimulatedThermometer
from drivers.simulators import SimulatorHub
from tests.maintenance.conftest import GOOD_PASSWORD, FakeClock, audit_rows
from tests.maintenance.test_pairing_service import NEW_BP, NEW_THERMO, bonding_site
from tests.maintenance.world import accounts_on, code, enrol, load, service_for
from tests.ui.checks import all_texts, child, clipping_problems, of_type, small_targets


@dataclass
class Bench:
    window: KioskWindow
    mode: MaintenanceMode
    store: AsyncStore
    clock: FakeClock
    hub: SimulatorHub
    site: Path
    secret: str
    qtbot: QtBot

    def screen(self) -> QWidget:
        return of_type(self.window.stack.currentWidget(), QWidget)

    async def tap(self, name: str) -> None:
        button = child(self.screen(), BigButton, name)
        self.qtbot.mouseClick(button, Qt.MouseButton.LeftButton)  # type: ignore[no-untyped-call]  # pytest-qt: unannotated
        await self.mode.idle()

    async def enter(self) -> None:
        w = self.window
        point = QPoint(w.width() - 60, w.stack.geometry().top() + 60)
        target = w.childAt(point) or w
        for _ in range(5):
            self.qtbot.mouseClick(  # type: ignore[no-untyped-call]  # pytest-qt: unannotated
                target, Qt.MouseButton.LeftButton, pos=target.mapFrom(w, point)
            )
        assert self.mode.is_open
        screen = self.screen()
        child(screen, QLineEdit, "username").setText("paul.tech")
        child(screen, QLineEdit, "password").setText(GOOD_PASSWORD)
        child(screen, QLineEdit, "code").setText(code(self.secret, self.clock))
        await self.tap("submit")

    def type_passkey(self, digits: str) -> None:
        field = child(self.screen(), QLineEdit, "passkey")
        keyboard = self.mode.screen.keyboard
        assert keyboard is not None and keyboard.kind == "digits"
        for digit in digits:  # on the screen's own digits keyboard
            keys = [k for k in keyboard.keys if k.isVisible() and k.text() == digit]
            assert len(keys) == 1, digit
            self.qtbot.mouseClick(keys[0], Qt.MouseButton.LeftButton)  # type: ignore[no-untyped-call]  # pytest-qt: unannotated
        assert field.text() == digits


@pytest.fixture
async def bench(tmp_path: Path, window: KioskWindow, qtbot: QtBot) -> AsyncIterator[Bench]:
    clock = FakeClock()
    site = bonding_site(tmp_path)
    config = load(site)
    store = await AsyncStore.open(tmp_path / "data", FileKeySource(tmp_path / "data"), clock)
    hub = SimulatorHub(config.devices, fast=True)
    await hub.start()
    try:
        accounts = accounts_on(store, clock)
        secret = await enrol(accounts, "paul.tech", Role.TECHNICIAN)
        service = service_for(accounts, store, config, hub, clock, config_path=site)
        mode = window.attach_maintenance(service)
        yield Bench(window, mode, store, clock, hub, site, secret, qtbot)
    finally:
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(window.maintenance_gesture)
        await hub.stop()
        await store.close()


async def test_the_monitor_bonds_with_its_passkey_after_a_wrong_one(bench: Bench) -> None:
    monitor = bench.hub.air.add(SimulatedBloodPressureMonitor(NEW_BP, "SIM-BP new"))
    await bench.enter()
    await bench.tap("scan")
    await bench.tap(f"found-{NEW_BP}")
    assert of_type(bench.mode.page, ScanPage).targets == ("bp-ble",)
    await bench.tap("pair-bp-ble")
    assert of_type(bench.mode.page, ScanPage).passkey_for == "bp-ble"
    assert small_targets(bench.screen()) == [] and clipping_problems(bench.screen()) == []
    bench.type_passkey("135790")
    await bench.tap("bond-bp-ble")
    page = of_type(bench.mode.page, ScanPage)
    assert page.done == Said("maint.bond.wrong-passkey") and page.passkey_for == "bp-ble"
    assert child(bench.screen(), QLineEdit, "passkey").text() == ""  # never kept
    assert not monitor.bonded and 'bonding = "passkey"\n' in bench.site.read_text()
    assert NEW_BP not in bench.site.read_text()
    bench.type_passkey(SIMULATED_PASSKEY)
    shown: list[Page] = []
    show = bench.mode._show

    def spy(page: Page) -> None:
        shown.append(page)
        show(page)

    bench.mode._show = spy
    await bench.tap("bond-bp-ble")
    bench.mode._show = show
    bonding = of_type(shown[0], ScanPage)  # "bonding…" while bleak waits for the device
    assert bonding.bonding and bonding.done == Said("maint.bond.running")
    page = of_type(bench.mode.page, ScanPage)
    assert page.done is not None and page.done.msgid == "maint.bond.done"
    assert monitor.bonded
    assert {d.id: d.ble_address for d in load(bench.site).devices}["bp-ble"] == NEW_BP
    texts = "\n".join(all_texts(bench.screen()))
    assert NEW_BP in texts and SIMULATED_PASSKEY not in texts
    outcomes = [
        (action, outcome)
        for _a, action, outcome, _s, _d in await audit_rows(bench.store)
        if action in {"maintenance.bond", "maintenance.pair"}
    ]
    assert outcomes == [
        ("maintenance.bond", "started"),
        ("maintenance.bond", "refused"),
        ("maintenance.bond", "started"),
        ("maintenance.bond", "ok"),
        ("maintenance.pair", "ok"),
    ]


async def test_a_thermometer_is_paired_without_a_passkey(bench: Bench) -> None:
    thermo = bench.hub.air.add(SimulatedThermometer(NEW_THERMO, "SIM-THERMO new"))
    await bench.enter()
    await bench.tap("scan")
    await bench.tap(f"found-{NEW_THERMO}")
    await bench.tap("pair-thermo-1")
    page = of_type(bench.mode.page, ScanPage)
    assert page.passkey_for is None and page.done is not None
    assert page.done.msgid == "maint.pair.done"
    assert thermo.pair_attempts == 0
    assert {d.id: d.ble_address for d in load(bench.site).devices}["thermo-1"] == NEW_THERMO
