"""Issue 18, part 2: a document link alone is not enough.

Attack: whoever photographs the QR code on the end screen, or finds the printed
sheet, reads the prescription for a week. Now the link alone opens the
document only within minutes of being given, once; the device that opened it
keeps it (a cookie), another device gets nothing; requests are rate limited
and traced. Real aiohttp platform on loopback, real cookie jars (two phones).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from app.call import messages as m
from devtools.platform.doctors import DEMO_PASSWORD
from devtools.platform.signalling import (
    DOCUMENT_COOKIE,
    DOCUMENT_FIRST_OPEN_S,
    DOCUMENT_LINK_TTL_S,
    DOCUMENT_RATE_PER_MINUTE,
    HUB_KEY,
    DocumentShelf,
    install,
)
from devtools.platform.testing import PlatformHandle, running_platform

pytestmark = pytest.mark.timeout(60)

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


@pytest.fixture
async def shelf_platform(tmp_path: Path) -> AsyncIterator[tuple[str, PlatformHandle, Clock]]:
    clock = Clock()

    def extension(app: Any) -> None:
        install(app, shelf=DocumentShelf(now=clock))

    async with running_platform(tmp_path, extensions=(extension,)) as (base, handle):
        yield base, handle, clock


async def _issue(base: str, document_ids: tuple[str, ...]) -> list[str]:
    """A call where the doctor sends documents; the links the kiosk is given."""
    ws_base = base.replace("http", "ws")
    async with aiohttp.ClientSession() as http:
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
        urls = []
        for document_id in document_ids:
            await doctor.send_str(
                m.encode(
                    m.DocumentMessage(
                        "prescription", "Ordonnance", "Paracétamol 1 g", document_id=document_id
                    )
                )
            )
            await _next(kiosk, "document")
            async with http.get(f"{base}/cabin/documents/{SESSION}/{document_id}") as r:
                urls.append(str((await r.json())["url"]))
        await kiosk.close()
        await doctor.close()
    return urls


def phone() -> aiohttp.ClientSession:
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))  # 127.0.0.1


async def test_the_first_device_keeps_the_document_and_a_second_device_gets_nothing(
    shelf_platform: tuple[str, PlatformHandle, Clock],
) -> None:
    base, handle, clock = shelf_platform
    (url,) = await _issue(base, ("doc-1",))
    async with phone() as patient, phone() as finder:
        async with patient.get(url) as r:
            assert r.status == 200 and "Paracétamol 1 g" in await r.text()
            cookie = r.cookies[DOCUMENT_COOKIE]
            assert cookie["httponly"] and cookie["samesite"] == "Strict"
            assert cookie["path"] == url[len(base) :]
        clock.t += 3 * 24 * 3600  # days later, the patient's phone reads it again
        async with patient.get(url) as r:
            assert r.status == 200
        async with finder.get(url) as r:  # the photographed QR code, the found sheet
            assert r.status == 404
            assert "déjà été ouvert sur un autre téléphone" in await r.text()
        async with finder.get(url, cookies={DOCUMENT_COOKIE: "guessed"}) as r:
            assert r.status == 404
        clock.t += DOCUMENT_LINK_TTL_S  # a week after: gone for everyone
        async with patient.get(url) as r:
            assert r.status == 404
    outcomes = [a.outcome for a in handle.app[HUB_KEY].shelf.trace]
    assert outcomes == [
        "served-first-open",
        "served-bound-device",
        "refused-other-device",
        "refused-other-device",
        "unknown-or-expired",
    ]
    assert all(a.document_id in ("doc-1", None) for a in handle.app[HUB_KEY].shelf.trace)


async def test_the_link_alone_opens_nothing_after_its_window(
    shelf_platform: tuple[str, PlatformHandle, Clock],
) -> None:
    base, _, clock = shelf_platform
    (url,) = await _issue(base, ("doc-2",))
    clock.t += DOCUMENT_FIRST_OPEN_S + 1  # nobody scanned it in time: the sheet is useless
    async with phone() as finder, finder.get(url) as r:
        assert r.status == 404
        assert "quinze minutes" in await r.text()


async def test_patient_pages_are_rate_limited(
    shelf_platform: tuple[str, PlatformHandle, Clock],
) -> None:
    base, handle, clock = shelf_platform
    async with phone() as guesser:
        statuses = []
        for i in range(DOCUMENT_RATE_PER_MINUTE + 5):
            async with guesser.get(f"{base}/patient/documents/guess{i}") as r:
                statuses.append(r.status)
        assert statuses.count(404) == DOCUMENT_RATE_PER_MINUTE
        assert statuses[DOCUMENT_RATE_PER_MINUTE:] == [429] * 5
        clock.t += 61
        async with guesser.get(f"{base}/patient/documents/again") as r:
            assert r.status == 404
    assert len(handle.app[HUB_KEY].shelf.trace) == DOCUMENT_RATE_PER_MINUTE + 6
