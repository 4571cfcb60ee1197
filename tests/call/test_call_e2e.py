"""End to end: the kiosk's aiortc peer and the doctor's console in headless Chromium.

Real peers, real platform on loopback, real coturn for the relay run; the
kiosk's camera is the generated pattern, its microphone ALSA's file plugin
(a 523 Hz tone), its speaker a sink that measures the energy it receives.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import TypedDict

import pytest

from app.call.audio import AudioSource, EnergyMeterSink
from app.call.events import (
    CallEnded,
    DoctorIdentified,
    DocumentReceived,
    EndReason,
    RemoteMediaStarted,
    TextReceived,
)
from app.call.messages import DoctorIdentity
from app.call.session import CallSession, CallSettings
from app.call.signalling import WebSocketSignalling
from app.call.state import CallState
from app.call.video import TestPatternSource
from app.sync.transport import CabinAuth, CabinCredential
from devtools.platform.cabins import Cabin, CabinRegistry
from devtools.platform.signalling import TurnRest
from devtools.turn import TURNSERVER, TurnServer
from tests.call.chromium import Chromium, Page
from tests.call.conftest import (
    EventLog,
    Platform,
    doctor_console,
    require_program,
    start_platform,
    take_first_patient,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90)]

SUMMARY = {
    "identity": {
        "display_name": "DUPONT Jeanne",
        "birth_date": "1950-03-02",
        "sex": "female",
        "status": "QUAL",
        "method": "CV",
    },
    "consent": {"teleconsultation": True, "data_sharing": True, "assistance": False},
    "cabin": {"site": "Pharmacie de démonstration", "city": "Paris", "insee_code": "75056"},
    "orientation": {"médecin traitant": "oui, absent"},
    "measurements": [],
}
MARTIN = DoctorIdentity("Dr Claire Martin", "10003456789", "Médecine générale")


def make_kiosk(
    base: str,
    microphone: AudioSource,
    speaker: EnergyMeterSink,
    settings: CallSettings | None = None,
    session_id: str = "DEMO-CAB-01-s1",
    auth: CabinAuth | None = None,
) -> tuple[CallSession, EventLog]:
    session = CallSession(
        signalling=WebSocketSignalling(base, auth=auth),
        session_id=session_id,
        cabin_id="DEMO-CAB-01",
        camera=TestPatternSource(),
        microphone=microphone,
        speaker=speaker,
        settings=settings or CallSettings(reconnect_s=5.0),
        summary=SUMMARY,
    )
    log = EventLog()
    session.add_listener(log)
    return session, log


class BrowserStats(TypedDict):
    """What the console's `telecabine.stats()` returns (devtools/platform/console/console.js)."""

    framesDecoded: float
    framesPerSecond: float
    totalAudioEnergy: float
    audioLevel: float
    packetsLost: float
    packetsReceived: float
    rtt: float | None
    candidateType: str | None
    frameWidth: float
    codec: str | None


async def browser_stats(page: Page) -> BrowserStats:
    stats: BrowserStats = await page.evaluate("window.telecabine.stats()")
    return stats


@dataclass(frozen=True)
class FrameFlow:
    """Frames received at each end over the same window (the rates are printed, not judged)."""

    kiosk_frames: int
    page_frames: int
    seconds: float

    def report(self, label: str) -> None:
        print(
            f"{label}: kiosk received {self.kiosk_frames} frames "
            f"({self.kiosk_frames / self.seconds:.1f}/s), page decoded {self.page_frames} "
            f"({self.page_frames / self.seconds:.1f}/s) over {self.seconds:.2f} s"
        )

    def assert_flowing(self) -> None:
        # Video flows both ways: a handful of new frames at each end, not a speed.
        assert self.kiosk_frames > 5 and self.page_frames > 5, self


