"""The kiosk's CallSession cancels the echo of what the doctor's console sends, in a real call.

Real parts: the platform on loopback, the kiosk's CallSession as the cabin
builds it, the doctor's console in headless Chromium (its fake microphone
speaks). The kiosk's speaker and microphone are the simulated cabin
(tests/call/test_echo_room.py): the doctor's voice (espeak-ng, fed to
Chromium's fake microphone from a file), played by the kiosk,
comes back into the kiosk's microphone through the room. The session's
microphone level (`microphone_level_dbfs`, measured on what the outgoing
track sends) must sit far below what the microphone heard.
"""

from __future__ import annotations

import asyncio
import math
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest

from app.call.audio import SILENCE_DBFS
from app.call.session import CallSession, CallSettings
from app.call.signalling import WebSocketSignalling
from app.call.video import TestPatternSource
from tests.call.chromium import CHROMIUM, Chromium
from tests.call.conftest import EventLog, Platform, require_program
from tests.call.test_call_e2e import SUMMARY, connect_call
from tests.call.test_echo_room import (
    DOCTOR,
    Room,
    RoomMicrophone,
    RoomSpeaker,
    require_speech_tools,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90)]


@pytest.fixture
async def speaking_doctor(tmp_path: Path) -> AsyncIterator[Chromium]:
    """Chromium whose fake microphone says the doctor's words (in a loop)."""
    require_program(CHROMIUM, "chromium")
    require_speech_tools()
    wav = tmp_path / "doctor.wav"
    subprocess.run(
        ["espeak-ng", "-v", "fr", "-p", "40", "-s", "150", "-w", str(tmp_path / "raw.wav"), DOCTOR],
        check=True,
    )
    subprocess.run(["sox", str(tmp_path / "raw.wav"), "-r", "48000", str(wav)], check=True)
    chromium = await Chromium(extra_flags=(f"--use-file-for-fake-audio-capture={wav}",)).start()
    yield chromium
    await chromium.close()


def power(dbfs: float) -> float:
    return 0.0 if dbfs <= SILENCE_DBFS else 10 ** (dbfs / 10)


async def test_the_call_sends_the_microphone_without_the_doctors_echo(
    speaking_doctor: Chromium, platform: Platform
) -> None:
    speaker = RoomSpeaker()
    microphone = RoomMicrophone(Room(), speaker, np.zeros(120 * 48_000))
    session = CallSession(  # as tests/call/test_call_e2e.make_kiosk, with the cabin's room
        signalling=WebSocketSignalling(platform.base),
        session_id="DEMO-CAB-01-s1",
        cabin_id="DEMO-CAB-01",
        camera=TestPatternSource(),
        microphone=microphone,
        speaker=speaker,
        settings=CallSettings(reconnect_s=5.0),
        summary=SUMMARY,
    )
    log = EventLog()
    session.add_listener(log)
    page = await connect_call(speaking_doctor, platform, session, log)
    try:
        await asyncio.sleep(3.0)  # the doctor's voice reaches the room; the canceller converges
        heard: list[float] = []
        sent: list[float] = []
        for _ in range(250):  # 5 s, one look per block
            await asyncio.sleep(0.02)
            last = microphone.recorded[-1].astype(np.float64) / 32768.0
            heard.append(power(float(10 * np.log10(np.mean(last**2) + 1e-15))))
            sent.append(power(session.microphone_level_dbfs))
    finally:
        await page.close()
        await session.hang_up()
    heard_db = 10 * math.log10(sum(heard) / len(heard))
    sent_db = 10 * math.log10(max(sum(sent), 1e-15) / len(sent))
    print(f"\nthe room's echo at the microphone {heard_db:.1f} dBFS, sent {sent_db:.1f} dBFS")
    assert heard_db > -50.0, (
        "the doctor's sound must reach the microphone for this to mean anything"
    )
    assert heard_db - sent_db > 20.0
