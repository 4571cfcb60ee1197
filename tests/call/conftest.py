"""Real parts for the call tests: the platform on loopback, Chromium, coturn, ALSA.

The microphone is ALSA's ``file`` plugin reading a tone from a raw file,
configured by an ``.asoundrc`` in a temporary HOME; PortAudio reads ALSA's
configuration when it initialises, so the fixture re-initialises it
(sounddevice's ``_terminate``/``_initialize``) after pointing HOME there, and
again after putting HOME back.
"""

from __future__ import annotations

import asyncio
import math
import os
import shutil
import struct
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from app.call.audio import SoundDeviceMicrophone, SoundDeviceSpeaker
from app.call.events import CallEvent, Incident, IncidentCode
from devtools.platform.cabins import CabinRegistry
from devtools.platform.signalling import TurnRest, install
from devtools.turn import TURNSERVER, TurnServer
from tests.call.chromium import CHROMIUM, Chromium, Page

ASOUNDRC = """
pcm.filemic {{
  type file
  slave.pcm "null"
  file "/dev/null"
  infile "{infile}"
  format "raw"
}}
pcm.!default {{
  type asym
  playback.pcm "null"
  capture.pcm "filemic"
}}
"""


def write_tone(
    path: Path, seconds: float, frequency: float = 523.0, amplitude: float = 0.3
) -> None:
    n = int(48_000 * seconds)
    step = 2 * math.pi * frequency / 48_000
    path.write_bytes(
        struct.pack(f"<{n}h", *(int(amplitude * 32767 * math.sin(i * step)) for i in range(n)))
    )


@pytest.fixture
def alsa_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    import sounddevice as sd

    home = tmp_path / "alsa-home"
    home.mkdir()
    write_tone(home / "tone.raw", seconds=40, amplitude=0.1)
    (home / ".asoundrc").write_text(ASOUNDRC.format(infile=home / "tone.raw"))
    monkeypatch.setenv("HOME", str(home))
    sd._terminate()
    sd._initialize()
    yield home
    monkeypatch.undo()
    sd._terminate()
    sd._initialize()


@pytest.fixture
def alsa_microphone(alsa_home: Path) -> SoundDeviceMicrophone:
    return SoundDeviceMicrophone()


@pytest.fixture
def alsa_speaker(alsa_home: Path) -> SoundDeviceSpeaker:
    return SoundDeviceSpeaker()


@dataclass
class Platform:
    base: str
    runner: web.AppRunner


async def start_platform(
    *,
    ice_servers: tuple[dict[str, Any], ...] = (),
    relay_only: bool = False,
    turn: TurnRest | None = None,
    cabins: CabinRegistry | None = None,
) -> Platform:
    """`turn`: per-call TURN REST credentials; `cabins`: kiosks must prove their cabin."""
    app = web.Application()
    install(
        app,
        ice_servers=ice_servers,
        relay_only=relay_only,
        turn=turn,
        cabins=cabins,
        open_test_mode=cabins is None,  # tests without enrolled cabins ask for it by name
    )
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    return Platform(f"http://127.0.0.1:{port}", runner)


@pytest.fixture
async def platform() -> AsyncIterator[Platform]:
    p = await start_platform()
    yield p
    await p.runner.cleanup()


def require_program(program: str, package: str) -> None:
    """The call tests never skip: a missing real part fails, saying which (CI or not)."""
    if shutil.which(program) is None and not Path(program).is_file():
        pytest.fail(
            f"{program} is not installed, and the call tests need the real one; "
            f"install the Debian package {package} (scripts/setup.sh does).",
            pytrace=False,
        )


@pytest.fixture
async def browser() -> AsyncIterator[Chromium]:
    require_program(CHROMIUM, "chromium")
    chromium = await Chromium().start()
    yield chromium
    await chromium.close()


@pytest.fixture
def turn() -> Iterator[TurnServer]:
    require_program(TURNSERVER, "coturn")
    with TurnServer() as server:
        yield server


async def doctor_console(browser: Chromium, base: str, login: str = "dr-martin") -> Page:
    page = await browser.new_page(base + "/console/")
    await page.evaluate(
        f"document.getElementById('login').value = {login!r};"
        "document.getElementById('password').value = 'password';"
        "document.getElementById('login-button').click(); true"
    )
    await page.wait_for("!!(window.telecabine.ws && window.telecabine.ws.readyState === 1)")
    return page


async def take_first_patient(page: Page) -> None:
    await page.wait_for("!!document.querySelector('button.take')")
    await page.evaluate("document.querySelector('button.take').click(); true")


@dataclass
class EventLog:
    events: list[CallEvent] = field(default_factory=list)
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def __call__(self, event: CallEvent) -> None:
        self.events.append(event)
        self.changed.set()

    def incidents(self) -> list[IncidentCode]:
        return [e.code for e in self.events if isinstance(e, Incident)]

    async def wait_for(self, predicate: Any, timeout: float) -> CallEvent:
        async with asyncio.timeout(timeout):
            while True:
                for event in self.events:
                    if predicate(event):
                        return event
                self.changed.clear()
                await self.changed.wait()


def chromium_available() -> bool:
    return os.path.exists("/usr/bin/chromium")
