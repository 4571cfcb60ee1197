"""`kiosk accounts` run as a subprocess, on a real store in a temporary folder."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
import time
from pathlib import Path

from app.maintenance.service import UNLOCK_ADVICE
from tests.maintenance.conftest import GOOD_PASSWORD

ROOT = Path(__file__).resolve().parents[2]


def _kiosk(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app.cli", "accounts", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )


def test_add_prints_the_enrolment_and_list_shows_no_secret(tmp_path: Path) -> None:
    data = str(tmp_path / "data")
    added = _kiosk(
        "add",
        "marie.dupont",
        "--role",
        "assistant",
        "--name",
        "Marie Dupont",
        "--data-dir",
        data,
        "--password-stdin",
        stdin=GOOD_PASSWORD + "\n",
    )
    assert added.returncode == 0, added.stderr
    out = added.stdout
    assert out.startswith("Account 'marie.dupont' created: Marie Dupont, role assistant.\n")
    assert "▀" in out or "▄" in out  # the QR code, drawn with half blocks
    uri = next(line for line in out.splitlines() if line.startswith("URI: "))[5:]
    assert uri.startswith("otpauth://totp/T%C3%A9l%C3%A9cabine:marie.dupont?secret=")
    secret = uri.split("secret=")[1].split("&")[0]
    assert len(secret) == 32
    listed = _kiosk("list", "--data-dir", data)
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert lines[0].split() == ["username", "role", "rpps", "state", "name"]
    assert lines[1].split() == ["marie.dupont", "assistant", "-", "active", "Marie", "Dupont"]
    assert secret not in listed.stdout and "argon2" not in listed.stdout
    assert (tmp_path / "data" / "store.db").exists()
    unlocked = _kiosk("unlock", "marie.dupont", "--data-dir", data)
    assert unlocked.returncode == 0, unlocked.stderr
    first, advice = unlocked.stdout.splitlines()[:2]
    assert first == "Account 'marie.dupont': unlocked."
    assert advice == UNLOCK_ADVICE  # the technician is told to wait for a fresh code


def test_refusals_are_one_sentence_and_exit_2(tmp_path: Path) -> None:
    data = str(tmp_path / "data")
    weak = _kiosk(
        "add",
        "marie.dupont",
        "--role",
        "assistant",
        "--name",
        "Marie Dupont",
        "--data-dir",
        data,
        "--password-stdin",
        stdin="password\n",
    )
    assert weak.returncode == 2
    assert weak.stderr == "kiosk accounts: The password has 8 characters; it needs at least 12.\n"
    ok = _kiosk(
        "add",
        "paul.tech",
        "--role",
        "technician",
        "--name",
        "Paul Martin",
        "--data-dir",
        data,
        "--password-stdin",
        stdin=GOOD_PASSWORD + "\n",
    )
    assert ok.returncode == 0, ok.stderr
    again = _kiosk(
        "add",
        "Paul.Tech",
        "--role",
        "technician",
        "--name",
        "Paul Martin",
        "--data-dir",
        data,
        "--password-stdin",
        stdin=GOOD_PASSWORD + "\n",
    )
    assert again.returncode == 2
    assert again.stderr == (
        "kiosk accounts: An account named 'paul.tech' already exists; each person has one account.\n"
    )
    unknown = _kiosk("unlock", "nobody", "--data-dir", data)
    assert (unknown.returncode, unknown.stderr) == (
        2,
        "kiosk accounts: No account is named 'nobody'.\n",
    )
    disabled = _kiosk("disable", "paul.tech", "--data-dir", data)
    assert (disabled.returncode, disabled.stdout) == (0, "Account 'paul.tech': disabled.\n")
    listed = _kiosk("list", "--data-dir", data)
    assert "paul.tech" in listed.stdout and " disabled " in listed.stdout


def test_data_dir_from_the_site_configuration(tmp_path: Path) -> None:
    demo = (ROOT / "kiosk_config" / "examples" / "demo.toml").read_text(encoding="utf-8")
    config = tmp_path / "site.toml"
    config.write_text(
        demo.replace('data_dir = "var/demo"', f'data_dir = "{tmp_path / "cfgdata"}"'),
        encoding="utf-8",
    )
    added = _kiosk(
        "add",
        "lea.nurse",
        "--role",
        "assistant",
        "--name",
        "Léa Petit",
        "--config",
        str(config),
        "--password-stdin",
        stdin=GOOD_PASSWORD + "\n",
    )
    assert added.returncode == 0, added.stderr
    assert (tmp_path / "cfgdata" / "store.db").exists()


def _read_until(fd: int, marker: bytes, deadline: float) -> bytes:
    seen = b""
    while marker not in seen:
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {marker!r}; got {seen!r}")
        try:
            chunk = os.read(fd, 1024)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    return seen


def test_interactive_prompts_twice_and_refuses_a_mismatch(tmp_path: Path) -> None:
    pid, fd = pty.fork()
    if pid == 0:  # child: the real command on a real terminal
        os.chdir(ROOT)
        os.execv(
            sys.executable,
            [
                sys.executable,
                "-m",
                "app.cli",
                "accounts",
                "add",
                "marie.dupont",
                "--role",
                "assistant",
                "--name",
                "Marie Dupont",
                "--data-dir",
                str(tmp_path / "data"),
            ],
        )
    deadline = time.monotonic() + 30
    _read_until(fd, b"Password: ", deadline)
    os.write(fd, GOOD_PASSWORD.encode() + b"\n")
    _read_until(fd, b"Password again: ", deadline)
    os.write(fd, b"Something-Else-99\n")
    rest = _read_until(fd, b"nothing was created.", deadline)
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    assert os.waitstatus_to_exitcode(status) == 2
    assert b"The two passwords differ; nothing was created." in rest
    assert GOOD_PASSWORD.encode() not in rest  # getpass does not echo
