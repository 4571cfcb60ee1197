"""Rules of the house that a grep can check."""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_qt_is_confined_to_ui_and_main() -> None:
    result = subprocess.run(
        ["bash", str(ROOT / "scripts" / "check_qt_imports.sh")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
