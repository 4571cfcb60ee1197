"""Issue 18, part 6: what the demo writes (demo-out/) is its user's only: 0700 / 0600.

On the code before the fix, demo-out/data/platform.sqlite3 and report.json were
0644 in 0755 folders: readable by every account of the machine.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk_demo.command import PRIVATE_UMASK, private_output


@pytest.fixture
def restore_umask() -> Iterator[None]:
    old = os.umask(0o022)
    os.umask(old)
    yield
    os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_demo_output_is_private_from_now_on_and_already_there(
    tmp_path: Path, restore_umask: None
) -> None:
    os.umask(0o022)
    out = tmp_path / "demo-out"
    (out / "data").mkdir(parents=True)
    old_report = out / "report.json"
    old_report.write_text("{}")
    (out / "data" / "platform.sqlite3").write_bytes(b"x")
    assert mode(old_report) == 0o644 and mode(out / "data") == 0o755  # as before the fix
    private_output(out)
    assert mode(out) == 0o700 and mode(out / "data") == 0o700
    assert mode(old_report) == 0o600 and mode(out / "data" / "platform.sqlite3") == 0o600
    fresh = out / "data" / "new.sqlite3"
    fresh.write_bytes(b"y")  # what the demo writes next (SQLite, report, PNG)
    (out / "shots").mkdir()
    assert mode(fresh) == 0o600 and mode(out / "shots") == 0o700
    assert os.umask(PRIVATE_UMASK) == PRIVATE_UMASK


def test_a_new_output_folder_is_created_private(tmp_path: Path, restore_umask: None) -> None:
    os.umask(0o022)
    private_output(tmp_path / "a" / "demo-out")
    assert mode(tmp_path / "a" / "demo-out") == 0o700
