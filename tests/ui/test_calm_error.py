"""The calm error screen keeps its promise: its button closes the session and goes home."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator

import pytest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from app.domain.session_context import State
from app.domain.trace import IncidentCode, TraceKind
from app.ui.error_routes import install_error_routes
from app.ui.main_window import KioskWindow
from app.ui.views import ScreenId
from tests.controller.conftest import Kiosk
from tests.ui.checks import all_texts
from tests.ui.sample_views import CANARY
from tests.ui.test_way_through import Driver


@pytest.fixture
async def way(kiosk: Kiosk, window: KioskWindow, qtbot: QtBot) -> Driver:
    return Driver(kiosk, window, qtbot)


async def test_the_calm_screen_s_button_closes_the_session_and_wipes(way: Driver) -> None:
    await way.to_identification("fr")
    await way.insert_card(CANARY)
    assert way.label("patient-name") == f"Paul {CANARY}"
    session_id = way.k.view.context.session_id
    assert session_id is not None
    way.window.show_calm_error(ZeroDivisionError("boom"))
    QApplication.processEvents()
    assert way.screen() is ScreenId.ERROR
    await way.tap("safe-state")
    assert way.k.view.state is State.WELCOME
    assert way.k.view.context.session_id is None
    assert way.k.view.notice is None  # the person pressed the button: plain welcome
    assert way.screen() is ScreenId.WELCOME
    assert [t for t in all_texts(way.window) if CANARY in t] == []
    record = await way.k.store.session_bundle_source(session_id)
    kinds = [(t.kind, t.incident, t.subject) for t in record.trace]
    assert (TraceKind.INCIDENT, IncidentCode.SOFTWARE_FAULT, "ui-error") in kinds
    assert kinds[-1] == (TraceKind.WIPE, None, "fault")
    assert record.end_reason == "fault"


async def test_the_calm_screen_on_welcome_after_a_fault_goes_back_to_welcome(
    way: Driver,
) -> None:
    way.window.show_calm_error(KeyError("x"))
    QApplication.processEvents()
    assert way.screen() is ScreenId.ERROR
    await way.tap("safe-state")
    assert way.screen() is ScreenId.WELCOME
    assert way.k.view.context.session_id is None


@pytest.fixture
async def routes(window: KioskWindow) -> AsyncIterator[asyncio.AbstractEventLoop]:
    loop = asyncio.get_running_loop()
    hook, handler = sys.excepthook, loop.get_exception_handler()
    install_error_routes(window)
    yield loop
    sys.excepthook = hook
    loop.set_exception_handler(handler)


async def test_an_asyncio_notice_without_an_exception_is_only_logged(
    way: Driver, routes: asyncio.AbstractEventLoop, caplog: pytest.LogCaptureFixture
) -> None:
    await way.to_identification("fr")
    routes.call_exception_handler({"message": "Unclosed client session"})
    QApplication.processEvents()
    assert way.screen() is ScreenId.IDENTIFICATION
    assert "asyncio notice without an exception" in caplog.text
    routes.call_exception_handler({"message": "Task failed", "exception": RuntimeError("x")})
    QApplication.processEvents()
    assert way.screen() is ScreenId.ERROR


async def test_an_error_while_the_calm_screen_shows_is_logged_not_shown_again(
    way: Driver, routes: asyncio.AbstractEventLoop, caplog: pytest.LogCaptureFixture
) -> None:
    """A receiver of the calm screen's own incident fails: Qt calls the excepthook again
    from inside show_calm_error. It must not recurse (the soak saw the interpreter overflow)."""
    failures: list[str] = []

    def failing_receiver(incident: object) -> None:
        failures.append("raised")
        raise RuntimeError("a receiver of the incident fails")

    way.window.incidents.connect(failing_receiver)
    try:
        routes.call_exception_handler({"message": "Task failed", "exception": KeyError("x")})
        QApplication.processEvents()
    finally:
        way.window.incidents.disconnect(failing_receiver)
    assert failures == ["raised"]  # once: the second error was not shown again
    assert "error while showing the calm screen (RuntimeError)" in caplog.text
    assert way.screen() is ScreenId.ERROR
