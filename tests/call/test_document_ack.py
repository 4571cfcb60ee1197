"""The kiosk acknowledges every document it receives, and says so when it refuses one.

Real kiosk (CallSession on aiortc), real platform (aiohttp on loopback); the
doctor's side is a plain WebSocket, as the console's is.
"""

from __future__ import annotations

import base64
import json

import aiohttp
import pytest

from app.call import messages as m
from app.call.audio import EnergyMeterSink, ToneMicrophone
from app.call.events import DocumentReceived, Incident, IncidentCode
from tests.call.conftest import Platform
from tests.call.test_call_e2e import make_kiosk
from tests.call.test_platform_signalling import login, next_of

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]


async def test_documents_are_acknowledged_or_refused_with_a_reason(platform: Platform) -> None:
    session, log = make_kiosk(platform.base, ToneMicrophone(), EnergyMeterSink())
    base_ws = platform.base.replace("http", "ws")
    async with aiohttp.ClientSession() as http:
        _, body = await login(http, platform.base)
        doctor = await http.ws_connect(f"{base_ws}/signalling/doctor?token={body['token']}")
        await session.start()
        waiting = await next_of(doctor, "waiting")
        while not waiting["patients"]:
            waiting = await next_of(doctor, "waiting")
        await doctor.send_str(json.dumps({"type": "take", "session_id": "DEMO-CAB-01-s1"}))
        await next_of(doctor, "offer")  # the kiosk offers; no answer is needed for documents

        good = m.DocumentMessage("prescription", "Ordonnance", text="Repos.", document_id="d1")
        await doctor.send_str(m.encode(good))
        assert await next_of(doctor, "document-ack") == {
            "type": "document-ack",
            "document_id": "d1",
            "accepted": True,
            "reason": "",
        }
        assert [e for e in log.events if isinstance(e, DocumentReceived)]

        fake_pdf = base64.b64encode(b"not a pdf at all").decode()
        bad = m.DocumentMessage("report", "Compte rendu", pdf_base64=fake_pdf, document_id="d2")
        await doctor.send_str(m.encode(bad))
        refused = await next_of(doctor, "document-ack")
        assert (refused["document_id"], refused["accepted"]) == ("d2", False)
        assert refused["reason"]  # a check code, never the content
        assert IncidentCode.DOCUMENT_REJECTED in [
            e.code for e in log.events if isinstance(e, Incident)
        ]

        # Sent again (a page that did not hear the ack): acknowledged again, kept once.
        await doctor.send_str(m.encode(good))
        assert (await next_of(doctor, "document-ack"))["document_id"] == "d1"
        assert len(session.documents) == 1
        await session.hang_up()
        await doctor.close()
