"""coturn on loopback for the demo and the tests.

``with TurnServer() as turn:`` starts ``turnserver`` with a static user, no
TLS, no CLI, listening and relaying on 127.0.0.1 only, logging to stdout
(kept in memory, never shown unless asked), and stops it on exit. The
kiosk's IceServer and the console's RTCIceServer come from ``turn.ice_server()``
and ``turn.browser_ice_server()``.
"""

from __future__ import annotations

import os
import shutil
import socket
import struct
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from types import TracebackType

from kiosk_config.schema import IceServer

TURNSERVER = "/usr/bin/turnserver"


class TurnError(Exception):
    """coturn could not be started."""


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class TurnServer:
    def __init__(
        self,
        *,
        port: int | None = None,
        user: str = "kiosk",
        password: str = "demo-turn",  # noqa: S107 - loopback demo credential
        realm: str = "telecabine.test",
        min_port: int = 49160,
        max_port: int = 49260,
    ) -> None:
        self.port = port or free_udp_port()
        self.user, self.password, self.realm = user, password, realm
        self.min_port, self.max_port = min_port, max_port
        self._process: subprocess.Popen[str] | None = None
        self._dir: tempfile.TemporaryDirectory[str] | None = None
        self.log_lines: list[str] = []
        self._reader: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"turn:127.0.0.1:{self.port}?transport=udp"

    def ice_server(self, *, port: int | None = None) -> IceServer:
        """The kiosk's entry; ``port`` points it at a proxy in front of coturn instead."""
        url = f"turn:127.0.0.1:{port or self.port}?transport=udp"
        return IceServer(urls=(url,), username=self.user, credential=self.password)

    def browser_ice_server(self) -> dict[str, object]:
        return {"urls": [self.url], "username": self.user, "credential": self.password}

    def command(self) -> list[str]:
        assert self._dir is not None
        return [
            shutil.which("turnserver") or TURNSERVER,
            "-n",  # no configuration file
            "--no-cli",
            "--no-tls",
            "--no-dtls",
            "--listening-ip=127.0.0.1",
            "--relay-ip=127.0.0.1",
            f"--listening-port={self.port}",
            f"--min-port={self.min_port}",
            f"--max-port={self.max_port}",
            "--lt-cred-mech",
            f"--user={self.user}:{self.password}",
            f"--realm={self.realm}",
            "--allow-loopback-peers",
            "--no-multicast-peers",
            "--log-file=stdout",
            "--simple-log",
            f"--pidfile={self._dir.name}/turnserver.pid",
            f"--userdb={self._dir.name}/turndb",
        ]

    def start(self, timeout_s: float = 5.0) -> TurnServer:
        self._dir = tempfile.TemporaryDirectory(prefix="turn-")
        self._process = subprocess.Popen(  # noqa: S603 - fixed argument list
            self.command(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            cwd=self._dir.name,
        )
        self._reader = threading.Thread(target=self._read_log, daemon=True)
        self._reader.start()
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise TurnError(f"turnserver exited with code {self._process.returncode} at start.")
            if self._answers_stun():
                return self
            time.sleep(0.05)
        self.stop()
        raise TurnError(f"turnserver did not open its listener in {timeout_s:g} seconds.")

    def _answers_stun(self) -> bool:
        """A STUN Binding request answered means the UDP listener is up."""
        request = struct.pack("!HHI12s", 0x0001, 0, 0x2112A442, os.urandom(12))
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(0.2)
            s.sendto(request, ("127.0.0.1", self.port))
            try:
                data = s.recv(2048)
            except OSError:
                return False
        return len(data) >= 20 and data[4:8] == request[4:8]

    def _read_log(self) -> None:
        assert self._process is not None and self._process.stdout is not None
        for line in self._process.stdout:
            if len(self.log_lines) < 5000:
                self.log_lines.append(line.rstrip())

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        if self._reader is not None:
            self._reader.join(timeout=2)
            self._reader = None
        if process is not None and process.stdout is not None:
            process.stdout.close()
        if self._dir is not None:
            self._dir.cleanup()
            self._dir = None

    def __enter__(self) -> TurnServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def main() -> None:
    """``python -m devtools.turn``: run coturn on loopback until Ctrl-C."""
    with TurnServer(port=3478) as turn:
        print(f"TURN on {turn.url} user {turn.user} password {turn.password}", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


__all__ = ["Path", "TurnError", "TurnServer", "free_udp_port", "main"]
