"""The test probe: off by default, answers what the window shows, changes nothing."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

pytestmark = pytest.mark.ui


def test_no_socket_without_kiosk_probe(monkeypatch: pytest.MonkeyPatch) -> None:
    from app.ui import probe

    monkeypatch.delenv(probe.ENV, raising=False)
    assert probe.socket_path() is None
    assert probe.socket_path("/tmp/x/") == Path("/tmp/x/probe.sock")
    assert probe.socket_path("/tmp/x.sock") == Path("/tmp/x.sock")


def test_snapshot_lists_the_welcome_buttons(qtbot: QtBot) -> None:
    from app.ui import probe
    from app.ui.i18n import Catalogues
    from app.ui.main_window import KioskWindow

    window = KioskWindow(Catalogues())
    qtbot.addWidget(window)
    window.resize(1280, 800)
    window.show()
    qtbot.waitExposed(window)
    state = probe.Running(window)

    def wire(command: str) -> Any:
        """The answer as the driver reads it: all of it goes on the wire as JSON."""
        return json.loads(json.dumps(probe.answer(command, state)))

    snap = wire("snapshot")
    assert snap["screen"] == "welcome" and snap["view"]["type"] == "WelcomeView"
    names = {w["object_name"] for w in snap["widgets"] if w["top"] == "kiosk-window"}
    assert {"start", "lang-fr", "help"} <= names
    start = next(w for w in snap["widgets"] if w["object_name"] == "start")
    assert start["w"] > 0 and start["h"] > 0 and start["enabled"]
    assert any(t["object_name"] == "kiosk-window" for t in snap["tops"])
    assert wire("ping") == "pong"
    assert "immortal" in wire("stats")
    assert "error" in wire("nonsense")


def test_the_socket_answers_one_line_per_request(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.ui import probe
    from app.ui.i18n import Catalogues
    from app.ui.main_window import KioskWindow

    window = KioskWindow(Catalogues())
    qtbot.addWidget(window)
    path = tmp_path / "probe.sock"
    monkeypatch.setenv(probe.ENV, str(path))
    seen: list[probe.Running] = []
    probe.on_attach(seen.append)

    async def talk() -> list[Any]:  # the JSON answers
        close = probe.attach(window)
        try:
            for _ in range(50):
                if path.exists():
                    break
                await asyncio.sleep(0.02)
            reader, writer = await asyncio.open_unix_connection(str(path))
            answers = []
            for command in (b"ping\n", b"snapshot\n"):
                writer.write(command)
                await writer.drain()
                answers.append(json.loads(await reader.readline()))
            writer.close()
            return answers
        finally:
            close()
            probe._listeners.remove(seen.append)

    ping, snap = asyncio.run(talk())
    assert ping == "pong" and snap["screen"] == "welcome"
    assert seen and seen[0].window is window
    assert not path.exists()
