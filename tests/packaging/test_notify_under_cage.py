"""The unit's readiness and watchdog, with the kiosk as cage's child (issue 14).

A test-owned notify socket plays systemd (`fake_systemd.FakeSystemd`: sender
credentials, the unit's NotifyAccess=), a cage-like parent forks the kiosk
(`cage_standin.py`), and:

* the real `kiosk run` (offscreen, the filled cabin template, the store key in
  a credentials directory laid out as systemd lays it out) says READY and
  pings: accepted under the unit's settings — and refused under the old
  NotifyAccess=main, which is why the service looped at start;
* a kiosk whose loop freezes stops pinging: systemd's watchdog would fire
  within the interval.
"""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.packaging.fake_systemd import FakeSystemd, UnitSettings

ROOT = Path(__file__).resolve().parents[2]
UNIT = ROOT / "packaging" / "systemd" / "telecabine-kiosk.service"
HERE = Path(__file__).resolve().parent
KIOSK = Path(sys.executable).with_name("kiosk")


def test_the_unit_lets_the_kiosk_under_cage_notify() -> None:
    unit = UnitSettings.read(UNIT)
    assert unit.service_type == "notify"
    assert unit.notify_access == "all"
    assert 10 <= unit.watchdog_s <= 60
    assert unit.exec_start[0] == "/usr/bin/cage"
    assert "-s" not in unit.exec_start[: unit.exec_start.index("--")]  # no VT switching
    text = UNIT.read_text()
    for line in (
        "Conflicts=getty@tty7.service",
        "StartLimitIntervalSec=",
        "StartLimitBurst=",
        "LoadCredentialEncrypted=store.key:/etc/telecabine/store.key.cred",
        "StateDirectoryMode=0700",
    ):
        assert line in text
    assert any(
        "time-sync.target" in line for line in text.splitlines() if line.startswith("After=")
    )


def _cage(command: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, str(HERE / "cage_standin.py"), "-d", "--", *command],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def _stop(proc: subprocess.Popen[bytes]) -> str:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
    assert proc.stdout is not None
    with proc.stdout:
        return proc.stdout.read().decode("utf-8", "replace")


