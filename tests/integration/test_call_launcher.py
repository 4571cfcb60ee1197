"""The call as the controller opens it: waiting-room checks first, and never a long hold."""

from __future__ import annotations

import asyncio
import socket
import time

import pytest

from app.call import events as call
from app.call.audio import ToneMicrophone
from app.call.session import CallSettings
from app.call.video import OpenCVFrameSource, TestPatternSource
from app.controller.call_launcher import (
    CallMedia,
    CallNotOpened,
    KioskCallLauncher,
    NullSpeaker,
    level_of,
)
from kiosk_config import EXAMPLES, load_config

pytestmark = [pytest.mark.integration, pytest.mark.timeout(30)]


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def site(url: str) -> object:
    config = load_config(EXAMPLES / "demo.toml")
    return config.model_copy(update={"platform": config.platform.model_copy(update={"url": url})})


async def test_an_unreachable_platform_does_not_hold_the_controller_and_ends_degraded() -> None:
    launcher = KioskCallLauncher(
        site(f"http://127.0.0.1:{closed_port()}"),  # type: ignore[arg-type]
        settings=CallSettings(reconnect_s=3.0),
        open_wait_s=0.3,
    )
    seen: list[object] = []
    launcher.hooks.listeners.append(seen.append)
    frames: list[object] = []
    launcher.hooks.on_local_video = frames.append
    started = time.monotonic()
    await launcher.open("session-1")
    held = time.monotonic() - started
    print(f"\nopen() held the controller {held:.2f} s (reconnect window 3 s)")
    # open() came back while the call was still retrying the platform: the call has not
    # given up yet (no CallEnded), so the controller was not held for the reconnect window.
    assert not any(isinstance(e, call.CallEnded) for e in seen), seen
    assert launcher.session is not None
    events = []
    async with asyncio.timeout(10):
        async for event in launcher.events():
            events.append(event)
    assert events[-1] == call.CallEnded(call.EndReason.SIGNALLING_UNREACHABLE)
    assert call.Incident(call.IncidentCode.SIGNALLING_UNREACHABLE) in events
    assert seen == events  # the UI hears exactly what the controller hears
    await launcher.end()
    assert launcher.session is None


async def test_a_dead_camera_stops_the_call_before_it_opens() -> None:
    media = CallMedia(lambda: OpenCVFrameSource(7), ToneMicrophone, NullSpeaker)
    launcher = KioskCallLauncher(site(f"http://127.0.0.1:{closed_port()}"), media=media)  # type: ignore[arg-type]
    seen: list[object] = []
    launcher.hooks.listeners.append(seen.append)
    with pytest.raises(CallNotOpened) as raised:
        await launcher.open("session-2")
    assert raised.value.codes == (call.IncidentCode.CAMERA_UNAVAILABLE,)  # the call's enum
    assert str(raised.value) == "The call was not opened: camera-unavailable."
    assert [e.code for e in seen if isinstance(e, call.Incident)] == [
        call.IncidentCode.CAMERA_UNAVAILABLE
    ]
    assert launcher.session is None


def test_microphone_level_bar() -> None:
    assert level_of(-90.0) == 0.0
    assert level_of(-60.0) == 0.0
    assert level_of(-30.0) == 0.5
    assert level_of(0.0) == 1.0
    assert level_of(6.0) == 1.0


def test_test_sites_get_generated_media() -> None:
    from app.controller.call_launcher import media_for_site

    media = media_for_site(site("http://127.0.0.1:1"))  # type: ignore[arg-type]
    assert isinstance(media.camera(), TestPatternSource)
    assert isinstance(media.microphone(), ToneMicrophone)
    assert isinstance(media.speaker(), NullSpeaker)
