"""coturn on loopback for the demo and the tests.

``with TurnServer() as turn:`` starts ``turnserver`` with a static user (or,
with ``auth_secret=``, coturn's TURN REST scheme: ``use-auth-secret``, no user at
all, only ephemeral credentials minted by `rest_credential`), no TLS, listening
and relaying on 127.0.0.1 only, on a free listening port and its own relay range
(so instances never share ports), logging to stdout (kept in memory, never shown
unless asked), and stops it on exit. The kiosk's IceServer and the console's
RTCIceServer come from ``turn.ice_server()`` and ``turn.browser_ice_server()``.

No management CLI unless ``cli_password=`` is given: then coturn's telnet CLI
listens on loopback (a free TCP port) behind that password, and ``turn.admin``
(`TurnAdmin`) lists and cancels relay sessions through it. The platform uses it
to end a call's relay sessions at hang-up (docs/call.md, "TURN"): coturn's REST
scheme checks a credential's timestamp only when a session first authenticates,
never on Refresh, so an allocation outlives its credential unless it is
cancelled.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import os
import random
import re
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


class TurnAdminError(Exception):
    """coturn's management CLI could not be reached or refused the password."""


_SESSION_LINE = re.compile(r"id=(\d+), user <([^>]*)>")
_PROMPT = b">"  # the CLI's cursor ("> "), compared without trailing blanks
_ASKS_PASSWORD = b"password:"  # "Enter password: "


def parse_sessions(listing: str, fragment: str) -> list[tuple[str, str]]:
    """(session id, username) of each session in a `psp` listing whose username holds
    `fragment`; coturn prints one ``N) id=<digits>, user <name>:`` line per session."""
    return [(sid, user) for sid, user in _SESSION_LINE.findall(listing) if fragment in user]


class TurnAdmin:
    """coturn's telnet management CLI (``--cli-ip``/``--cli-port``/``--cli-password``).

    Two commands are used: ``psp <text>`` lists the sessions whose username
    contains the text (id and username per session), ``cs <id>`` cancels one
    session at once (its allocation, permissions and channels go with it). One
    connection per call of `cancel`; the CLI answers each command with its
    prompt ``"> "``. The password travels on loopback only.
    """

    def __init__(self, host: str, port: int, password: str, *, timeout_s: float = 3.0) -> None:
        self.host, self.port, self.timeout_s = host, port, timeout_s
        self._password = password

    def __repr__(self) -> str:
        return f"TurnAdmin({self.host}:{self.port})"

    async def _run(self, commands: list[str]) -> list[str]:
        try:
            async with asyncio.timeout(self.timeout_s):
                reader, writer = await asyncio.open_connection(self.host, self.port)
                try:
                    await self._until(reader, _ASKS_PASSWORD)
                    writer.write(self._password.encode() + b"\r\n")
                    await writer.drain()
                    greeting = await self._until(reader, _PROMPT, _ASKS_PASSWORD)
                    if not greeting.rstrip().endswith(_PROMPT):
                        raise TurnAdminError("coturn's CLI refused the password.")
                    answers = []
                    for command in commands:
                        writer.write(command.encode() + b"\r\n")
                        await writer.drain()
                        answers.append(
                            (await self._until(reader, _PROMPT)).decode(errors="replace")
                        )
                    writer.write(b"quit\r\n")
                    return answers
                finally:
                    writer.close()
        except (OSError, TimeoutError, asyncio.IncompleteReadError) as exc:
            raise TurnAdminError(f"coturn's CLI is not answering ({type(exc).__name__}).") from exc

    @staticmethod
    async def _until(reader: asyncio.StreamReader, *ends: bytes) -> bytes:
        seen = b""
        while not any(seen.rstrip().endswith(end) for end in ends):
            chunk = await reader.read(4096)
            if not chunk:
                raise asyncio.IncompleteReadError(seen, None)
            seen += chunk
        return seen

    async def sessions(self, fragment: str) -> list[tuple[str, str]]:
        """(session id, username) of every session whose username contains `fragment`."""
        if not fragment or any(c.isspace() for c in fragment):
            raise ValueError("A session filter is one word.")
        (listing,) = await self._run([f"psp {fragment}"])
        return parse_sessions(listing, fragment)

    async def cancel(self, fragment: str) -> int:
        """Cancel every session whose username contains `fragment`; how many there were."""
        found = await self.sessions(fragment)
        if found:
            await self._run([f"cs {sid}" for sid, _ in found])
        return len(found)


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _free_tcp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
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
        cli_password: str | None = None,
    ) -> None:
        self.auth_secret = auth_secret
        self._cli_password = cli_password
        self.cli_port = _free_tcp_port() if cli_password else None
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

    @property
    def admin(self) -> TurnAdmin | None:
        """The management CLI's client (None when started without `cli_password`)."""
        if self._cli_password is None or self.cli_port is None:
            return None
        return TurnAdmin("127.0.0.1", self.cli_port, self._cli_password)

    def mint(self, name: str, expires_at: int) -> tuple[str, str]:
        """An ephemeral (username, password) for this server (TURN REST mode only)."""
        if self.auth_secret is None:
            raise TurnError("This TURN server has static users, not the TURN REST scheme.")
        return rest_credential(self.auth_secret, name, expires_at)

    def ice_server(self, *, port: int | None = None) -> IceServer:
        """The kiosk's entry; ``port`` points it at a proxy in front of coturn instead.

        In TURN REST mode the entry is the URL alone: there is no fixed password to
        give, the platform mints one per call (and per maintenance test)."""
        url = f"turn:127.0.0.1:{port or self.port}?transport=udp"
        if self.auth_secret is not None:
            return IceServer(urls=(url,))
        return IceServer(urls=(url,), username=self.user, credential=self.password)

    def browser_ice_server(self) -> dict[str, object]:
        if self.auth_secret is not None:
            return {"urls": [self.url]}
        return {"urls": [self.url], "username": self.user, "credential": self.password}

    def command(self) -> list[str]:
        assert self._dir is not None
        return [
            shutil.which("turnserver") or TURNSERVER,
            "-n",  # no configuration file
            *(
                ["--no-cli"]
                if self._cli_password is None
                else [
                    "--cli-ip=127.0.0.1",
                    f"--cli-port={self.cli_port}",
                    f"--cli-password={self._cli_password}",
                ]
            ),
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
    "TurnAdmin",
    "TurnAdminError",
    "TurnError",
    "TurnServer",
    "free_udp_port",
    "main",
    "parse_sessions",
    "rest_credential",
    "release_port_block",
    "reserve_port_block",
]