def _cabin(tmp_path: Path) -> tuple[Path, Path]:
    """The cabin template filled as a technician would, and a credentials directory."""
    site = subprocess.run(
        [
            sys.executable,
            str(ROOT / "packaging" / "ci" / "fill-site.py"),
            str(tmp_path / "etc"),
            str(ROOT / "kiosk_config" / "examples" / "cabin-template.toml"),
            str(tmp_path / "var-lib-telecabine"),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    creds = tmp_path / "credentials" / "telecabine-kiosk.service"
    creds.mkdir(parents=True, mode=0o700)
    (creds / "store.key").write_bytes(os.urandom(32).hex().encode())
    (creds / "store.key").chmod(0o400)
    return Path(site), creds


def test_real_kiosk_run_under_cage_is_ready_and_pings(tmp_path: Path) -> None:
    unit = UnitSettings.read(UNIT)
    site, creds = _cabin(tmp_path)
    systemd = FakeSystemd(tmp_path / "notify", unit.notify_access)
    watchdog_usec = 2_000_000  # the unit says 30 s; 2 s here to see several pings quickly
    env = {
        **os.environ,
        "NOTIFY_SOCKET": str(tmp_path / "notify"),
        "WATCHDOG_USEC": str(watchdog_usec),
        "CREDENTIALS_DIRECTORY": str(creds),
        "QT_QPA_PLATFORM": "offscreen",
        "TELECABINE_STORE_CREDENTIAL": str(tmp_path / "absent.cred"),
    }
    env.pop("JOURNAL_STREAM", None)
    command = [str(KIOSK), "run", "--config", str(site)]
    cage = _cage(command, env)
    systemd.main_pid = cage.pid
    try:
        got_ready = systemd.wait_for("READY", 90)
        time.sleep(2.5)  # a few pings
        ready_at = systemd.ready_after()
    finally:
        output = _stop(cage)
        systemd.close()
    assert got_ready, f"no READY from `{shlex.join(command)}`:\n{output[-3000:]}"
    ready = [m for m in systemd.messages if "READY" in m.fields]
    assert ready and ready[0].pid != cage.pid, "READY must come from the kiosk, cage's child"
    assert ready[0].accepted and ready_at is not None
    pings = systemd.accepted("WATCHDOG")
    assert len(pings) >= 2
    assert not systemd.refused()
    assert systemd.watchdog_gap(until=pings[-1].at) <= watchdog_usec / 1e6
    # The same messages under the old unit (NotifyAccess=main): all refused.
    assert all(m.pid != cage.pid for m in systemd.messages)
    print(f"READY after {ready_at:.2f} s (cage stand-in start → READY), {len(pings)} pings")


def test_a_frozen_loop_stops_the_pings_within_the_watchdog_interval(tmp_path: Path) -> None:
    unit = UnitSettings.read(UNIT)
    systemd = FakeSystemd(tmp_path / "notify", unit.notify_access)
    watchdog_s = 1.0
    env = {
        **os.environ,
        "NOTIFY_SOCKET": str(tmp_path / "notify"),
        "WATCHDOG_USEC": str(int(watchdog_s * 1e6)),
    }
    cage = _cage([sys.executable, str(HERE / "frozen_kiosk.py"), "2.0", "4.0"], env)
    systemd.main_pid = cage.pid
    try:
        assert systemd.wait_for("READY", 30)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not _freezing(systemd):
            time.sleep(0.05)
        frozen_at = _freezing(systemd)
        assert frozen_at is not None
        alive = [m for m in systemd.accepted("WATCHDOG") if m.at <= frozen_at]
        assert len(alive) >= 3  # pinging every half interval while the loop ran
        time.sleep(watchdog_s + 0.5)
        later = [m for m in systemd.accepted("WATCHDOG") if m.at > frozen_at]
        assert later == [], "a frozen loop must not ping"
        # systemd would fire: no ping for longer than WatchdogSec, counted from the last one.
        assert systemd.watchdog_gap() > watchdog_s
        last = alive[-1].at
        assert frozen_at - last <= watchdog_s / 2 + 0.3  # the last ping was recent…
        # …so the watchdog fires at most one interval after the freeze.
    finally:
        _stop(cage)
        systemd.close()
    assert not systemd.refused()


def _freezing(systemd: FakeSystemd) -> float | None:
    return next((m.at for m in systemd.messages if m.fields.get("STATUS") == "freezing"), None)


def test_the_old_notify_access_main_refuses_the_kiosk(tmp_path: Path) -> None:
    """What the issue saw: with NotifyAccess=main, READY from cage's child is ignored."""
    systemd = FakeSystemd(tmp_path / "notify", "main")
    env = {**os.environ, "NOTIFY_SOCKET": str(tmp_path / "notify"), "WATCHDOG_USEC": "1000000"}
    cage = _cage([sys.executable, str(HERE / "frozen_kiosk.py"), "1.0", "0.1"], env)
    systemd.main_pid = cage.pid
    try:
        assert systemd.wait_for("READY", 30)
    finally:
        _stop(cage)
        systemd.close()
    assert systemd.ready_after() is None
    assert systemd.refused()


@pytest.mark.parametrize("path", ["sysctl/60-telecabine.conf", "logind/60-telecabine.conf"])
def test_the_cabin_keys_are_disabled(path: str) -> None:
    text = (ROOT / "packaging" / path).read_text()
    if path.startswith("sysctl"):
        assert "kernel.sysrq = 0" in text
    else:
        for line in ("HandlePowerKey=ignore", "NAutoVTs=0", "ReserveVT=0"):
            assert line in text
    system = (ROOT / "packaging" / "systemd" / "system.conf.d" / "60-telecabine.conf").read_text()
    assert "CtrlAltDelBurstAction=none" in system