async def measure_both_ends(session: CallSession, page: Page, seconds: float) -> FrameFlow:
    """New frames received at the kiosk and decoded in the page over the same window."""
    k0, b0, t0 = (
        session.remote_video.total,
        (await browser_stats(page))["framesDecoded"],
        time.monotonic(),
    )
    await asyncio.sleep(seconds)
    k1, b1, t1 = (
        session.remote_video.total,
        (await browser_stats(page))["framesDecoded"],
        time.monotonic(),
    )
    return FrameFlow(int(k1 - k0), int(b1 - b0), t1 - t0)


async def connect_call(
    browser: Chromium, platform: Platform, session: CallSession, log: EventLog
) -> Page:
    page = await doctor_console(browser, platform.base)
    await session.start()
    await take_first_patient(page)
    await log.wait_for(lambda e: isinstance(e, RemoteMediaStarted) and e.kind == "video", 15)
    await page.wait_for(
        "window.telecabine.pc && window.telecabine.pc.connectionState === 'connected'"
    )
    return page


async def test_call_both_ways_direct(
    browser: Chromium, platform: Platform, alsa_microphone: AudioSource
) -> None:
    speaker = EnergyMeterSink()
    session, log = make_kiosk(platform.base, alsa_microphone, speaker)
    page = await connect_call(browser, platform, session, log)

    # The doctor's identity, as the platform asserts it, came before any media.
    kinds = [type(e) for e in log.events]
    assert kinds.index(DoctorIdentified) < kinds.index(RemoteMediaStarted)
    assert session.doctor == MARTIN
    # The console shows the patient panel the kiosk chose to share, in words (an older
    # kiosk's codes too: "QUAL" is shown as "identité qualifiée").
    await page.wait_for(
        "document.getElementById('patient-panel').textContent.includes('identité qualifiée')"
    )
    await session.update_summary(
        {
            "measurements": [
                {"kind": "temperature", "value": 37.4, "unit": "°C", "at": "10:02", "how": "device"}
            ]
        }
    )
    await page.wait_for("document.getElementById('measurements').textContent.includes('37,4 °C')")

    flow = await measure_both_ends(session, page, 3.0)
    flow.report("direct call")
    flow.assert_flowing()
    stats = await browser_stats(page)
    assert stats["codec"] == "video/VP8"
    assert stats["frameWidth"] == 640
    # Audio energy at both ends: the doctor's fake microphone beeps, ours plays a tone.
    assert speaker.peak_dbfs > -60, speaker.peak_dbfs
    energy0 = stats["totalAudioEnergy"]
    await asyncio.sleep(0.5)
    assert (await browser_stats(page))["totalAudioEnergy"] > energy0 > 0

    # Text both ways over the data channel.
    await page.evaluate(
        "document.getElementById('chat-input').value = 'Bonjour, je vous entends bien.';"
        "document.getElementById('chat-send').click(); true"
    )
    text = await log.wait_for(lambda e: isinstance(e, TextReceived), 5)
    assert text == TextReceived(text="Bonjour, je vous entends bien.", sender="doctor")
    await session.send_text("Moi aussi, merci docteur.")
    await page.wait_for(
        "document.getElementById('chat-log').textContent.includes('Patient : Moi aussi, merci docteur.')"
    )

    # Mute is seen by the doctor.
    session.set_muted(True)
    await page.wait_for("window.telecabine.remoteMedia.muted === true")
    assert "micro du patient coupé" in await page.evaluate(
        "document.getElementById('remote-media').textContent"
    )

    # Documents at the end, then the doctor hangs up.
    await page.evaluate(
        "document.getElementById('doc-kind').value = 'prescription';"
        "document.getElementById('doc-title').value = 'Ordonnance';"
        "document.getElementById('doc-text').value = 'Paracétamol 1 g, 3 fois par jour, 3 jours.';"
        "document.getElementById('doc-send').click(); true"
    )
    received = await log.wait_for(lambda e: isinstance(e, DocumentReceived), 5)
    assert isinstance(received, DocumentReceived)
    assert (received.document.kind.value, received.document.title, received.document.text) == (
        "prescription",
        "Ordonnance",
        "Paracétamol 1 g, 3 fois par jour, 3 jours.",
    )
    await page.evaluate("document.getElementById('hangup').click(); true")
    ended = await asyncio.wait_for(session.wait_ended(), 5)
    assert ended.reason is EndReason.DOCTOR_HUNG_UP
    assert [d.title for d in ended.documents] == ["Ordonnance"]
    assert not ended.degraded
    # Both sides cleaned up.
    assert session.state is CallState.ENDED
    assert not speaker.opened
    assert await page.evaluate("window.telecabine.ended && window.telecabine.pc === null")
    assert log.incidents() == []


