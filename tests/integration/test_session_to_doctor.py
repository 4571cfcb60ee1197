"""The kiosk as one product: a whole session, from the card to the doctor in a browser and back.

Everything is real: the offscreen window with the real controller and flow,
the SQLCipher store in tmp, the card in the virtual reader behind pcscd,
the BLE and serial simulators through their drivers, the call over aiortc
through the reference platform's signalling, the doctor's console in
headless Chromium with fake media, and the uplink that sends the session's
bundle once the patient has left.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from PySide6.QtWidgets import QApplication, QLabel

from app.assembly import assemble
from app.domain.session_context import State
from app.sync.transport import CabinAuth
from app.ui.call_bridge import bind_window
from app.ui.i18n import Catalogues
from app.ui.main_window import KioskWindow
from app.ui.presenter import Presenter
from app.ui.theme import SCREEN_SIZE
from app.ui.views import EndView
from kiosk_config import EXAMPLES, load_config
from kiosk_demo.script import Script
from kiosk_demo.world import demo_world
from tests.call.chromium import Chromium
from tests.call.conftest import chromium_available, doctor_console, take_first_patient
from tests.drivers.card.real_parts import missing_real_part

pytestmark = [pytest.mark.integration, pytest.mark.timeout(150)]


@pytest.fixture(autouse=True)
def _chromium_present() -> None:
    """Without Chromium the doctor's console cannot run: skip here, fail under CI."""
    if not chromium_available():
        missing_real_part("The doctor's console needs /usr/bin/chromium, which is missing.")


DOCTOR_TEXT = "Bonjour, je vous vois bien. Depuis quand avez-vous de la fièvre ?"
PATIENT_TEXT = "Depuis hier soir, docteur."


def labels(window: KioskWindow, name: str) -> list[str]:
    return [w.text() for w in window.findChildren(QLabel, name) if w.isVisibleTo(window)]


async def search(
    base: str, rtype: str, system: str, value: str, auth: CabinAuth | None
) -> list[dict[str, Any]]:
    """The platform's FHIR search by business identifier (or tag), as any FHIR client does,
    with the cabin's token (the platform answers no anonymous reader)."""
    key = "_tag" if rtype in ("Provenance", "AuditEvent") else "identifier"
    async with aiohttp.ClientSession() as http:
        headers = await auth.headers(http) if auth is not None else {}
        params = {key: f"{system}|{value}"}
        async with http.get(f"{base}/{rtype}", params=params, headers=headers) as response:
            assert response.status == 200
            bundle = await response.json()
    return [entry["resource"] for entry in bundle.get("entry", [])]


