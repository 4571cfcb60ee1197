"""coturn on loopback for the demo and the tests.

``with TurnServer() as turn:`` starts ``turnserver`` with a static user (or,
with ``auth_secret=``, coturn's TURN REST scheme: ``use-auth-secret``, no user at
all, only ephemeral credentials minted by `rest_credential`), no TLS, no CLI, listening and relaying on 127.0.0.1 only, on a free listening
port and its own relay range (so instances never share ports), logging to stdout
(kept in memory, never shown unless asked), and stops it on exit. The
kiosk's IceServer and the console's RTCIceServer come from ``turn.ice_server()``
and ``turn.browser_ice_server()``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import random
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


def rest_credential(secret: str, name: str, expires_at: int) -> tuple[str, str]:
    """coturn's TURN REST credential: username ``"<expiry>:<name>"``, password
    ``base64(HMAC-SHA1(secret, username))``; coturn refuses it once `expires_at` has passed."""
    username = f"{int(expires_at)}:{name}"
    mac = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return username, base64.b64encode(mac).decode("ascii")


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# Each coturn gets its own block of ports: the listening port, then its relay
# range. Blocks are drawn below Linux's ephemeral ports (32768+, which the
# kernel hands out to any socket) and far from Debian coturn's defaults (3478,
# relays 49152+), so a demo, several test runs and the system's own coturn
# service can run side by side.
BLOCK_LOW, BLOCK_HIGH = 20_000, 32_000
RELAY_PORTS = 40
_reserved: set[int] = set()  # block bases held by TurnServers of this process
_reserved_lock = threading.Lock()


def _port_free(port: int, kind: socket.SocketKind) -> bool:
    with socket.socket(socket.AF_INET, kind) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def reserve_port_block(size: int, *, attempts: int = 200) -> int:
    """The first port of `size` consecutive loopback ports free now (UDP; TCP for the first).

    The caller gives it back with `release_port_block`. Another process could
    still take a port before coturn binds it; coturn then skips that relay port.
    """
    rng = random.SystemRandom()
    for _ in range(attempts):
        base = rng.randrange(BLOCK_LOW, BLOCK_HIGH - size)
        with _reserved_lock:
            if any(abs(base - other) < size for other in _reserved):
                continue
            _reserved.add(base)
        ports_free = _port_free(base, socket.SOCK_STREAM) and all(
            _port_free(p, socket.SOCK_DGRAM) for p in range(base, base + size)
        )
        if ports_free:
            return base
        release_port_block(base)
    raise TurnError(f"No {size} consecutive free ports between {BLOCK_LOW} and {BLOCK_HIGH}.")


def release_port_block(base: int) -> None:
    with _reserved_lock:
        _reserved.discard(base)


class TurnServer:
    """One coturn on loopback; by default on its own free listening port and relay range."""

    def __init__(
        self,
        *,
        port: int | None = None,
        user: str = "kiosk",
        password: str = "demo-turn",  # noqa: S107 - loopback demo credential
        realm: str = "telecabine.test",
        min_port: int | None = None,
        max_port: int | None = None,
        auth_secret: str | None = None,
    ) -> None:
        self.auth_secret = auth_secret
        self._block: int | None = None
        if port is None or min_port is None or max_port is None:
            # listening port (UDP and TCP), port + 1 left unused, then the relay range
            self._block = reserve_port_block(RELAY_PORTS + 2)
        self.port = port or self._block or 0
        self.min_port = min_port or (self._block or 0) + 2
        self.max_port = max_port or self.min_port + RELAY_PORTS - 1
        if not 0 < self.min_port < self.max_port:
            raise TurnError(f"The relay range {self.min_port}-{self.max_port} is empty.")
        self.user, self.password, self.realm = user, password, realm
        self._process: subprocess.Popen[str] | None = None
        self._dir: tempfile.TemporaryDirectory[str] | None = None
        self.log_lines: list[str] = []
        self._reader: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"turn:127.0.0.1:{self.port}?transport=udp"

    def mint(self, name: str, expires_at: int) -> tuple[str, str]:
        """An ephemeral (username, password) for this server (TURN REST mode only)."""
        if self.auth_secret is None:
            raise TurnError("This TURN server has static users, not the TURN REST scheme.")
        return rest_credential(self.auth_secret, name, expires_at)

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
            *(
                ["--lt-cred-mech", f"--user={self.user}:{self.password}"]
                if self.auth_secret is None
                else ["--use-auth-secret", f"--static-auth-secret={self.auth_secret}"]
            ),
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
            code = self._process.poll()
            if code is not None:
                self.stop()
                raise TurnError(f"turnserver exited with code {code} at start.")
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
        if self._block is not None:
            release_port_block(self._block)
            self._block = None

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
    with TurnServer() as turn:
        print(
            f"TURN on {turn.url} (relays {turn.min_port}-{turn.max_port}) "
            f"user {turn.user} password {turn.password}",
            flush=True,
        )
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


__all__ = [
    "Path",
    "TurnError",
    "TurnServer",
    "free_udp_port",
    "main",
    "rest_credential",
    "release_port_block",
    "reserve_port_block",
]
