"""The reference platform's signalling and console API, over a real aiohttp server."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import pytest

from app.call import messages as m
from devtools.platform.doctors import DEMO_PASSWORD, DoctorDirectory
from tests.call.conftest import Platform


async def login(
    http: aiohttp.ClientSession, base: str, user: str = "dr-martin", password: str = DEMO_PASSWORD
) -> tuple[int, dict[str, Any]]:
    async with http.post(
        f"{base}/console/api/login", json={"login": user, "password": password}
    ) as r:
        return r.status, await r.json()


async def next_of(ws: aiohttp.ClientWebSocketResponse, kind: str) -> dict[str, Any]:
    while True:
        data: dict[str, Any] = json.loads(await ws.receive_str(timeout=5))
        if data["type"] == kind:
            return data


def test_demo_passwords_are_stored_salted_and_hashed() -> None:
    directory = DoctorDirectory.demo()
    martin, diallo = directory.get("dr-martin"), directory.get("dr-diallo")
    assert martin is not None and diallo is not None
    assert martin.password_hash.startswith("$argon2id$")
    assert DEMO_PASSWORD not in martin.password_hash
    assert martin.password_hash != diallo.password_hash  # same password, different salts
    assert directory.verify("dr-martin", DEMO_PASSWORD) == martin
    assert directory.verify("dr-martin", "Password") is None
    assert directory.verify("dr-nobody", DEMO_PASSWORD) is None


async def test_login_refusals(platform: Platform) -> None:
    async with aiohttp.ClientSession() as http:
        assert await login(http, platform.base, password="wrong") == (
            401,
            {"error": "Identifiant ou mot de passe incorrect."},
        )
        async with http.post(f"{platform.base}/console/api/login", data=b"nope") as r:
            assert (r.status, await r.json()) == (
                400,
                {"error": "Identifiant et mot de passe requis."},
            )
        async with http.get(f"{platform.base}/signalling/doctor?token=forged") as r:
            assert (r.status, await r.json()) == (401, {"error": "Connexion requise."})


async def test_waiting_list_take_and_relay(platform: Platform) -> None:
    base_ws = platform.base.replace("http", "ws")
    async with aiohttp.ClientSession() as http:
        status, body = await login(http, platform.base)
        assert status == 200
        assert body["doctor"] == {
            "name": "Dr Claire Martin",
            "rpps": "10003456789",
            "specialty": "Médecine générale",
        }
        doctor = await http.ws_connect(f"{base_ws}/signalling/doctor?token={body['token']}")
        assert (await next_of(doctor, "online"))["doctors"] == [body["doctor"]]
        async with http.get(f"{platform.base}/console/api/online") as r:
            assert await r.json() == {"doctors": [body["doctor"]]}

        kiosk = await http.ws_connect(f"{base_ws}/signalling/kiosk")
        await kiosk.send_str(m.encode(m.Hello("S1", "CAB-1", {"identity": {"status": "PROV"}})))
        assert m.decode(await kiosk.receive_str(timeout=5)) == m.Welcome("S1")
        waiting = await next_of(doctor, "waiting")
        assert [(p["session_id"], p["status"], p["summary"]) for p in waiting["patients"]] == [
            ("S1", "waiting", {"identity": {"status": "PROV"}})
        ]

        await doctor.send_str(json.dumps({"type": "take", "session_id": "S1"}))
        joined = m.decode(await kiosk.receive_str(timeout=5))
        assert joined == m.DoctorJoined(
            m.DoctorIdentity("Dr Claire Martin", "10003456789", "Médecine générale")
        )
        taken = await next_of(doctor, "patient")
        assert (taken["session_id"], taken["status"]) == ("S1", "in-call")

        await kiosk.send_str(
            m.encode(m.SummaryUpdate({"measurements": [{"kind": "spo2", "value": 97}]}))
        )
        panel = await next_of(doctor, "patient")
        assert panel["summary"]["measurements"] == [{"kind": "spo2", "value": 97}]

        await kiosk.send_str(m.encode(m.Offer("v=0\r\n")))
        assert await next_of(doctor, "offer") == {
            "type": "offer",
            "sdp": "v=0\r\n",
            "restart": False,
        }
        await doctor.send_str(m.encode(m.Text("Bonjour", "doctor")))
        assert m.decode(await kiosk.receive_str(timeout=5)) == m.Text("Bonjour", "doctor")

        # The kiosk acknowledges a document: the doctor's page hears it through the platform.
        await kiosk.send_str(m.encode(m.DocumentAck("S1-doc-1")))
        assert await next_of(doctor, "document-ack") == {
            "type": "document-ack",
            "document_id": "S1-doc-1",
            "accepted": True,
            "reason": "",
        }

        # A second doctor cannot take a patient who is in a call, and is told who has them.
        status, other = await login(http, platform.base, "dr-diallo")
        second = await http.ws_connect(f"{base_ws}/signalling/doctor?token={other['token']}")
        await second.send_str(json.dumps({"type": "take", "session_id": "S1", "resume": True}))
        assert await next_of(second, "error") == {
            "type": "error",
            "code": "already-taken",
            "session_id": "S1",
            "doctor": "Dr Claire Martin",
            "message": "Dr Claire Martin a déjà pris en charge ce patient.",
        }
        await second.send_str(json.dumps({"type": "take", "session_id": "S404"}))
        assert (await next_of(second, "error"))["code"] == "no-such-patient"
        await second.close()

        # Her console's socket comes back and takes the patient again with its peer
        # connection up: the kiosk hears "resume" (no renegotiation).
        again = await http.ws_connect(f"{base_ws}/signalling/doctor?token={body['token']}")
        await again.send_str(json.dumps({"type": "take", "session_id": "S1", "resume": True}))
        assert m.decode(await kiosk.receive_str(timeout=5)) == m.DoctorJoined(
            m.DoctorIdentity("Dr Claire Martin", "10003456789", "Médecine générale"), resume=True
        )
        await again.close()
        assert m.decode(await kiosk.receive_str(timeout=5)) == m.PeerLeft("doctor")
        doctor = await http.ws_connect(f"{base_ws}/signalling/doctor?token={body['token']}")
        await doctor.send_str(json.dumps({"type": "take", "session_id": "S1"}))
        assert m.decode(await kiosk.receive_str(timeout=5)) == m.DoctorJoined(
            m.DoctorIdentity("Dr Claire Martin", "10003456789", "Médecine générale")
        )

        # The doctor's page goes away: the kiosk is told.
        await doctor.close()
        assert m.decode(await kiosk.receive_str(timeout=5)) == m.PeerLeft("doctor")
        await kiosk.close()


async def test_kiosk_must_say_hello_first(platform: Platform) -> None:
    async with aiohttp.ClientSession() as http:
        kiosk = await http.ws_connect(platform.base.replace("http", "ws") + "/signalling/kiosk")
        await kiosk.send_str(m.encode(m.Offer("v=0")))
        assert m.decode(await kiosk.receive_str(timeout=5)) == m.ErrorMessage(
            "hello-expected", "Send 'hello' first."
        )
        msg = await kiosk.receive(timeout=5)
        assert msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)


@pytest.mark.parametrize(
    "path", ["/console/", "/console/static/console.js", "/console/static/console.css"]
)
async def test_console_is_served(platform: Platform, path: str) -> None:
    async with aiohttp.ClientSession() as http, http.get(platform.base + path) as r:
        assert r.status == 200
        assert len(await r.read()) > 500


async def test_installs_as_an_extension_of_the_reference_platform(tmp_path: object) -> None:
    from aiohttp import web

    from devtools.platform.app import create_app
    from devtools.platform.signalling import install

    app = create_app(f"{tmp_path}/platform.db", extensions=(install,), open_test_mode=True)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    base = f"http://127.0.0.1:{runner.addresses[0][1]}"
    try:
        async with aiohttp.ClientSession() as http:
            async with http.get(base + "/health") as r:
                assert r.status == 200
            async with http.get(base + "/console/") as r:
                assert r.status == 200 and "console du médecin" in await r.text()
            assert (await login(http, base))[0] == 200
    finally:
        await runner.cleanup()


async def test_a_console_asks_whether_its_login_still_holds(platform: Platform) -> None:
    async with aiohttp.ClientSession() as http:
        _, body = await login(http, platform.base)
        headers = {"Authorization": f"Bearer {body['token']}"}
        async with http.get(f"{platform.base}/console/api/me", headers=headers) as r:
            assert (r.status, (await r.json())["doctor"]["name"]) == (200, "Dr Claire Martin")
        async with http.get(
            f"{platform.base}/console/api/me", headers={"Authorization": "Bearer forged"}
        ) as r:
            assert (r.status, await r.json()) == (401, {"error": "Connexion requise."})
