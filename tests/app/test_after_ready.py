"""Issue 14, cold start: what waits for READY is still done, right after it, in the real
`kiosk run` (the filled cabin template, offscreen, the store key from a credentials
directory): every screen built, the technician's mode built, every catalogue parsed
(docs/runtime.md, "Assembly: what waits for READY"). READY and the watchdog's pings are
tests/integration/test_assembly.py's."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.packaging.cabin_site import filled_cabin

ROOT = Path(__file__).resolve().parents[2]

AFTER_READY = """
import json, os, sys, time
from app import sdnotify

at_ready = {}

def ready(self, status=""):
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication
    from app.ui.main_window import KioskWindow

    window = next(w for w in QApplication.topLevelWidgets() if isinstance(w, KioskWindow))
    at_ready.update(screens=len(window.screens), built=window._maintenance is not None)

    def later():
        with open(os.environ["REPORT"], "w") as out:
            json.dump(
                {
                    "at_ready": at_ready,
                    "screens": len(window.screens),
                    "stack": window.stack.count(),
                    "technician": window._maintenance is not None,
                    "catalogues": sorted(window.catalogues._by_lang),
                    "showing": window.current_view.screen.value,
                },
                out,
            )
        os._exit(0)

    QTimer.singleShot(3000, later)
    return True

sdnotify.Notifier.ready = ready
from app.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_what_waits_for_ready_is_done_right_after_it(tmp_path: Path) -> None:
    site, creds = filled_cabin(tmp_path)
    report = tmp_path / "report.json"
    done = subprocess.run(  # noqa: S603
        [sys.executable, "-c", AFTER_READY, "run", "--config", site],
        cwd=ROOT,
        env={
            "PATH": "/usr/bin:/bin",
            "QT_QPA_PLATFORM": "offscreen",
            "CREDENTIALS_DIRECTORY": str(creds),
            "TELECABINE_STORE_CREDENTIAL": str(tmp_path / "none.cred"),
            "HOME": str(tmp_path),
            "REPORT": str(report),
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert report.exists(), f"the kiosk never reached READY: {done.stderr[-2000:]}"
    seen = json.loads(report.read_text())
    assert seen["at_ready"] == {"screens": 2, "built": False}  # welcome and error only
    assert seen["screens"] == 26  # every screen of the flow, once
    assert seen["stack"] > seen["screens"]  # and the technician's screen
    assert seen["technician"] is True
    assert seen["catalogues"] == ["ar", "en", "fr"]
    assert seen["showing"] == "welcome"
