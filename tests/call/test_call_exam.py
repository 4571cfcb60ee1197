"""The doctor examines through the call: stethoscope heard, otoscope seen, a still kept.

Real peers as in test_call_e2e: the kiosk's aiortc peer, the platform on
loopback and the real console page in headless Chromium. The devices are the
simulators, through the seams the real ones use (an `AudioSource`, a
`FrameSource`). What the doctor hears is measured in the page: the received
stethoscope track's spectrum (WebAudio) must keep the heart sounds' band
(40–120 Hz) well above the rest — no echo canceller, no speech high-pass.
"""

from __future__ import annotations

import asyncio
from typing import Any

import cv2
import numpy as np
import pytest

from app.call.audio import EnergyMeterSink, ToneMicrophone
from app.call.events import ExamDeviceChanged, ExamStillKept
from app.call.exam import SimulatedOtoscope, SimulatedStethoscope
from app.call.exam_still import ExamDevice
from app.call.session import CallSession, CallSettings
from app.call.signalling import WebSocketSignalling
from tests.call.chromium import Chromium, Page
from tests.call.conftest import EventLog, Platform
from tests.call.test_call_e2e import SUMMARY, connect_call

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


def band(spectrum: dict[str, Any], low: float, high: float) -> np.ndarray[Any, Any]:
    db = np.asarray(spectrum["db"], dtype=np.float64)
    hz = np.arange(db.size) * float(spectrum["binHz"])
    picked: np.ndarray[Any, Any] = db[(hz >= low) & (hz <= high)]
    return picked


async def click(page: Page, element_id: str) -> None:
    await page.evaluate(f"document.getElementById({element_id!r}).click(); true")


async def test_doctor_hears_the_stethoscope_sees_the_otoscope_and_keeps_a_still(
    browser: Chromium, platform: Platform
) -> None:
    stethoscope, otoscope = SimulatedStethoscope(bpm=90), SimulatedOtoscope()
    session = CallSession(
        signalling=WebSocketSignalling(platform.base),
        session_id="DEMO-CAB-01-exam",
        cabin_id="DEMO-CAB-01",
        camera=SimulatedOtoscope(),  # any picture: the face is not what is checked here
        microphone=ToneMicrophone(523.0, amplitude=0.1),
        speaker=EnergyMeterSink(),
        settings=CallSettings(reconnect_s=5.0),
        summary=SUMMARY,
        stethoscope=stethoscope,
        otoscope=otoscope,
    )
    log = EventLog()
    session.add_listener(log)
    page = await connect_call(browser, platform, session, log)

    # The console learns the cabin has both devices; nothing flows before the doctor asks.
    await page.wait_for("!document.getElementById('stetho-toggle').hidden")
    assert not await page.evaluate("document.getElementById('otoscope-toggle').hidden")
    mids = await page.evaluate("window.telecabine.exam.mids")
    assert mids["stethoscope"] and mids["otoscope"] and mids["stethoscope"] != mids["otoscope"]
    assert not stethoscope.is_open and not otoscope.is_open

    # Stethoscope on: the kiosk opens it and feeds its own track.
    await click(page, "stetho-toggle")
    await log.wait_for(lambda e: e == ExamDeviceChanged(ExamDevice.STETHOSCOPE.value, True), 5)
    assert stethoscope.is_open
    await page.wait_for("window.telecabine.exam.on.stethoscope === true")
    await page.wait_for(
        f"window.telecabine.examStats().then(s => (s[{mids['stethoscope']!r}] || {{}})"
        ".totalAudioEnergy > 0)"
    )
    spectrum = await page.evaluate("window.telecabine.stethoSpectrum(3000)", timeout=20)
    assert spectrum is not None
    low = float(band(spectrum, 35, 48).max())  # the lowest heart sound (40 Hz)
    s2 = float(band(spectrum, 110, 130).max())  # the second sound's 120 Hz
    heart = float(band(spectrum, 35, 130).max())
    rest = float(np.median(band(spectrum, 400, 2000)))
    print(
        f"stethoscope received: 35–48 Hz {low:.1f} dB, 110–130 Hz {s2:.1f} dB, "
        f"35–130 Hz {heart:.1f} dB, 400–2000 Hz median {rest:.1f} dB"
    )
    assert heart - rest > 30, (heart, rest)
    assert low - rest > 25, (low, rest)
    # The balance of the heart sounds is kept: in the simulator 40 Hz stands 6.5 dB over
    # 120 Hz (same analysis: 16384-point Blackman, max-hold); a speech high-pass (Opus
    # "voip") would turn that round by about 10 dB.
    assert 3.0 < low - s2 < 10.0, (low, s2)

    # Otoscope on: a second video the doctor sees beside the face, or instead of it.
    await click(page, "otoscope-toggle")
    await log.wait_for(lambda e: e == ExamDeviceChanged(ExamDevice.OTOSCOPE.value, True), 5)
    await page.wait_for(
        f"window.telecabine.examStats().then(s => (s[{mids['otoscope']!r}] || {{}})"
        ".framesDecoded > 10)",
        timeout=20,
    )
    await page.wait_for("(window.telecabine.otoscopePicture() || {}).width === 640")
    picture = await page.evaluate("window.telecabine.otoscopePicture()")
    r, g, b = picture["centre"]
    assert min(r, g, b) > 150 and abs(r - b) < 40, picture  # the pearly eardrum
    r, g, b = picture["rim"]
    assert r > g + 25 and r > b + 20, picture  # the pink canal wall
    assert not await page.evaluate("document.getElementById('remote-video').hidden")
    await click(page, "exam-layout")
    assert await page.evaluate(
        "getComputedStyle(document.getElementById('remote-video')).display === 'none'"
    )

    # A still: the console asks, the kiosk keeps it and says so.
    await click(page, "still")
    kept = await log.wait_for(lambda e: isinstance(e, ExamStillKept), 5)
    assert isinstance(kept, ExamStillKept)
    await page.wait_for("window.telecabine.exam.stills[0].state === 'kept'")
    assert "gardée" in await page.evaluate("document.getElementById('stills').textContent")
    image = cv2.imdecode(np.frombuffer(kept.still.jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert image.shape == (480, 640, 3)
    assert session.stills == (kept.still,)

    # Off again: the devices are closed, and a still is refused with a reason.
    await click(page, "stetho-toggle")
    await click(page, "otoscope-toggle")
    await page.wait_for(
        "!window.telecabine.exam.on.stethoscope && !window.telecabine.exam.on.otoscope"
    )
    await asyncio.sleep(0.2)
    assert not stethoscope.is_open and not otoscope.is_open
    assert await page.evaluate("document.getElementById('still').disabled")
    await session.hang_up()
    assert log.incidents() == []