async def test_a_whole_session_reaches_the_doctor_and_the_platform(tmp_path: Path) -> None:
    config = load_config(EXAMPLES / "demo.toml")
    app = QApplication.instance() or QApplication(["kiosk-test"])
    async with demo_world(
        config, data_dir=tmp_path / "world", port=0, fast=True, turn=False, require_card_reader=True
    ) as world:
        assembly = await assemble(world.config, data_dir=tmp_path / "kiosk", sims=world.sims)
        window = KioskWindow(Catalogues())
        window.resize(*SCREEN_SIZE)
        window.show()
        binding, link = bind_window(
            assembly, window, Presenter(assembly.site, assembly.controller.now)
        )
        script = Script(assembly, window, binding, None, app)
        browser = await Chromium().start()
        c = assembly.controller
        try:
            await assembly.start()
            page = await doctor_console(browser, world.base_url)

            # The patient: card through pcscd, consent, orientation, the three devices.
            await script.to_identification("fr")
            await script.identify_with_card("reader-1", "single-adult")
            session_id = c.view.context.session_id
            assert session_id is not None
            await script.consent_and_orientation()
            await script.measure_all()
            assert len(c.view.context.measurements) >= 4  # temperature, SpO2 + pulse, BP (+pulse)
            await script.until(State.WAITING_ROOM)
            await script.wait(lambda: link.self_frames > 0, 10, "show the self view")

            # The doctor sees the patient waiting, with what the kiosk chose to share.
            await page.wait_for(
                "document.querySelector('#waiting tbody').textContent.includes('HOARAU')"
            )
            await take_first_patient(page)
            await script.until(State.CALL, timeout=15)

            # The doctor's identity, as the platform asserts it, alone before any video.
            assert labels(window, "doctor-name") == ["Dr Claire Martin"]
            assert labels(window, "doctor-specialty") == ["Médecine générale"]
            assert "10003456789" in labels(window, "doctor-rpps")[0]
            assert labels(window, "remote-video") == []
            assert link.remote_frames == 0
            await page.wait_for(
                "document.getElementById('patient-panel').textContent.includes('HOARAU')"
            )

            # Then the doctor's video reaches the call screen.
            await script.wait(lambda: link.remote_frames >= 10, 20, "show the doctor's video")
            assert link.doctor_before_video is True
            video = window.findChild(QLabel, "remote-video")
            assert video is not None and video.isVisibleTo(window)
            assert not video.pixmap().isNull()
            await page.wait_for(
                "window.telecabine.pc && window.telecabine.pc.connectionState === 'connected'"
            )

            # Text both ways: the doctor types in the console, the patient on the kiosk.
            await page.evaluate(
                f"document.getElementById('chat-input').value = {DOCTOR_TEXT!r};"
                "document.getElementById('chat-send').click(); true"
            )
            await script.wait(lambda: DOCTOR_TEXT in link.chat_from_doctor, 10, "show the text")
            script._settle()
            assert any(DOCTOR_TEXT in t for t in labels(window, "chat-line"))
            await script.write("patient-text", PATIENT_TEXT)
            await script.tap("send", shot=False)
            await page.wait_for(
                "document.getElementById('chat-log').textContent"
                f".includes({('Patient : ' + PATIENT_TEXT)!r})"
            )

            # A prescription, then the doctor hangs up: the end screen lists the document.
            await page.evaluate(
                "document.getElementById('doc-kind').value = 'prescription';"
                "document.getElementById('doc-title').value = 'Ordonnance';"
                "document.getElementById('doc-text').value = 'Paracétamol 1 g, 3 fois par jour.';"
                "document.getElementById('doc-send').click(); true"
            )
            await script.wait(lambda: len(c.view.context.documents) == 1, 10, "get the document")
            assert link.documents == [("prescription", "Ordonnance")]
            await script.wait(lambda: len(link.document_links) == 1, 10, "get the document's link")
            await page.evaluate("document.getElementById('hangup').click(); true")
            await script.until(State.END, timeout=15)
            view = window.current_view
            assert isinstance(view, EndView)
            [document] = (
                view.documents
            )  # its kind and title from the call, its page on the platform
            assert (document.kind.id, document.title) == ("end.document.prescription", "Ordonnance")
            assert document.url is not None and document.url.startswith(world.config.platform.url)
            # The QR code holds the platform's minted link (not the guessable document id),
            # and that page serves the doctor's document.
            assert document.url.startswith(world.config.platform.url.rstrip("/") + "/patient/")
            assert c.view.context.documents[0] not in document.url
            async with aiohttp.ClientSession() as http, http.get(document.url) as r:
                assert r.status == 200
                assert "Paracétamol 1 g, 3 fois par jour." in await r.text()
            assert await page.evaluate("window.telecabine.ended === true")

            # The patient takes the card and finishes: the session's bundle reaches the platform.
            await world.sims.remove_card("reader-1")
            await script.wait(lambda: not c.view.context.card_present, 5, "see the card taken")
            await script.tap("finish", shot=False)
            assert assembly.sessions_ended == [session_id]
            cabin = world.config.site.cabin_id
            system = f"urn:telecabine:{cabin}"
            auth = CabinAuth.for_config(world.config)
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 20
            encounters: list[dict[str, Any]] = []
            while not encounters and loop.time() < deadline:
                encounters = await search(
                    world.base_url, "Encounter", system, f"{cabin}/{session_id}/encounter", auth
                )
                await asyncio.sleep(0.2)
            assert len(encounters) == 1
            encounter = encounters[0]
            assert encounter["status"] == "finished"
            assert encounter["class"]["code"] == "VR"
            rpps = [
                p["individual"]["identifier"]["value"]
                for p in encounter.get("participant", [])
                if "individual" in p and "identifier" in p["individual"]
            ]
            assert "10003456789" in rpps
            patients = await search(
                world.base_url, "Patient", system, f"{cabin}/{session_id}/patient", auth
            )
            assert [p["name"][0]["family"] for p in patients] == ["HOARAU"]
            observations = [
                o
                for o in world.platform.resources("Observation")
                if o["identifier"][0]["value"].startswith(f"{cabin}/{session_id}/observation/")
            ]
            assert len(observations) >= 4
            # Exactly once: one Encounter and one Patient in all.
            assert len(world.platform.resources("Encounter")) == 1
            assert len(world.platform.resources("Patient")) == 1
            assert binding.refused == []
        finally:
            binding.close()
            app.removeEventFilter(window.filter)
            await browser.close()
            await assembly.close()
            window.close()
