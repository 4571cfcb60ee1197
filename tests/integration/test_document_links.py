"""The end screen's QR codes lead to a real page: the reference platform keeps each document
the doctor sends, mints an unguessable expiring link, and serves it only under that link."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from app.call import messages as m
from app.controller.document_links import LINK_PATH, accepted_link, fetch_document_link
from devtools.platform.doctors import DEMO_PASSWORD
from devtools.platform.signalling import DOCUMENT_LINK_TTL_S, DocumentShelf, install
from devtools.platform.testing import running_platform

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

SESSION = "5f0c3a4e9b2d4c7e8a1b2c3d4e5f6a7b"


class Clock:
    def __init__(self) -> None:
        self.t = 1_800_000_000.0

    def __call__(self) -> float:
        return self.t


async def _next(ws: aiohttp.ClientWebSocketResponse, kind: str) -> dict[str, Any]:
    while True:
        data: dict[str, Any] = json.loads(await ws.receive_str(timeout=5))
        if data["type"] == kind:
            return data


async def test_a_document_is_served_only_under_its_minted_link(tmp_path: Path) -> None:
    clock = Clock()

    def extension(app: Any) -> None:
        install(app, shelf=DocumentShelf(now=clock))

    async with (
        running_platform(tmp_path, extensions=(extension,)) as (base, _),
        aiohttp.ClientSession() as http,
    ):
        template = base + LINK_PATH
        ws_base = base.replace("http", "ws")
        async with http.post(
            f"{base}/console/api/login", json={"login": "dr-martin", "password": DEMO_PASSWORD}
        ) as r:
            token = (await r.json())["token"]
        doctor = await http.ws_connect(f"{ws_base}/signalling/doctor?token={token}")
        kiosk = await http.ws_connect(f"{ws_base}/signalling/kiosk")
        await kiosk.send_str(m.encode(m.Hello(SESSION, "CAB-1", {})))
        await _next(kiosk, "welcome")
        await doctor.send_str(json.dumps({"type": "take", "session_id": SESSION}))
        await _next(kiosk, "doctor")
        assert await fetch_document_link(template, SESSION, "doc-1") is None  # not sent yet
        document = m.DocumentMessage(
            "prescription", "Ordonnance <b>", "Paracétamol 1 g", document_id="doc-1"
        )
        await doctor.send_str(m.encode(document))
        await _next(kiosk, "document")  # the platform kept it before relaying it

        url = await fetch_document_link(template, SESSION, "doc-1")
        assert url is not None and url.startswith(f"{base}/patient/documents/")
        minted = url.rsplit("/", 1)[1]
        print(f"\nminted token: {len(minted)} characters")
        assert len(minted) >= 43  # 32 random bytes, base64url: 256 bits
        assert "doc-1" not in minted
        assert await fetch_document_link(template, "another-session", "doc-1") is None

        async with http.get(url) as r:
            page = await r.text()
            assert (r.status, r.headers["Cache-Control"]) == (200, "no-store")
        assert "<h1>Ordonnance &lt;b&gt;</h1>" in page  # the doctor's words, escaped
        assert "Paracétamol 1 g" in page and "Ordonnance" in page

        for guess in ("doc-1", minted[:-1] + ("A" if minted[-1] != "A" else "B")):
            async with http.get(f"{base}/patient/documents/{guess}") as r:
                assert r.status == 404
                text = await r.text()
                assert "<h1>Document introuvable</h1>" in text
                assert "sept jours" in text

        clock.t += DOCUMENT_LINK_TTL_S + 1  # a week later, the link is gone
        async with http.get(url) as r:
            assert r.status == 404
        assert await fetch_document_link(template, SESSION, "doc-1") is None
        await kiosk.close()
        await doctor.close()


def test_the_kiosk_accepts_only_a_link_to_the_platform_s_patient_page() -> None:
    asked = "http://127.0.0.1:8780/cabin/documents/s/d"
    good = "http://127.0.0.1:8780/patient/documents/abc"
    assert accepted_link(asked, {"url": good}) == good
    assert accepted_link(asked, {"url": "http://evil.example/patient/documents/abc"}) is None
    assert accepted_link(asked, {"url": "http://127.0.0.1:8780/console/"}) is None
    assert accepted_link(asked, {"url": "http://127.0.0.1:8780/patient/documents/"}) is None
    assert accepted_link(asked, ["not", "an", "object"]) is None