async def test_call_through_turn_relay_only(
    browser: Chromium, turn: TurnServer, alsa_microphone: AudioSource
) -> None:
    platform = await start_platform(ice_servers=(turn.browser_ice_server(),), relay_only=True)
    try:
        speaker = EnergyMeterSink()
        settings = CallSettings(ice_servers=(turn.ice_server(),), relay_only=True, reconnect_s=5.0)
        session, log = make_kiosk(platform.base, alsa_microphone, speaker, settings)
        page = await connect_call(browser, platform, session, log)
        flow = await measure_both_ends(session, page, 3.0)
        flow.report("relayed call")
        stats = await browser_stats(page)
        assert stats["candidateType"] == "relay"
        flow.assert_flowing()
        assert speaker.peak_dbfs > -60 and stats["totalAudioEnergy"] > 0, speaker.peak_dbfs
        # This time the patient ends the call; the doctor's page sees it.
        ended = await session.hang_up()
        assert ended == CallEnded(EndReason.PATIENT_HUNG_UP, ())
        await page.wait_for(
            "window.telecabine.ended === true && window.telecabine.endedBy === 'patient'", 5
        )
        assert await page.evaluate("window.telecabine.pc === null")
    finally:
        await platform.runner.cleanup()


async def test_call_through_turn_with_credentials_minted_for_this_call(
    browser: Chromium, alsa_microphone: AudioSource
) -> None:
    """No TURN password in the kiosk's settings nor the console's config: the platform mints
    one per call (TURN REST) for the kiosk (asked with its cabin token) and the doctor."""
    require_program(TURNSERVER, "coturn")
    secret = bytes(range(32))
    cabins = CabinRegistry([Cabin("DEMO-CAB-01", secret, frozenset({"dr-martin"}))])
    with TurnServer(auth_secret="per-call-secret", cli_password="cli-of-e2e") as turn:  # noqa: S106
        admin = turn.admin
        assert admin is not None
        platform = await start_platform(
            relay_only=True,
            turn=TurnRest((turn.url,), "per-call-secret", admin=admin),
            cabins=cabins,
        )
        try:
            speaker = EnergyMeterSink()
            settings = CallSettings(ice_servers=(), relay_only=True, reconnect_s=5.0)
            auth = CabinAuth(CabinCredential("DEMO-CAB-01", secret), platform.base)
            session, log = make_kiosk(platform.base, alsa_microphone, speaker, settings, auth=auth)
            page = await connect_call(browser, platform, session, log)
            stats = await browser_stats(page)
            assert stats["candidateType"] == "relay"
            (await measure_both_ends(session, page, 2.0)).assert_flowing()
            minted = await page.evaluate("window.telecabine.config.iceServers")
            names = [s["username"].split(":", 1)[1] for s in minted if "username" in s]
            assert [n.split(".")[0] for n in names] == ["dr-martin"]
            call_ref = names[0].split(".")[1]  # the call's tag in every credential of it
            assert len(await admin.sessions(call_ref)) >= 2  # the kiosk's and the page's relays
            await session.hang_up()
            # The call is over: the platform cancelled its relay sessions in coturn.
            for _ in range(50):
                if not await admin.sessions(call_ref):
                    break
                await asyncio.sleep(0.1)
            assert await admin.sessions(call_ref) == []
        finally:
            await platform.runner.cleanup()
