"""The doctor's page drops and comes back: words for the patient, media both ways again.

Real parts: the platform on loopback, the kiosk's aiortc peer, the doctor's
console in headless Chromium. The doctor closes the page (browser crash,
network), opens the console again and takes the same patient: the kiosk makes
a fresh peer connection, and the doctor's page must decode the patient's
video and play the patient's sound (it did not: aiortc had stopped the
camera and microphone tracks with the old connection).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from app.call.audio import EnergyMeterSink, ToneMicrophone
from app.call.events import (
    ConnectionStatus,
    ConnectionStatusChanged,
    IncidentCode,
)
from app.call.session import CallSession, CallSettings
from app.call.state import CallState
from tests.call.chromium import Chromium, Page
from tests.call.conftest import Platform, doctor_console, take_first_patient
from tests.call.test_call_e2e import browser_stats, connect_call, make_kiosk

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


def statuses(events: Sequence[object]) -> list[ConnectionStatus]:
    return [e.status for e in events if isinstance(e, ConnectionStatusChanged)]


def state_now(session: CallSession) -> CallState:
    """The call's state now: a call, so mypy keeps no `is` narrowing from an earlier read."""
    return session.state


def lost_count(events: Sequence[object]) -> int:
    return statuses(events).count(ConnectionStatus.DOCTOR_LOST)


def back_count(events: Sequence[object]) -> int:
    return statuses(events).count(ConnectionStatus.DOCTOR_BACK)


async def page_receives(page: Page, seconds: float = 2.0) -> tuple[int, float]:
    """New video frames decoded and audio energy played by the page over `seconds`."""
    first = await browser_stats(page)
    await asyncio.sleep(seconds)
    second = await browser_stats(page)
    frames = int(second["framesDecoded"] - first["framesDecoded"])
    energy = float(second["totalAudioEnergy"] - first["totalAudioEnergy"])
    print(f"page over {seconds:g} s: {frames} frames decoded, audio energy {energy:.4f}")
    return frames, energy


async def test_after_a_rejoin_the_doctor_sees_and_hears_the_patient(
    browser: Chromium, platform: Platform
) -> None:
    speaker = EnergyMeterSink()
    session, log = make_kiosk(
        platform.base, ToneMicrophone(), speaker, CallSettings(reconnect_s=30.0)
    )
    page = await connect_call(browser, platform, session, log)
    frames, energy = await page_receives(page, 1.5)
    assert frames > 5 and energy > 0  # the first connection, as a reference

    await page.close()
    lost = await log.wait_for(lambda e: isinstance(e, ConnectionStatusChanged), 10)
    assert lost == ConnectionStatusChanged(ConnectionStatus.DOCTOR_LOST, 30.0)
    assert session.state is CallState.RECONNECTING
    await asyncio.sleep(1.0)  # the kiosk waits; nothing ends
    assert statuses(log.events) == [ConnectionStatus.DOCTOR_LOST]

    page = await doctor_console(browser, platform.base)
    await take_first_patient(page)
    await log.wait_for(
        lambda e: (
            isinstance(e, ConnectionStatusChanged) and e.status is ConnectionStatus.DOCTOR_BACK
        ),
        20,
    )
    assert statuses(log.events) == [ConnectionStatus.DOCTOR_LOST, ConnectionStatus.DOCTOR_BACK]
    assert state_now(session) is CallState.IN_CALL
    await page.wait_for(
        "window.telecabine.pc && window.telecabine.pc.connectionState === 'connected'"
    )
    # Both ways after the rejoin: the page decodes the patient's video and plays the sound...
    await page.wait_for("window.telecabine.stats().then((s) => s.framesDecoded > 0)", 10)
    frames, energy = await page_receives(page, 2.0)
    assert frames > 5
    assert energy > 0
    # ... and the kiosk receives the doctor's.
    before_video, before_audio = session.remote_video.total, speaker.samples
    await asyncio.sleep(1.0)
    assert session.remote_video.total > before_video + 5
    assert speaker.samples > before_audio
    assert IncidentCode.RECONNECT_TIMEOUT not in log.incidents()
    await session.hang_up()
    await page.wait_for("window.telecabine.ended === true", 5)


async def test_a_second_rejoin_still_carries_media(browser: Chromium, platform: Platform) -> None:
    """Each reconnection takes a fresh hold on the camera and microphone, not only the first."""
    session, log = make_kiosk(
        platform.base, ToneMicrophone(), EnergyMeterSink(), CallSettings(reconnect_s=30.0)
    )
    page = await connect_call(browser, platform, session, log)
    for n in (1, 2):
        await page.close()
        await log.wait_for(lambda e, n=n: lost_count(log.events) == n, 10)
        page = await doctor_console(browser, platform.base)
        await take_first_patient(page)
        await log.wait_for(lambda e, n=n: back_count(log.events) == n, 20)
        await page.wait_for("window.telecabine.stats().then((s) => s.framesDecoded > 5)", 20)
    frames, energy = await page_receives(page, 1.5)
    assert frames > 5 and energy > 0
    assert statuses(log.events) == [ConnectionStatus.DOCTOR_LOST, ConnectionStatus.DOCTOR_BACK] * 2
    await session.hang_up()
