"""The Help page's "Appeler quelqu'un" through the window, the binding and the real controller.

The call rings the reference platform's on-site routes (in process, the cabin's
real token; tests/platform/test_onsite.py); the page says what happened in the
patient's language, "someone is coming" once the counter answers, and closing
Help ends the call (issue 15; docs/onsite.md).
"""

from __future__ import annotations

import re

import pytest
from pytestqt.qtbot import QtBot

from app.domain.session_context import State
from app.domain.trace import TraceKind
from app.ui.main_window import KioskWindow
from app.ui.views import ScreenId
from app.ui.widgets.buttons import BigButton
from tests.controller.conftest import Kiosk
from tests.platform.test_onsite import World, _counter_sign_in, world  # noqa: F401
from tests.ui.test_way_through import Driver

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
async def way(kiosk: Kiosk, window: KioskWindow, qtbot: QtBot) -> Driver:
    return Driver(kiosk, window, qtbot)


async def test_help_calls_someone_says_who_comes_and_ends_when_closed(
    way: Driver,
    world: World,  # noqa: F811 - the fixture imported above
) -> None:
    c = way.k.controller
    c.attach_preparation(None, world.client(webhook=False))
    await way.to_identification("fr")
    await way.tap("help")
    assert way.screen() is ScreenId.HELP
    await way.tap("help-call")
    assert way.label("help-call-status") == way.window.t("help.call.called")
    shown = [
        b for b in way.window.findChildren(BigButton, "help-call") if b.isVisibleTo(way.window)
    ]
    assert shown == []  # one call at a time: the sentence replaces the button
    staff = await _counter_sign_in(world.base_url, "lea.accueil", "comptoir-lea-2026")
    try:
        async with staff.get(world.base_url + "/counter") as page:
            [ack] = re.findall(r'action="(/counter/ack/[^"]+)"', await page.text())
        async with staff.post(world.base_url + ack) as r:
            assert r.status == 200
    finally:
        await staff.close()
    way.k.clock.advance(5)
    await c.tick()
    await c.help_idle()
    assert way.screen() is ScreenId.HELP
    assert way.label("help-call-status") == way.window.t("help.call.coming")
    await way.tap("help-close")
    await way.binding.idle()
    assert way.screen() is ScreenId.IDENTIFICATION and way.k.view.help_call is None
    assert way.k.view.state is State.IDENTIFICATION
    session_id = way.k.view.context.session_id
    assert session_id is not None
    assert [act for _a, act, _c, _w in world.onsite.trace if act.startswith("help.")] == [
        "help.call",
        "help.acknowledged",
        "help.ended",
    ]
    await way.tap("stop")
    await way.tap("stop-confirm")
    record = await way.k.store.session_bundle_source(session_id)
    ended = [t for t in record.trace if t.kind is TraceKind.HELP_ENDED]
    assert [t.message for t in ended] == ["why=closed"]


async def test_with_nobody_to_call_the_page_sends_the_patient_to_the_counter(
    way: Driver,
) -> None:
    await way.tap("help")  # from the welcome screen
    await way.tap("help-call")
    assert way.label("help-call-status") == way.window.t("help.call.offline")
    await way.tap("help-close")
    assert way.screen() is ScreenId.WELCOME and way.k.view.help_call is None
