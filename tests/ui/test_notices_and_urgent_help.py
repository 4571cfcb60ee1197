"""Urgent help from any screen, the store-delayed banner, sign-in messages, incidents traced."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest
from PySide6.QtWidgets import QApplication, QLabel
from pytestqt.qtbot import QtBot

from app.controller.view import Notice
from app.domain import session_events as ev
from app.domain.session_context import State
from app.domain.trace import IncidentCode, TraceKind
from app.maintenance.errors import AuthFailure
from app.ui.binding import ControllerBinding
from app.ui.main_window import KioskWindow
from app.ui.presenter import Presenter, Site, Submit
from app.ui.views import Intent, IntentKind, ProfessionalLoginView, ScreenId
from drivers import events as dev
from tests.controller.conftest import Kiosk
from tests.ui.checks import clipping_problems
from tests.ui.test_way_through import Driver


@pytest.fixture
async def way(kiosk: Kiosk, window: KioskWindow, qtbot: QtBot) -> Driver:
    return Driver(kiosk, window, qtbot)


def _numbers(way: Driver) -> list[str]:
    return [
        lab.text()
        for lab in way.window.current_screen.findChildren(QLabel, "number")
        if lab.isVisibleTo(way.window)
    ]


async def test_urgent_help_from_the_consent_screen_shows_15_114_112(way: Driver) -> None:
    await way.to_identification("en")
    await way.insert_card()
    await way.tap("yes")
    assert way.screen() is ScreenId.CONSENT
    await way.tap("urgent-help")
    assert way.screen() is ScreenId.EMERGENCY_EXIT
    assert _numbers(way) == ["15", "114", "112"]
    assert not way.window.bar.urgent.isVisibleTo(way.window)
    await way.tap("finish")
    assert way.screen() is ScreenId.TAKE_CARD  # the card is still in: asked back first
    await way.k.controller.device_event(dev.CardRemoved("reader-1"))
    await way.until(State.WELCOME)
    assert way.screen() is ScreenId.WELCOME


async def test_urgent_help_on_the_welcome_screen_opens_a_session_to_say_where(
    way: Driver,
) -> None:
    await way.tap("urgent-help")
    assert way.k.view.state is State.EMERGENCY_EXIT
    assert _numbers(way) == ["15", "114", "112"]
    session_id = way.k.view.context.session_id
    await way.tap("finish")
    assert session_id is not None
    record = await way.k.store.session_bundle_source(session_id)
    assert TraceKind.EMERGENCY_EXIT in [t.kind for t in record.trace]


async def test_urgent_help_over_the_stop_question(way: Driver) -> None:
    await way.to_identification("fr")
    await way.tap("stop")
    await way.tap("urgent-help")
    assert way.screen() is ScreenId.EMERGENCY_EXIT


async def test_the_store_delayed_notice_shows_the_banner(kiosk: Kiosk, window: KioskWindow) -> None:
    presenter = Presenter(Site(), kiosk.clock)
    sv = replace(kiosk.view, notice=Notice.STORE_DELAYED)
    assert presenter.presentation(sv).notice == "store-delayed"
    assert presenter.presentation(kiosk.view).notice is None
    window.present(presenter.view_for(kiosk.view), presenter.presentation(sv))
    QApplication.processEvents()
    assert window.notice.isVisibleTo(window)
    assert window.notice_text.text() == window.t("notice.store-delayed")


@pytest.mark.parametrize("lang", ["fr", "en", "ar"])
@pytest.mark.parametrize("large", [False, True])
def test_the_banner_fits_in_every_language_and_size(
    window: KioskWindow, lang: str, large: bool
) -> None:
    from app.ui.views import Presentation
    from tests.ui.sample_views import sample_views

    for name in ("consent", "manual-identity-errors", "call"):
        window.present(sample_views()[name], Presentation(lang, large, large, "store-delayed"))
        QApplication.processEvents()
        assert clipping_problems(window) == [], name


def test_the_locked_message_comes_from_the_typed_reason(kiosk: Kiosk) -> None:
    presenter = Presenter(Site(), kiosk.clock)
    identify = Intent(IntentKind.CHOOSE_METHOD, "professional")
    sv = replace(
        kiosk.view,
        context=replace(kiosk.view.context, session_id="s1"),
        state=State.IDENTIFICATION,
        assistant=None,
    )
    presenter.actions_for(identify, sv)
    for reason, expected in [
        (AuthFailure.LOCKED, "login.locked"),
        (AuthFailure.BAD_CODE, "login.failed"),
        (AuthFailure.UNKNOWN_USER, "login.failed"),
        (None, "login.failed"),
    ]:
        presenter.signed_in(False, reason)
        view = presenter.view_for(sv)
        assert isinstance(view, ProfessionalLoginView)
        assert view.error is not None and view.error.id == expected, reason
    presenter.signed_in(False, locked=True)  # the old guess from the words is ignored
    view = presenter.view_for(sv)
    assert isinstance(view, ProfessionalLoginView)
    assert view.error is not None
    assert view.error.id == "login.failed"


def test_urgent_help_is_one_choice_in_a_session_and_two_on_the_welcome_screen(
    kiosk: Kiosk,
) -> None:
    presenter = Presenter(Site(), kiosk.clock)
    urgent = Intent(IntentKind.URGENT_HELP)
    on = {s: replace(kiosk.view, state=s) for s in State}
    assert presenter.actions_for(urgent, on[State.WELCOME]) == [
        Submit(ev.Begin),
        Submit(ev.EmergencyDeclared),
    ]
    assert presenter.actions_for(urgent, on[State.CALL]) == [Submit(ev.EmergencyDeclared)]
    assert presenter.actions_for(urgent, on[State.EMERGENCY_EXIT]) == []


async def test_a_screen_error_is_traced_through_the_binding_s_incident_hook(
    kiosk: Kiosk, window: KioskWindow
) -> None:
    c = kiosk.controller
    pending: list[asyncio.Future[bool]] = []
    binding = ControllerBinding(
        c,
        window,
        Presenter(Site(), kiosk.clock),
        on_incident=lambda i: pending.append(
            asyncio.ensure_future(c.record_incident(i.incident_code))
        ),
    )
    assert (await c.submit(ev.Begin)).accepted
    session_id = kiosk.view.context.session_id
    window.show_calm_error(ZeroDivisionError("boom"))
    assert await asyncio.wait_for(asyncio.gather(*pending), 5) == [True]
    assert (await c.submit(ev.StopRequested)).accepted
    assert (await c.submit(ev.StopConfirmed)).accepted
    binding.close()
    assert session_id is not None
    record = await kiosk.store.session_bundle_source(session_id)
    assert [t.incident for t in record.trace if t.kind is TraceKind.INCIDENT] == [
        IncidentCode.UI_ERROR
    ]
