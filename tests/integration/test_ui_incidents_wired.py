"""The composition root routes the screen's incidents into the act's trace, and the site's
platform URL gives each document its page (what `bind_window` and `site_of` put together)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from app.assembly import assemble
from app.domain import session_events as ev
from app.domain.trace import IncidentCode, TraceKind
from app.ui.call_bridge import bind_window
from app.ui.i18n import Catalogues
from app.ui.main_window import KioskWindow
from app.ui.presenter import Presenter
from app.ui.views import UiIncident
from kiosk_config import load_config
from tests.integration.test_assembly import closed_port, write_site

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]


async def test_ui_incidents_reach_the_trace_through_bind_window(
    tmp_path: Path, qtbot: QtBot
) -> None:
    port = closed_port()
    config = load_config(write_site(tmp_path, url=f"http://127.0.0.1:{port}/"))
    assembly = await assemble(config, sync=False, call=None)
    window = KioskWindow(Catalogues())
    qtbot.addWidget(window)
    try:
        assert assembly.site.document_url == (
            f"http://127.0.0.1:{port}/cabin/documents/{{session}}/{{id}}"
        )
        binding, link = bind_window(
            assembly, window, Presenter(assembly.site, assembly.controller.now)
        )
        await assembly.start(ticker=False)
        controller = assembly.controller
        assert (await controller.submit(ev.Begin)).accepted
        session_id = controller.view.context.session_id
        window.show_calm_error(ZeroDivisionError("boom"))  # ui-error, from the window itself
        window.incidents.emit(UiIncident("speech-failed", "espeak-ng could not render the words."))
        window.incidents.emit(UiIncident("audio-failed", "The sound card refused the words."))
        assert link.tasks, "the incidents are being recorded"
        await asyncio.wait_for(asyncio.gather(*list(link.tasks)), 5)
        assert (await controller.submit(ev.StopRequested)).accepted
        assert (await controller.submit(ev.StopConfirmed)).accepted
        binding.close()
        assert session_id is not None
        record = await assembly.store.session_bundle_source(session_id)
        assert [t.incident for t in record.trace if t.kind is TraceKind.INCIDENT] == [
            IncidentCode.UI_ERROR,
            IncidentCode.SPEECH_FAILED,
            IncidentCode.AUDIO_FAILED,
        ]
    finally:
        await assembly.close()
