"""The headless demo: a scripted patient through the whole way, screenshots and a report."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_headless_demo_writes_a_png_per_screen_and_a_report(tmp_path: Path) -> None:
    out = tmp_path / "demo-out"
    env = {"PATH": "/usr/bin:/bin", "QT_QPA_PLATFORM": "offscreen", "HOME": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-m", "app.cli", "demo", "--out", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.startswith("demo: no screen found, running headless")
    report = json.loads((out / "report.json").read_text("utf-8"))
    screens = [s["screen"] for s in report["screens"]]
    for needed in (
        "welcome",
        "emergency-check",
        "information",
        "identification",
        "confirm-identity",
        "consent",
        "orientation",
        "measurements",
        "waiting-room",
        "call",
        "end",
        "stop-confirm",
    ):
        assert needed in screens, needed
    assert {s["language"] for s in report["screens"]} == {"fr", "en", "ar"}
    files = sorted(p.name for p in out.glob("*.png"))
    assert files == sorted(s["file"] for s in report["screens"])
    assert files[0] == "01-welcome-fr.png"
    assert report["refused_choices"] == []
