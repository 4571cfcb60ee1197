"""Faults on real peers: signalling cut mid-call, packet loss, the doctor's page closed.

Every fault must show as typed incidents, in order, and end either in a
restored call or in the degraded path (CallEnded with a degraded reason).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from app.call.audio import EnergyMeterSink, ToneMicrophone
from app.call.events import (
    CallEnded,
    EndReason,
    Incident,
    IncidentCode,
    QualityChanged,
    StateChanged,
)
from app.call.quality import QualityLevel
from app.call.session import CallSettings
from app.call.state import CallState
from devtools.turn import TurnServer
from tests.call.chromium import Chromium
from tests.call.conftest import Platform, doctor_console, start_platform, take_first_patient
from tests.call.netfaults import TcpProxy, UdpLossProxy
from tests.call.test_call_e2e import connect_call, make_kiosk

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90)]


def codes_in_order(events: Sequence[object], wanted: list[IncidentCode]) -> bool:
    seen = iter(e.code for e in events if isinstance(e, Incident))
    return all(code in seen for code in wanted)


async def test_signalling_cut_mid_call_reconnects_and_media_keeps_flowing(
    browser: Chromium, platform: Platform
) -> None:
    port = int(platform.base.rsplit(":", 1)[1])
    proxy = await TcpProxy(port).start()
    try:
        session, log = make_kiosk(
            f"http://127.0.0.1:{proxy.port}", ToneMicrophone(), EnergyMeterSink()
        )
        page = await connect_call(browser, platform, session, log)
        frames_before = session.remote_video.total
        proxy.cut()
        await log.wait_for(
            lambda e: isinstance(e, Incident) and e.code is IncidentCode.SIGNALLING_RESTORED, 10
        )
        assert codes_in_order(
            log.events, [IncidentCode.SIGNALLING_LOST, IncidentCode.SIGNALLING_RESTORED]
        )
        assert proxy.links == 2
        await asyncio.sleep(1.0)
        assert session.state is CallState.IN_CALL
        assert session.remote_video.total > frames_before + 15
        # Signalling works again: the doctor's hang-up reaches the kiosk.
        await page.evaluate("document.getElementById('hangup').click(); true")
        ended = await asyncio.wait_for(session.wait_ended(), 5)
        assert ended.reason is EndReason.DOCTOR_HUNG_UP
        assert IncidentCode.RECONNECTING not in log.incidents()
    finally:
        await proxy.close()


async def test_packet_loss_makes_quality_poor_and_falls_back_to_audio(
    browser: Chromium, turn: TurnServer
) -> None:
    lossy = await UdpLossProxy(turn.port).start()
    platform = await start_platform(ice_servers=(turn.browser_ice_server(),), relay_only=True)
    try:
        settings = CallSettings(
            ice_servers=(turn.ice_server(port=lossy.port),),
            relay_only=True,
            reconnect_s=10.0,
            media_stall_s=8.0,
        )
        session, log = make_kiosk(platform.base, ToneMicrophone(), EnergyMeterSink(), settings)
        page = await connect_call(browser, platform, session, log)
        lossy.loss = 0.3
        await log.wait_for(
            lambda e: isinstance(e, Incident) and e.code is IncidentCode.AUDIO_ONLY_FALLBACK, 20
        )
        assert codes_in_order(
            log.events, [IncidentCode.QUALITY_POOR, IncidentCode.AUDIO_ONLY_FALLBACK]
        )
        poor = [
            e for e in log.events if isinstance(e, QualityChanged) and e.level is QualityLevel.POOR
        ]
        assert poor and poor[0].sample.loss > 0.1
        assert session.audio_only
        # The doctor's console is told, and stops its own video too.
        await page.wait_for("window.telecabine.remoteMedia.audio_only === true", 10)
        assert "audio seul" in await page.evaluate(
            "document.getElementById('remote-media').textContent"
        )
        assert lossy.dropped > 0
        lossy.loss = 0.0
        await session.hang_up()
    finally:
        lossy.close()
        await platform.runner.cleanup()


async def test_doctor_page_closed_ends_in_degraded_path_after_reconnect_window(
    browser: Chromium, platform: Platform
) -> None:
    session, log = make_kiosk(
        platform.base, ToneMicrophone(), EnergyMeterSink(), CallSettings(reconnect_s=3.0)
    )
    page = await connect_call(browser, platform, session, log)
    await page.close()
    ended = await asyncio.wait_for(session.wait_ended(), 10)
    assert ended == CallEnded(EndReason.RECONNECT_TIMEOUT, ())
    assert ended.degraded
    assert codes_in_order(
        log.events,
        [IncidentCode.DOCTOR_LEFT, IncidentCode.RECONNECTING, IncidentCode.RECONNECT_TIMEOUT],
    )
    states = [e.state for e in log.events if isinstance(e, StateChanged)]
    assert states == [
        CallState.WAITING,
        CallState.CONNECTING,
        CallState.IN_CALL,
        CallState.RECONNECTING,
        CallState.ENDED,
    ]


async def test_doctor_page_closed_then_back_reconnects_the_call(
    browser: Chromium, platform: Platform
) -> None:
    session, log = make_kiosk(
        platform.base, ToneMicrophone(), EnergyMeterSink(), CallSettings(reconnect_s=15.0)
    )
    page = await connect_call(browser, platform, session, log)
    await page.close()
    await log.wait_for(lambda e: isinstance(e, Incident) and e.code is IncidentCode.DOCTOR_LEFT, 5)
    page = await doctor_console(browser, platform.base)
    await take_first_patient(page)
    await log.wait_for(lambda e: isinstance(e, Incident) and e.code is IncidentCode.RECONNECTED, 15)
    # RECONNECTING comes between when the new page takes longer than the kiosk's look
    # (PEER_LEFT_CONFIRM_S) or the media stall; a fast rejoin goes straight to a new offer.
    assert codes_in_order(
        log.events,
        [IncidentCode.DOCTOR_LEFT, IncidentCode.DOCTOR_RETURNED, IncidentCode.RECONNECTED],
    )
    assert session.state is CallState.IN_CALL
    before = session.remote_video.total
    await asyncio.sleep(1.0)
    assert session.remote_video.total > before + 10
    await page.wait_for(
        "window.telecabine.pc && window.telecabine.pc.connectionState === 'connected'"
    )
    await session.hang_up()
    await page.wait_for("window.telecabine.ended === true", 5)


async def test_platform_unreachable_before_the_call_is_the_degraded_path() -> None:
    import socket

    with socket.socket() as s:  # a loopback port with nobody listening
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    speaker = EnergyMeterSink()
    session, log = make_kiosk(
        f"http://127.0.0.1:{port}", ToneMicrophone(), speaker, CallSettings(reconnect_s=1.0)
    )
    await session.start()
    ended = await asyncio.wait_for(session.wait_ended(), 5)
    assert ended == CallEnded(EndReason.SIGNALLING_UNREACHABLE, ())
    assert ended.degraded
    assert log.incidents() == [IncidentCode.SIGNALLING_UNREACHABLE]
    assert not speaker.opened
