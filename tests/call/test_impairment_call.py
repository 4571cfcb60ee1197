"""A real call through the impairment relay: all the media cross it, and a 5 s cut is survived.

The kiosk (aiortc, relay-only, its TURN server the relay in front of coturn)
and the doctor's console (headless Chromium, relay-only, coturn directly):
the relay must carry the media both ways, and after a 5 s cut the doctor
must see the kiosk's video again, in the same call.
"""

from __future__ import annotations

import asyncio

import pytest

from app.call.events import Incident, IncidentCode, RemoteMediaStarted
from app.call.session import CallSettings
from app.call.state import CallState
from devtools.netimpair import Drop, ImpairmentRelay, Profile
from devtools.turn import TurnServer
from tests.call.chromium import Chromium, PageError
from tests.call.conftest import doctor_console, start_platform, take_first_patient
from tests.call.netimpair_helpers import relayed_kiosk

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


async def test_the_media_cross_the_relay_and_the_call_survives_a_5s_cut(
    browser: Chromium, turn: TurnServer
) -> None:
    relay = await ImpairmentRelay(turn.port, Profile(delay_s=0.05), seed=17).start()
    platform = await start_platform(ice_servers=(turn.browser_ice_server(),), relay_only=True)
    settings = CallSettings(
        ice_servers=(turn.ice_server(port=relay.port),), relay_only=True, reconnect_s=30.0
    )
    session, log = relayed_kiosk(platform.base, settings, "DEMO-CAB-01-relay")
    try:
        page = await doctor_console(browser, platform.base)
        await session.start()
        await take_first_patient(page)
        await log.wait_for(lambda e: isinstance(e, RemoteMediaStarted) and e.kind == "video", 30)
        await page.wait_for("window.telecabine.firstFrameAt !== null", 15)
        up0, down0 = (relay.impairment.up.counters, relay.impairment.down.counters)
        bytes0 = (up0.delivered_bytes, down0.delivered_bytes)
        await asyncio.sleep(3.0)
        up_rate = (relay.impairment.up.counters.delivered_bytes - bytes0[0]) * 8 / 3.0
        down_rate = (relay.impairment.down.counters.delivered_bytes - bytes0[1]) * 8 / 3.0
        # Video and audio both ways: well over 100 kbit/s each way cross the relay.
        assert up_rate > 100_000 and down_rate > 100_000, (up_rate, down_rate)
        # Chromium computes the pair's RTT from its STUN consent checks (a few seconds apart):
        # on a loaded machine the first may not be back yet. Wait for it, then check it.
        await page.wait_for(
            "window.telecabine.stats().then((s) => s.rtt !== null && s.rtt !== undefined)", 20
        )
        rtt = (await page.evaluate("window.telecabine.stats()"))["rtt"]
        assert rtt is not None and rtt > 0.09  # the relay's 50 ms each way are on the path

        relay.cut(5.0)
        await asyncio.sleep(5.0)
        assert relay.dropped(Drop.CUT) > 100
        frames = (await page.evaluate("window.telecabine.stats()"))["framesDecoded"]
        # The doctor sees the kiosk again (a new connection restarts its counter: either way).
        back = (
            f"(async () => {{ const f = (await window.telecabine.stats()).framesDecoded;"
            f" return f > {frames} + 30 || (f > 30 && f < {frames}); }})()"
        )
        try:
            await page.wait_for(back, 40, 0.2)
        except PageError:
            pytest.fail(f"no video 40 s after the cut; incidents: {log.incidents()}")
        assert session.state is CallState.IN_CALL
        codes = log.incidents()
        assert IncidentCode.MEDIA_STALLED in codes or IncidentCode.QUALITY_POOR in codes
        assert not any(
            isinstance(e, Incident) and e.code is IncidentCode.RECONNECT_TIMEOUT for e in log.events
        )
    finally:
        await asyncio.wait_for(session.hang_up(), 10)
        relay.close()
        await platform.runner.cleanup()
