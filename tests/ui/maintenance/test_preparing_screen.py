"""The "cabin being prepared" screen and the staff's confirmation, on the real window.

Real parts: the SQLCipher store, the accounts (argon2id + TOTP), the gate on
the pure preparation table. The screen is put in the window's stack as the
window's `attach_preparation` will (the H15 patch), shown in fr/en/ar, normal
and high contrast, and checked like the patient screens (64 px targets, no
clipped text, no small text).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLineEdit
from pytestqt.qtbot import QtBot

from app.domain.preparation import Readiness
from app.maintenance.onsite import OnSiteService, PreparationGate
from app.maintenance.roles import Role
from app.store import AsyncStore, FileKeySource
from app.ui.main_window import KioskWindow
from app.ui.screens.preparing import PreparingPage, PreparingPanel, PreparingScreen
from app.ui.views import Presentation
from app.ui.widgets.buttons import BigButton
from tests.maintenance.conftest import GOOD_PASSWORD, FakeClock, audit_rows
from tests.maintenance.world import accounts_on, code, enrol
from tests.ui.checks import all_texts, child, clipping_problems, small_targets, small_text

SHOTS = Path(os.environ.get("MAINTENANCE_SHOTS", "/tmp/maintenance-shots"))


@dataclass
class Cabin:
    window: KioskWindow
    screen: PreparingScreen
    panel: PreparingPanel
    gate: PreparationGate
    store: AsyncStore
    clock: FakeClock
    staff: str
    tech: str
    told: list[tuple[str, str]] = field(default_factory=list)
    readied: list[bool] = field(default_factory=list)


@pytest.fixture
async def cabin(tmp_path: Path, window: KioskWindow) -> AsyncIterator[Cabin]:
    clock = FakeClock()
    store = await AsyncStore.open(tmp_path / "data", FileKeySource(tmp_path / "data"), clock)
    try:
        accounts = accounts_on(store, clock)
        staff = await enrol(accounts, "lea.accueil", Role.ASSISTANT)  # holds the confirmation
        tech = await enrol(accounts, "paul.tech", Role.TECHNICIAN)
        told: list[tuple[str, str]] = []

        async def tell(by: str, at: object) -> bool:
            told.append((by, str(at)))
            return True

        gate = PreparationGate(
            OnSiteService(accounts, clock=clock), "MAINT-CAB-01", required=True, tell_platform=tell
        )
        gate.session_started()
        gate.session_ended(clock())
        screen = PreparingScreen(window.t)
        window.stack.addWidget(screen)

        def show(page: PreparingPage) -> None:
            screen.presentation = window.presentation
            screen.show_view(page)
            window.stack.setCurrentWidget(screen)

        readied: list[bool] = []
        panel = PreparingPanel(gate, screen, show=show, ready=lambda: readied.append(True))
        yield Cabin(window, screen, panel, gate, store, clock, staff, tech, told, readied)
    finally:
        await store.close()


def _readiness(c: Cabin) -> Readiness:
    """Read anew (a call: mypy keeps no earlier narrowing)."""
    return c.gate.readiness


async def _tap(c: Cabin, qtbot: QtBot, name: str) -> None:
    qtbot.mouseClick(child(c.screen, BigButton, name), Qt.MouseButton.LeftButton)  # type: ignore[no-untyped-call]  # pytest-qt: unannotated
    await c.panel.idle()


def _type(c: Cabin, username: str, secret: str) -> None:
    child(c.screen, QLineEdit, "username").setText(username)
    child(c.screen, QLineEdit, "password").setText(GOOD_PASSWORD)
    child(c.screen, QLineEdit, "code").setText(code(secret, c.clock))


@pytest.mark.parametrize("lang", ["fr", "en", "ar"])
@pytest.mark.parametrize("contrast", [False, True])
async def test_both_pages_render_unclipped_with_big_targets(
    cabin: Cabin, qtbot: QtBot, lang: str, contrast: bool
) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    cabin.window.present(
        cabin.window.current_view, Presentation(language=lang, high_contrast=contrast)
    )
    cabin.panel.render(PreparingPage())
    for name in ("wait", "sign-in"):
        if name == "sign-in":
            await _tap(cabin, qtbot, "staff")
        QApplication.processEvents()
        assert small_targets(cabin.screen) == [], name
        assert clipping_problems(cabin.screen) == [], name
        assert small_text(cabin.screen) == [], name
        path = SHOTS / f"preparing-{name}-{lang}{'-hc' if contrast else ''}.png"
        assert cabin.window.grab().save(str(path))
    assert not any("preparing." in t for t in all_texts(cabin.screen))  # every id translated


async def test_a_staff_sign_in_makes_the_cabin_ready_and_a_technician_cannot(
    cabin: Cabin, qtbot: QtBot
) -> None:
    cabin.panel.render(PreparingPage())
    texts = "\n".join(all_texts(cabin.screen))
    assert "La cabine est en préparation" in texts and "patienter" in texts
    await _tap(cabin, qtbot, "staff")
    _type(cabin, "paul.tech", cabin.tech)  # a technician keeps machines, not the cabin
    await _tap(cabin, qtbot, "submit")
    assert cabin.panel.page == PreparingPage(signing_in=True, failed=True)
    assert child(cabin.screen, BigButton, "submit")  # the form is still there
    assert cabin.gate.readiness is Readiness.BEING_PREPARED and cabin.readied == []
    _type(cabin, "lea.accueil", cabin.staff)
    await _tap(cabin, qtbot, "submit")
    assert _readiness(cabin) is Readiness.READY and cabin.readied == [True]
    assert cabin.gate.state.confirmation is not None
    assert cabin.gate.state.confirmation.by == "lea.accueil"
    assert [by for by, _at in cabin.told] == ["lea.accueil"]
    rows = await audit_rows(cabin.store)
    assert ("lea.accueil", "preparation.confirmed", "ok", "MAINT-CAB-01") in {r[:4] for r in rows}
    assert ("paul.tech", "authorise", "refused") in {r[:3] for r in rows}
    cabin.gate.session_started()  # the next patient may start now


async def test_cancel_closes_the_form_and_keeps_the_wait(cabin: Cabin, qtbot: QtBot) -> None:
    cabin.panel.render(PreparingPage())
    await _tap(cabin, qtbot, "staff")
    await _tap(cabin, qtbot, "cancel")
    assert cabin.panel.page == PreparingPage()
    assert cabin.gate.readiness is Readiness.BEING_PREPARED


needs_window_patch = pytest.mark.skipif(
    not hasattr(KioskWindow, "attach_preparation"),
    reason="KioskWindow.attach_preparation is in /tmp/h2/H15.patch (not applied yet)",
)


@needs_window_patch
async def test_the_window_shows_preparing_instead_of_welcome_until_confirmed(
    tmp_path: Path, window: KioskWindow, qtbot: QtBot
) -> None:
    from app.ui.views import WelcomeView

    clock = FakeClock()
    store = await AsyncStore.open(tmp_path / "data", FileKeySource(tmp_path / "data"), clock)
    try:
        accounts = accounts_on(store, clock)
        staff = await enrol(accounts, "lea.accueil", Role.ASSISTANT)
        gate = PreparationGate(OnSiteService(accounts, clock=clock), "CAB-01", required=True)
        attach = getattr(window, "attach_preparation")  # noqa: B009 - in H15.patch
        panel: PreparingPanel = attach(gate)
        window.present(WelcomeView())
        welcome = window.stack.currentWidget()
        assert welcome is not panel.screen
        gate.session_started()
        gate.session_ended(clock())  # the window hears it and covers welcome
        assert window.stack.currentWidget() is panel.screen
        window.present(WelcomeView())  # the flow's one-second news changes nothing
        assert window.stack.currentWidget() is panel.screen
        qtbot.mouseClick(child(panel.screen, BigButton, "staff"), Qt.MouseButton.LeftButton)  # type: ignore[no-untyped-call]  # pytest-qt: unannotated
        child(panel.screen, QLineEdit, "username").setText("lea.accueil")
        child(panel.screen, QLineEdit, "password").setText(GOOD_PASSWORD)
        child(panel.screen, QLineEdit, "code").setText(code(staff, clock))
        qtbot.mouseClick(child(panel.screen, BigButton, "submit"), Qt.MouseButton.LeftButton)  # type: ignore[no-untyped-call]  # pytest-qt: unannotated
        await panel.idle()
        assert window.stack.currentWidget() is welcome
        assert gate.may_start
    finally:
        await store.close()
