"""A private pcscd with the vpcd virtual reader, for tests and the demo.

Why this is not just `pcscd --foreground`: pcsc-lite 1.9.9 (Debian 12) hard-
codes its server socket at /run/pcscd/pcscd.comm and ignores
PCSCLITE_CSOCK_NAME on the server side. It does accept a socket handed over by
systemd-style socket activation (LISTEN_FDS / LISTEN_PID, fd 3). So we bind
the socket ourselves in a private directory, start pcscd with it as fd 3, and
point our clients at it with PCSCLITE_CSOCK_NAME (which libpcsclite honours).

libpcsclite reads PCSCLITE_CSOCK_NAME once per process, at the first PC/SC
call, and caches it: call `use_in_this_process()` (or set the variable in a
child's environment) BEFORE anything in the process touches pyscard. The
shared sandbox therefore keeps one stable socket path per process.

The reader configuration is written to a private reader.conf.d (`pcscd -c`)
so that the vpcd port can be chosen: tests take a free port pair (vpcd opens
two slots, on port and port + 1) so that they never collide with a demo or
another run on the same machine; the demo uses the usual 35963.
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from drivers.card.errors import CardErrorReason, CardTransportError
from drivers.card.sim_vpcd import DEFAULT_VPCD_PORT

SYSTEM_SOCKET = Path("/run/pcscd/pcscd.comm")
VPCD_READER_NAME = "Virtual PCD"
_VPCD_DRIVER_GLOBS = (
    "/usr/lib/pcsc/drivers/serial/libifdvpcd.so*",
    "/usr/lib/*/pcsc/drivers/serial/libifdvpcd.so*",
    "/usr/local/lib/pcsc/drivers/serial/libifdvpcd.so*",
)


@dataclass(frozen=True, slots=True)
class PcscEndpoint:
    """Where the PC/SC clients and the virtual card must go."""

    socket_path: Path  # the pcscd socket (SYSTEM_SOCKET for the system daemon)
    vpcd_port: int  # the TCP port of "Virtual PCD 00 00"
    private: bool  # True when we started the daemon

    def client_env(self) -> dict[str, str]:
        """Environment for a child process that must use this pcscd."""
        return {} if not self.private else {"PCSCLITE_CSOCK_NAME": str(self.socket_path)}


def find_vpcd_driver() -> Path | None:
    for pattern in _VPCD_DRIVER_GLOBS:
        for match in sorted(glob.glob(pattern)):
            return Path(match)
    return None


def system_pcscd_running() -> bool:
    """True when something answers on the system pcscd socket (no PC/SC call made)."""
    if not SYSTEM_SOCKET.exists():
        return False
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.5)
        try:
            probe.connect(str(SYSTEM_SOCKET))
        except OSError:
            return False
    return True


def tcp_port_in_use(port: int) -> bool:
    """True when something listens on the port (we bind without SO_REUSEADDR to find out)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("0.0.0.0", port))  # noqa: S104 - vpcd binds INADDR_ANY; probe the same
        except OSError:
            return True
    return False


