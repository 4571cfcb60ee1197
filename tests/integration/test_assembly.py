"""The composition root: what `assemble` and `kiosk run` put together, checked on real parts."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from app.assembly import assemble
from app.controller.call_launcher import KioskCallLauncher
from app.controller.wiring import LeftOut
from devtools.platform.testing import running_platform
from kiosk_config import load_config
from tests.packaging.cabin_site import filled_cabin

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

SITE = """
languages = ["fr", "en", "ar"]

[site]
cabin_id = "TEST-CAB-07"
name = "Pharmacie du test"
insee_code = "75056"
mode = "{mode}"

[site.address]
street = "1 rue du Test"
postal_code = "75001"
city = "Paris"

[platform]
url = "{url}"
health_interval_s = 0.2

[storage]
data_dir = "{data}"
retention_days = 3
max_buffer_mb = 64
max_unsent_age_hours = 12
"""

REAL_CAMERA = """
[[devices]]
id = "camera-1"
kind = "camera"
backend = "real"
"""


def write_site(tmp_path: Path, *, mode: str = "test", url: str, extra: str = "") -> Path:
    path = tmp_path / "site.toml"
    path.write_text(SITE.format(mode=mode, url=url, data=tmp_path / "data") + extra, "utf-8")
    return path


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_a_refused_device_is_left_out_with_an_audit_row_and_the_kiosk_starts(
    tmp_path: Path,
) -> None:
    config = load_config(
        write_site(
            tmp_path, mode="production", url=f"http://127.0.0.1:{closed_port()}", extra=REAL_CAMERA
        )
    )
    assembly = await assemble(config, sync=False)
    try:
        await assembly.start(ticker=False)
        assert assembly.left_out == [LeftOut("camera-1", "camera", "no-licensed-profile")]
        rows = await assembly.store.audit_rows(50)
        left = [r for r in rows if r.action == "device.left-out"]
        assert [(r.subject, r.outcome, r.detail) for r in left] == [
            ("camera-1", "failed", "kind=camera,reason=no-licensed-profile")
        ]
        assert isinstance(assembly.call, KioskCallLauncher)
        assert assembly.controller.view.state.value == "welcome"
        # The key file of a demo/test install, in the data directory, owner-only.
        key = tmp_path / "data" / "store.key"
        assert key.exists() and (key.stat().st_mode & 0o077) == 0
    finally:
        await assembly.close()


async def test_a_cabin_opens_its_store_with_the_systemd_credential(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    credentials = tmp_path / "credentials"
    credentials.mkdir()
    (credentials / "store.key").write_text("ab" * 32, "utf-8")
    (credentials / "store.key").chmod(0o600)
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(credentials))
    config = load_config(write_site(tmp_path, url=f"http://127.0.0.1:{closed_port()}"))
    assembly = await assemble(config, sync=False, call=None)
    await assembly.close()
    assert not (tmp_path / "data" / "store.key").exists()
    assert (tmp_path / "data" / "store.db").exists()
    # The same data opened with another key is refused: the credential is what opened it.
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(tmp_path))
    (tmp_path / "store.key").write_text("cd" * 32, "utf-8")
    (tmp_path / "store.key").chmod(0o600)
    from app.store.errors import WrongKey

    with pytest.raises(WrongKey):
        await assemble(config, sync=False, call=None)


async def test_the_network_monitor_reaches_the_flow_and_back(tmp_path: Path) -> None:
    async with running_platform(tmp_path) as (base_url, handle):
        config = load_config(write_site(tmp_path, url=base_url))
        assembly = await assemble(config, call=None)
        try:
            await assembly.start(ticker=False)
            loop = asyncio.get_running_loop()

            async def reachable(expected: bool) -> None:
                deadline = loop.time() + 5
                while assembly.controller.view.context.platform_reachable is not expected:
                    assert loop.time() < deadline, f"platform_reachable never became {expected}"
                    await asyncio.sleep(0.05)

            handle.set_healthy(False)
            await reachable(False)
            handle.set_healthy(True)
            await reachable(True)
        finally:
            await assembly.close()


def test_kiosk_run_tells_systemd_it_is_ready_and_pings_the_watchdog(tmp_path: Path) -> None:
    site = write_site(tmp_path, url=f"http://127.0.0.1:{closed_port()}")
    address = tmp_path / "notify.sock"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(str(address))
    listener.settimeout(30)
    env = {
        "PATH": "/usr/sbin:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "QT_QPA_PLATFORM": "offscreen",
        "NOTIFY_SOCKET": str(address),
        "WATCHDOG_USEC": "400000",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "run", "--config", str(site)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        messages = [listener.recv(1024).decode() for _ in range(3)]
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        _, stderr = process.communicate(timeout=20)
        listener.close()
    assert messages[0] == "READY=1\nSTATUS=welcome screen shown"
    assert messages[1:] == ["WATCHDOG=1", "WATCHDOG=1"]
    assert "propagateSizeHints" not in stderr
    assert "Traceback" not in stderr


async def test_the_assembled_kiosk_pushes_its_heartbeat_to_the_fleet_page(
    tmp_path: Path,
) -> None:
    """`kiosk run`'s assembly starts the heartbeat: the platform's fleet page names the cabin."""
    from devtools.platform.fleet import FLEET_KEY

    async with running_platform(tmp_path) as (base_url, handle):
        config = load_config(write_site(tmp_path, url=base_url))
        assembly = await assemble(config, call=None)
        try:
            assert assembly.heartbeat is not None  # on by default ([platform.heartbeat])
            await assembly.start(ticker=False)
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 10
            # What the fleet page lists (the page itself is behind the staff login).
            while handle.app[FLEET_KEY].store.get("TEST-CAB-07") is None:
                assert loop.time() < deadline, "the cabin never reached the fleet"
                await asyncio.sleep(0.1)
        finally:
            await assembly.close()


async def test_heartbeat_off_in_the_site_configuration_starts_none(tmp_path: Path) -> None:
    path = write_site(tmp_path, url=f"http://127.0.0.1:{closed_port()}")
    text = path.read_text("utf-8").replace(
        "health_interval_s = 0.2",
        "health_interval_s = 0.2\n\n[platform.heartbeat]\nenabled = false",
    )
    path.write_text(text, "utf-8")
    assembly = await assemble(load_config(path), call=None)
    try:
        assert assembly.heartbeat is None
    finally:
        await assembly.close()


TAP_AT_READY = """
import json, os, sys
from app import sdnotify

