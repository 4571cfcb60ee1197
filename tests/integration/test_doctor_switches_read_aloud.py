"""The doctor's own switches are read aloud once each, through `bind_window`'s call listener.

The call screen shows "Le médecin a coupé sa caméra…" from the view; a patient who
does not look at the screen, or cannot read it, must hear it too — once per
switch, not again while it stays off, and again after a reconnection (the console
tells her state anew) or in the next call.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from app.assembly import assemble
from app.call import events as call
from app.ui.call_bridge import bind_window
from app.ui.i18n import Catalogues
from app.ui.main_window import KioskWindow
from app.ui.presenter import Presenter
from kiosk_config import load_config
from tests.integration.test_assembly import closed_port, write_site

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]


async def test_each_switch_off_is_said_once(tmp_path: Path, qtbot: QtBot) -> None:
    config = load_config(write_site(tmp_path, url=f"http://127.0.0.1:{closed_port()}/"))
    assembly = await assemble(config, sync=False)  # the real call launcher, not started
    window = KioskWindow(Catalogues())
    qtbot.addWidget(window)
    try:
        binding, link = bind_window(
            assembly, window, Presenter(assembly.site, assembly.controller.now)
        )
        camera, muted = window.t("call.doctor_camera_off"), window.t("call.doctor_muted")
        assert "caméra" in camera and "micro" in muted  # French, the source language

        launcher = assembly.launcher
        assert launcher is not None

        def feed(*events: call.CallEvent) -> None:
            for event in events:
                for listener in list(launcher.hooks.listeners):
                    listener(event)

        feed(call.RemoteMediaState(muted=False, camera_off=True, audio_only=False))
        assert link.doctor_switches_said == [camera]
        feed(call.RemoteMediaState(muted=False, camera_off=True, audio_only=False))
        assert link.doctor_switches_said == [camera], "not again while it stays off"
        feed(call.RemoteMediaState(muted=True, camera_off=True, audio_only=False))
        assert link.doctor_switches_said == [camera, muted]
        feed(call.RemoteMediaState(muted=False, camera_off=False, audio_only=False))
        feed(call.RemoteMediaState(muted=True, camera_off=True, audio_only=False))
        assert link.doctor_switches_said == [camera, muted, camera, muted]  # both at once
        feed(
            call.Incident(call.IncidentCode.RECONNECTING),
            call.RemoteMediaState(muted=False, camera_off=True, audio_only=False),
        )
        assert link.doctor_switches_said[-1] == camera, "told again after a reconnection"
        count = len(link.doctor_switches_said)
        feed(
            call.CallEnded(call.EndReason.DOCTOR_HUNG_UP),
            call.RemoteMediaState(muted=True, camera_off=False, audio_only=False),
        )
        assert link.doctor_switches_said[count:] == [muted], "a new call starts clean"
        link.forget()
        assert link.doctor_switches_said == []
        binding.close()
    finally:
        await assembly.close()