def free_port_pair() -> int:
    """A port p with p and p + 1 free (vpcd listens on one port per slot)."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
        if port < 65535 and not tcp_port_in_use(port) and not tcp_port_in_use(port + 1):
            return port
    raise CardTransportError(CardErrorReason.TRANSPORT, "No free pair of TCP ports was found.")


class PcscdSandbox:
    """One pcscd process we own, on a private socket, with vpcd on `vpcd_port`."""

    def __init__(
        self,
        run_dir: Path | None = None,
        vpcd_port: int = DEFAULT_VPCD_PORT,
        pcscd: str = "pcscd",
    ) -> None:
        self._own_dir = run_dir is None
        self.run_dir = (
            Path(tempfile.mkdtemp(prefix="telecabine-pcscd-")) if run_dir is None else run_dir
        )
        self.vpcd_port = vpcd_port
        self.pcscd = pcscd
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def socket_path(self) -> Path:
        return self.run_dir / "pcscd.comm"

    @property
    def log_path(self) -> Path:
        return self.run_dir / "pcscd.log"

    @property
    def endpoint(self) -> PcscEndpoint:
        return PcscEndpoint(self.socket_path, self.vpcd_port, private=True)

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def use_in_this_process(self) -> None:
        """Point this process's libpcsclite at our socket (before its first PC/SC call)."""
        os.environ["PCSCLITE_CSOCK_NAME"] = str(self.socket_path)

    def start(self, timeout: float = 5.0) -> PcscEndpoint:
        if self.running:
            return self.endpoint
        try:
            return self._start(timeout)
        except CardTransportError:
            self.stop()  # nothing left behind: no process, no private directory
            raise

    def _start(self, timeout: float) -> PcscEndpoint:
        executable = shutil.which(self.pcscd)
        driver = find_vpcd_driver()
        if executable is None:
            raise CardTransportError(
                CardErrorReason.NO_SERVICE, "pcscd is not installed (apt package 'pcscd')."
            )
        if driver is None:
            raise CardTransportError(
                CardErrorReason.NO_SERVICE,
                "The vpcd driver is not installed (apt package 'vsmartcard-vpcd').",
            )
        if tcp_port_in_use(self.vpcd_port):
            raise CardTransportError(
                CardErrorReason.NO_SERVICE,
                f"TCP port {self.vpcd_port} is already in use: another pcscd with vpcd may be running.",
            )
        conf_dir = self.run_dir / "reader.conf.d"
        conf_dir.mkdir(parents=True, exist_ok=True)
        (conf_dir / "vpcd").write_text(
            f'FRIENDLYNAME "{VPCD_READER_NAME}"\n'
            f"DEVICENAME   /dev/null:0x{self.vpcd_port:04X}\n"
            f"LIBPATH      {driver}\n"
            f"CHANNELID    0x{self.vpcd_port:04X}\n",
            encoding="ascii",
        )
        with contextlib.suppress(FileNotFoundError):
            self.socket_path.unlink()
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            listener.bind(str(self.socket_path))
            listener.listen(64)
            # The socket goes in as the shell's stdin, then becomes fd 3 (dash only
            # takes one-digit fds); sh keeps its pid across `exec`, so
            # LISTEN_PID=$$ names pcscd itself.
            script = (
                'LISTEN_PID=$$ LISTEN_FDS=1 exec "$0" --foreground --info -c "$1" 3<&0 0</dev/null'
            )
            with self.log_path.open("wb") as log_file:
                self._process = subprocess.Popen(  # noqa: S603 - fixed argv, no user input
                    ["/bin/sh", "-c", script, executable, str(conf_dir)],
                    stdin=listener.fileno(),
                    stdout=log_file,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
        finally:
            listener.close()
        self._wait_ready(timeout)
        return self.endpoint

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        listening = f"Waiting for virtual ICC on port {self.vpcd_port}"
        while time.monotonic() < deadline:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
            if "daemon ready" in text:
                if listening not in text:
                    self.stop()
                    raise CardTransportError(
                        CardErrorReason.NO_SERVICE,
                        f"pcscd started but vpcd could not listen on port {self.vpcd_port}.",
                    )
                return
            if self._process is not None and self._process.poll() is not None:
                code = self._process.returncode
                last = text.strip().splitlines()[-1:] or ["no output"]
                self.stop()
                raise CardTransportError(
                    CardErrorReason.NO_SERVICE,
                    f"pcscd exited with status {code} while starting (last words: {last[0]!r}).",
                )
            time.sleep(0.02)
        self.stop()
        raise CardTransportError(
            CardErrorReason.NO_SERVICE, f"pcscd was not ready after {timeout:.1f} s."
        )

    def stop(self, timeout: float = 3.0) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout)
        with contextlib.suppress(FileNotFoundError):
            self.socket_path.unlink()
        if self._own_dir:
            shutil.rmtree(self.run_dir, ignore_errors=True)

    def __enter__(self) -> PcscdSandbox:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


# --- one pcscd per process, shared by every fixture that needs one -------------

_shared_lock = threading.Lock()
_shared: PcscdSandbox | None = None
_shared_users = 0


def _process_run_dir() -> Path:
    return Path(tempfile.gettempdir()) / f"telecabine-pcscd-{os.getpid()}"


@contextlib.contextmanager
def shared_pcscd(
    *, prefer_system: bool = True, vpcd_port: int | None = None
) -> Iterator[PcscEndpoint]:
    """A pcscd with vpcd for as long as the block runs; nested uses share one daemon.

    With `prefer_system`, a running system pcscd whose vpcd port is open is used
    as is. Otherwise we start ours on a per-process socket path (stable, because
    libpcsclite caches it) and `vpcd_port` (None: a free pair of ports).
    """
    global _shared, _shared_users
    with _shared_lock:
        # libpcsclite keeps the first socket it used: once this process has its
        # own pcscd, every later user shares it, even one that prefers the system's.
        ours = _shared is not None and _shared.running
    if (
        not ours
        and prefer_system
        and system_pcscd_running()
        and tcp_port_in_use(vpcd_port or DEFAULT_VPCD_PORT)
    ):
        yield PcscEndpoint(SYSTEM_SOCKET, vpcd_port or DEFAULT_VPCD_PORT, private=False)
        return
    with _shared_lock:
        if _shared is None or not _shared.running:
            run_dir = _process_run_dir()
            run_dir.mkdir(parents=True, exist_ok=True)
            sandbox = PcscdSandbox(
                run_dir=run_dir, vpcd_port=vpcd_port if vpcd_port is not None else free_port_pair()
            )
            sandbox.use_in_this_process()
            try:
                sandbox.start()
            except CardTransportError:
                shutil.rmtree(run_dir, ignore_errors=True)
                raise
            _shared = sandbox
        _shared_users += 1
        endpoint = _shared.endpoint
    try:
        yield endpoint
    finally:
        with _shared_lock:
            _shared_users -= 1
            if _shared_users == 0 and _shared is not None:
                _shared.stop()
                shutil.rmtree(_shared.run_dir, ignore_errors=True)
                _shared = None


@atexit.register
def _stop_shared() -> None:
    if _shared is not None:
        _shared.stop()
        shutil.rmtree(_shared.run_dir, ignore_errors=True)