def ready(self, status=""):
    from PySide6.QtCore import QPoint, Qt
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication
    from app.ui.main_window import KioskWindow
    from app.ui.maintenance.pages import LoginPage

    window = next(w for w in QApplication.topLevelWidgets() if isinstance(w, KioskWindow))
    seen = []
    for _ in range(5):
        point = QPoint(window.width() - 60, window.stack.geometry().top() + 60)
        target = window.childAt(point) or window
        QTest.mouseClick(target, Qt.MouseButton.LeftButton, pos=target.mapFrom(window, point))
        seen.append(window.maintenance.is_open)
    page = window.maintenance.page
    with open(os.environ["REPORT"], "w") as out:
        json.dump({"open_after": seen, "sign_in": isinstance(page, LoginPage)}, out)
    os._exit(0)

sdnotify.Notifier.ready = ready
from app.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_five_taps_in_the_running_kiosks_welcome_corner_open_the_technician_sign_in(
    tmp_path: Path,
) -> None:
    """`kiosk run` (the filled cabin template, offscreen) wires the technician's mode: at
    READY, four taps in the welcome screen's corner do nothing, the fifth opens the sign-in."""
    import json
    import sys

    root = Path(__file__).resolve().parents[2]
    site, creds = filled_cabin(tmp_path)
    report = tmp_path / "report.json"
    done = subprocess.run(  # noqa: S603
        [sys.executable, "-c", TAP_AT_READY, "run", "--config", site],
        cwd=root,
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
    assert seen == {"open_after": [False, False, False, False, True], "sign_in": True}
