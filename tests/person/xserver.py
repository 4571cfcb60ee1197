"""An X server of our own (Xvfb) and the real windowed kiosk on it, with its probe.

    with Xvfb() as x:                                   # x.display == ":93"
        with KioskProcess(x.display, out_dir) as kiosk:  # `kiosk demo`, windowed, KIOSK_PROBE on
            kiosk.probe.snapshot()["screen"]             # "welcome"

Why a process of its own: a crash (a Fatal Python error is SIGABRT) must be
seen from outside, as systemd would see it, and the hand (xdotool) must act
on a real X window, not on Qt's offscreen plugin.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
DEMO_CONFIG = ROOT / "kiosk_config" / "examples" / "demo.toml"
TOOLS = ("Xvfb", "xdotool", "import")


def missing_tools() -> list[str]:
    return [tool for tool in TOOLS if shutil.which(tool) is None]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Xvfb:
    """Xvfb on a display number it picks itself (-displayfd): no race with other servers."""

    def __init__(self, size: tuple[int, int] = (1920, 1080), log: Path | None = None) -> None:
        self.size = size
        self.log = log
        self.display = ""
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> str:
        read, write = os.pipe()
        out = open(self.log, "ab") if self.log is not None else subprocess.DEVNULL  # noqa: SIM115
        try:
            self.proc = subprocess.Popen(  # noqa: S603
                [
                    "Xvfb",
                    "-displayfd",
                    str(write),
                    "-screen",
                    "0",
                    f"{self.size[0]}x{self.size[1]}x24",
                    "-nolisten",
                    "tcp",
                    "-noreset",
                ],
                pass_fds=(write,),
                stdout=out,
                stderr=out,
            )
        finally:
            os.close(write)
            if out is not subprocess.DEVNULL:
                out.close()  # type: ignore[union-attr]
        number = b""
        deadline = time.monotonic() + 20
        with os.fdopen(read, "rb") as pipe:
            while not number.endswith(b"\n") and time.monotonic() < deadline:
                chunk = pipe.read(1)
                if not chunk:
                    break
                number += chunk
        if not number.strip().isdigit():
            self.stop()
            raise RuntimeError("Xvfb did not start (no display number).")
        self.display = ":" + number.decode().strip()
        return self.display

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None

    def __enter__(self) -> Xvfb:
        self.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def demo_config(out_dir: Path, **timeouts: int) -> Path:
    """The demo site with its data in `out_dir/data` (and other [timeouts] when given)."""
    text = DEMO_CONFIG.read_text("utf-8")
    data = (out_dir / "data").resolve()
    text = re.sub(r'(?m)^data_dir = ".*"$', f'data_dir = "{data}"', text)
    for key, value in timeouts.items():
        text, n = re.subn(rf"(?m)^{key} = \d+$", f"{key} = {value}", text)
        if n == 0:
            text = text.replace("[timeouts]\n", f"[timeouts]\n{key} = {value}\n", 1)
    path = out_dir / "site.toml"
    out_dir.mkdir(parents=True, exist_ok=True)
    path.write_text(text, "utf-8")
    return path


class ProbeError(RuntimeError):
    pass


class ProbeClient:
    """The kiosk's probe (app/ui/probe.py): one line in, one JSON line out."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._sock: socket.socket | None = None
        self._file: Any = None

    def connect(self, timeout: float = 60.0, alive: Any = None) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                sock.settimeout(20)
                sock.connect(str(self.path))
                self._sock, self._file = sock, sock.makefile("rwb")
                if self.ask("ping") == "pong":
                    return
            except OSError:
                sock.close()
            if alive is not None and not alive():
                raise ProbeError("The kiosk ended before its probe answered.")
            if time.monotonic() > deadline:
                raise ProbeError(f"No probe on {self.path} within {timeout:g} s.")
            time.sleep(0.25)

    def ask(self, command: str) -> Any:
        if self._file is None:
            raise ProbeError("The probe is not connected.")
        self._file.write(command.encode() + b"\n")
        self._file.flush()
        line = self._file.readline()
        if not line:
            raise ProbeError("The probe closed the connection (did the kiosk end?).")
        return json.loads(line)

    def snapshot(self) -> dict[str, Any]:
        answer = self.ask("snapshot")
        if "error" in answer:
            raise ProbeError(f"probe: {answer['error']}")
        return dict(answer)

    def stats(self) -> dict[str, Any]:
        return dict(self.ask("stats"))

    def close(self) -> None:
        if self._sock is not None:
            with contextlib.suppress(OSError):
                self._sock.close()
        self._sock = self._file = None


class KioskProcess:
    """`kiosk demo` windowed on `display`, with its probe on out_dir/probe.sock."""

    def __init__(
        self,
        display: str,
        out_dir: Path,
        *,
        argv: list[str] | None = None,
        config: Path | None = None,
        env: dict[str, str] | None = None,
        startup_s: float = 90.0,
    ) -> None:
        self.display = display
        self.out = out_dir
        self.port = free_port()
        self.config = config or demo_config(out_dir)
        self.argv = argv or [
            sys.executable,
            "-m",
            "app.cli",
            "demo",
            "--config",
            str(self.config),
            "--port",
            str(self.port),
        ]
        self.extra_env = env or {}
        self.startup_s = startup_s
        self.probe = ProbeClient(out_dir / "probe.sock")
        self.proc: subprocess.Popen[bytes] | None = None
        self.returncode: int | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.out.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ)
        env.pop("QT_QPA_PLATFORM", None)  # the real xcb window, never offscreen
        env.update(
            {
                "DISPLAY": self.display,
                "KIOSK_PROBE": str(self.probe.path),
                "PYTHONFAULTHANDLER": "1",
                "PATH": env.get("PATH", "/usr/bin:/bin") + ":/usr/sbin:/sbin",
            }
        )
        env.update(self.extra_env)
        with open(self.out / "kiosk.log", "ab") as log:
            self.proc = subprocess.Popen(  # noqa: S603
                self.argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
            )
        self.probe.connect(self.startup_s, alive=self.alive)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout: float = 30.0) -> int | None:
        """SIGTERM (as systemd stops the cabin), then SIGKILL; the exit code (-N: signal N)."""
        self.probe.close()
        if self.proc is None:
            return self.returncode
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.returncode = self.proc.returncode
        return self.returncode

    def __enter__(self) -> KioskProcess:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def describe_exit(code: int | None) -> str:
    """'exit 0', 'exit 3', 'signal SIGABRT' … for the report."""
    if code is None:
        return "running"
    if code < 0:
        with contextlib.suppress(ValueError):
            return f"signal {signal.Signals(-code).name}"
        return f"signal {-code}"
    return f"exit {code}"
