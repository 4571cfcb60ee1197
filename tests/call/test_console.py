"""The reference doctor's console in headless Chromium: the summary in French, the arrival
alert, the socket reconnected by itself, documents marked sent only on the kiosk's ack,
and the second of two doctors told that a colleague took the patient.

Real parts: the platform on loopback (aiohttp), the kiosk's aiortc CallSession, Chromium.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, date, datetime
from typing import Any

import pytest

from app.call.audio import EnergyMeterSink, ToneMicrophone
from app.call.events import (
    ConnectionStatusChanged,
    DocumentReceived,
    EndReason,
    Incident,
    IncidentCode,
    RemoteMediaStarted,
)
from app.call.session import CallSettings
from app.call.state import CallState
from app.call.summary import doctor_summary
from app.domain.consent import ConsentChoice, decide
from app.domain.session_context import SessionContext, State
from app.domain.trace import IncidentCode as TraceIncident
from app.domain.trace import incident
from devtools.platform.signalling import HUB_KEY
from kiosk_config import EXAMPLES, load_config
from tests.call.chromium import Chromium, Page
from tests.call.conftest import Platform, doctor_console, take_first_patient
from tests.call.netfaults import TcpProxy
from tests.call.test_call_e2e import browser_stats, connect_call, make_kiosk
from tests.call.test_doctor_rejoin import page_receives
from tests.sync.sessions import TELECONSULTATION_TEXT, blood_pressure, qualified, temperature

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

T0 = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
RAW = ("RECUP", "QUAL", "PROV", "body-temperature", "Cel", "mm[Hg]", "nurse-3", "in-call")


def french_summary() -> dict[str, Any]:
    identity = qualified()
    context = SessionContext(
        step=State.WAITING_ROOM,
        session_id="S-1",
        started_at=T0,
        identity=identity,
        consents=(decide(TELECONSULTATION_TEXT, ConsentChoice.GRANTED, T0),),
        measurements=(temperature(value="37.2"), blood_pressure()),
        trace=(incident(T0, TraceIncident.INSI_UNAVAILABLE),),
    )
    config = load_config(EXAMPLES / "demo.toml")
    return doctor_summary(
        context,
        config.site,
        today=date(2026, 11, 23),
        names={"nurse-3": "Mme Durand, infirmière"},
        reasons=["fever"],
        reason_text="depuis hier soir",
    )


async def text_of(page: Page, selector: str) -> str:
    value: str = await page.evaluate(f"document.querySelector({json.dumps(selector)}).textContent")
    return value


async def test_the_summary_is_shown_in_french_without_codes(
    browser: Chromium, platform: Platform
) -> None:
    session, log = make_kiosk(platform.base, ToneMicrophone(), EnergyMeterSink())
    session._summary = french_summary()  # what summary_of gives the launcher
    page = await connect_call(browser, platform, session, log)
    await page.wait_for("document.getElementById('patient-panel').textContent.includes('71 ans')")
    panel = await text_of(page, "#patient")
    for words in (
        "MARTIN Marie",
        "identité qualifiée",
        "carte Vitale",
        "femme",
        "Fièvre",
        "« depuis hier soir »",
        "Température",
        "37,2 °C",
        "142/91 mmHg (moyenne 108)",
        "saisie à la main par Mme Durand, infirmière",
        "mesurée avec le thermomètre connecté",
        "Le téléservice INSi n'a pas pu être interrogé",
        "1 place de la Mairie, dans la pharmacie, au fond à droite, 75001 Paris",
        "01 23 45 67 00",
    ):
        assert words in panel, words
    for code in RAW:
        assert code not in panel, code
    waiting = await text_of(page, "#waiting")
    assert "en consultation" in waiting and "in-call" not in waiting
    await session.hang_up()


async def test_a_patient_arriving_rings_shows_and_changes_the_title(
    browser: Chromium, platform: Platform
) -> None:
    page = await doctor_console(browser, platform.base)
    assert await page.evaluate("window.telecabine.arrivals") == 0
    assert not await page.evaluate("document.title.startsWith('(')")
    session, _ = make_kiosk(platform.base, ToneMicrophone(), EnergyMeterSink())
    await session.start()
    await page.wait_for("window.telecabine.arrivals === 1")
    assert await page.evaluate("window.telecabine.beeps") == 1
    assert await page.evaluate("window.telecabine.audioCtx !== null")
    assert await page.evaluate("document.title") == (
        "(1) Nouveau patient — Télécabine — console du médecin"
    )
    assert not await page.evaluate("document.getElementById('arrival').hidden")
    banner = await text_of(page, "#arrival-text")
    assert banner == "Nouveau patient en salle d'attente — Pharmacie de démonstration (Paris)"
    # A list repeated (another doctor logs in, the summary changes) does not ring again.
    other = await doctor_console(browser, platform.base, "dr-diallo")
    await other.wait_for("window.telecabine.arrivals === 1")
    await asyncio.sleep(0.5)
    assert await page.evaluate("window.telecabine.beeps") == 1
    # Taking the patient clears the alert.
    await take_first_patient(page)
    await page.wait_for("document.getElementById('arrival').hidden")
    assert await page.evaluate("document.title") == "Télécabine — console du médecin"
    await session.hang_up()


async def test_the_console_reconnects_by_itself_and_the_call_comes_back(
    browser: Chromium, platform: Platform
) -> None:
    port = int(platform.base.rsplit(":", 1)[1])
    proxy = await TcpProxy(port).start()  # the doctor's network, cut at will
    try:
        session, log = make_kiosk(
            platform.base, ToneMicrophone(), EnergyMeterSink(), CallSettings(reconnect_s=30.0)
        )
        page = await doctor_console(browser, f"http://127.0.0.1:{proxy.port}")
        await session.start()
        await take_first_patient(page)
        await log.wait_for(lambda e: isinstance(e, RemoteMediaStarted) and e.kind == "video", 15)
        await page.wait_for("window.telecabine.stats().then((s) => s.framesDecoded > 5)", 15)
        proxy.cut()
        await page.wait_for("window.telecabine.reconnects === 1", 15)
        await log.wait_for(
            lambda e: isinstance(e, Incident) and e.code is IncidentCode.DOCTOR_RETURNED, 15
        )
        # Only the doctor's socket went: the media went on peer to peer, so the patient was
        # never told the doctor was lost, and nothing was renegotiated.
        assert log.incidents().count(IncidentCode.DOCTOR_LEFT) == 1
        assert IncidentCode.RECONNECTING not in log.incidents()
        assert not [e for e in log.events if isinstance(e, ConnectionStatusChanged)]
        assert session.state is CallState.IN_CALL
        assert await page.evaluate("window.telecabine.offers") == 1
        # The state is back: the waiting list, the patient, the call with media both ways.
        await page.wait_for("document.getElementById('link-status').hidden")
        assert "DUPONT Jeanne" in await text_of(page, "#patient-panel")
        assert "Pharmacie de démonstration" in await text_of(page, "#waiting")
        assert "en cours" in await text_of(page, "#call-status")
        frames, _ = await page_receives(page, 1.0)
        assert frames > 5
        before = session.remote_video.total
        await asyncio.sleep(1.0)
        assert session.remote_video.total > before + 5
        # Signalling works again: the doctor's hang-up reaches the kiosk.
        await page.evaluate("document.getElementById('hangup').click(); true")
        ended = await asyncio.wait_for(session.wait_ended(), 5)
        assert ended.reason is EndReason.DOCTOR_HUNG_UP
    finally:
        await proxy.close()


async def test_a_document_is_marked_sent_only_once_the_kiosk_has_it(
    browser: Chromium, platform: Platform
) -> None:
    session, log = make_kiosk(platform.base, ToneMicrophone(), EnergyMeterSink())
    page = await connect_call(browser, platform, session, log)

    async def send_document(title: str) -> None:
        await page.evaluate(
            "document.getElementById('doc-kind').value = 'prescription';"
            f"document.getElementById('doc-title').value = {json.dumps(title)};"
            "document.getElementById('doc-text').value = 'Paracétamol 1 g.';"
            "document.getElementById('doc-send').click(); true"
        )

    await send_document("Ordonnance")
    await log.wait_for(lambda e: isinstance(e, DocumentReceived), 5)
    await page.wait_for("document.getElementById('doc-sent').textContent.includes('(envoyé)')")
    assert await page.evaluate("window.telecabine.documentsSent.length") == 1

    # The kiosk's link to the platform is gone: the document cannot arrive, and the page
    # must not say "envoyé".
    room = next(iter(platform.runner.app[HUB_KEY].rooms.values()))
    kiosk_ws, room.kiosk = room.kiosk, None  # the platform no longer reaches the kiosk
    try:
        await send_document("Compte rendu")
        await asyncio.sleep(1.0)
        states = await page.evaluate(
            "[...document.querySelectorAll('#doc-sent li')].map((li) => li.dataset.state)"
        )
        assert states == ["sent", "pending"]
        assert "(envoi en cours…)" in await text_of(page, "#doc-sent")
        assert await page.evaluate("window.telecabine.documentsSent.length") == 1
    finally:
        room.kiosk = kiosk_ws
    await session.hang_up()


async def test_the_second_doctor_is_told_a_colleague_took_the_patient(
    browser: Chromium, platform: Platform
) -> None:
    session, log = make_kiosk(platform.base, ToneMicrophone(), EnergyMeterSink())
    martin = await doctor_console(browser, platform.base)
    diallo = await doctor_console(browser, platform.base, "dr-diallo")
    await session.start()
    # Both see the patient and both press "Prendre en charge" (Diallo a moment later).
    await martin.wait_for("!!document.querySelector('button.take')")
    await diallo.wait_for("!!document.querySelector('button.take')")
    await martin.evaluate("document.querySelector('button.take').click(); true")
    await log.wait_for(lambda e: isinstance(e, RemoteMediaStarted), 15)
    # Diallo's list hides the button once Martin has the patient; Diallo pressed it just
    # before the update reached the page (the race): the same click, on the stale list.
    assert not await diallo.evaluate("!!document.querySelector('button.take')")
    await diallo.evaluate("take(window.telecabine.waiting[0].session_id); true")
    await diallo.wait_for("!document.getElementById('take-error').hidden")
    message = await text_of(diallo, "#take-error")
    assert message.startswith("Un confrère a déjà pris en charge ce patient (Dr Claire Martin).")
    assert await diallo.evaluate("document.getElementById('call').hidden")
    assert "connexion…" not in await text_of(diallo, "#call-status")
    assert await diallo.evaluate("window.telecabine.sessionId === null")
    # Martin's call is untouched.
    stats = await browser_stats(martin)
    assert stats["framesDecoded"] > 0
    await session.hang_up()


async def test_a_reloaded_console_keeps_its_login_and_takes_its_patient_again(
    browser: Chromium, platform: Platform
) -> None:
    session, log = make_kiosk(
        platform.base, ToneMicrophone(), EnergyMeterSink(), CallSettings(reconnect_s=30.0)
    )
    page = await connect_call(browser, platform, session, log)
    await page.evaluate("window.beforeReload = true; location.reload(); true")
    await page.wait_for("!window.beforeReload && document.readyState === 'complete'", 10)
    # No login form: the console came back signed in, and the call with it.
    await page.wait_for("!document.getElementById('console-view').hidden", 10)
    assert await page.evaluate("document.getElementById('login-view').hidden")
    await page.wait_for("window.telecabine.stats().then((s) => s.framesDecoded > 5)", 20)
    await log.wait_for(
        lambda e: isinstance(e, Incident) and e.code is IncidentCode.DOCTOR_RETURNED, 10
    )
    assert "DUPONT Jeanne" in await text_of(page, "#patient-panel")
    frames, energy = await page_receives(page, 1.0)
    assert frames > 5 and energy > 0
    await session.hang_up()
    await page.wait_for("window.telecabine.ended === true", 5)
    # Ended: a later reload does not take the patient again.
    assert await page.evaluate(
        "JSON.parse(sessionStorage.getItem('telecabine.console')).sessionId === null"
    )
