"""The technician's way in and through maintenance on the real window, offscreen.

Real parts under the screen: the SQLCipher store with canary patients, the
accounts (argon2id + TOTP), the registry's drivers on the simulators.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication, QLineEdit, QWidget
from pytestqt.qtbot import QtBot

from app.maintenance.roles import Role
from app.maintenance.technician import IDLE_LIMIT
from app.store import AsyncStore, FileKeySource
from app.ui.main_window import KioskWindow
from app.ui.maintenance.mode import MaintenanceMode
from app.ui.maintenance.pages import DevicesPage, HomePage, LinesPage, LoginPage
from app.ui.views import Presentation, ScreenId
from app.ui.widgets.buttons import BigButton
from drivers.simulators import SimulatorHub
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
    config = load(write_site(tmp_path))
    store = await AsyncStore.open(tmp_path / "data", FileKeySource(tmp_path / "data"), clock)
    hub = SimulatorHub(config.devices, fast=True)
    await hub.start()
    try:
        canary = await fill_with_canaries(store, clock)
        accounts = accounts_on(store, clock)
        secret = await enrol(accounts, "paul.tech", Role.TECHNICIAN)
        mode = window.attach_maintenance(service_for(accounts, store, config, hub, clock))
        yield Tech(window, mode, store, clock, canary, secret, qtbot, [])
    finally:
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(window.maintenance_gesture)
        await hub.stop()
        await store.close()


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
    for name in ("outbox", "store", "config", "about"):
        await tech.tap("back")
        await tech.tap(name)
        assert isinstance(tech.mode.page, LinesPage)
    await tech.tap("back")
    await tech.tap("leave")
    assert not tech.mode.is_open
    assert tech.screen() is tech.window.screens[ScreenId.WELCOME]
    _no_canary(tech)
    assert not any("36,8" in t for t in all_texts(tech.window))  # shown, then discarded
    acts = [r[1] for r in await audit_rows(tech.store) if r[1].startswith("maintenance.")]
    assert acts[0] == "maintenance.enter" and acts[-1] == "maintenance.leave"
    assert "maintenance.device-test" in acts and "maintenance.config-view" in acts


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
    shots = {"home": None, "devices": "test-thermo-1", "outbox": None, "about": None}
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
