"""systemd's side of the notify protocol, as far as a test can play it.

`FakeSystemd` owns the notify socket, reads each datagram with the sender's
credentials (SO_PASSCRED / SCM_CREDENTIALS, as systemd does), and judges
them by the unit's `NotifyAccess=`:

* ``main``: only the main process (the one systemd started: cage);
* ``exec``: the main process (no ExecStartPre= etc. here, so the same);
* ``all``: any process of the unit's cgroup — here, the main process and its
  descendants, read from /proc.

It also plays the watchdog: `watchdog_gap()` is the longest time between two
accepted pings (or since the last one), to compare with WatchdogSec.
"""

from __future__ import annotations

import configparser
import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

_CREDS = struct.Struct("3i")  # struct ucred: pid, uid, gid


@dataclass
class Message:
    at: float
    pid: int
    fields: dict[str, str]
    accepted: bool


@dataclass
class UnitSettings:
    notify_access: str
    watchdog_s: float
    exec_start: list[str]
    service_type: str

    @classmethod
    def read(cls, path: Path) -> UnitSettings:
        parser = configparser.ConfigParser(strict=False, interpolation=None)
        parser.optionxform = str  # type: ignore[assignment,method-assign]
        parser.read_string(path.read_text(encoding="utf-8"))
        service = parser["Service"]
        return cls(
            notify_access=service.get("NotifyAccess", "none"),
            watchdog_s=float(service.get("WatchdogSec", "0").rstrip("s") or 0),
            exec_start=service["ExecStart"].split(),
            service_type=service.get("Type", "simple"),
        )


def _parent(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[1])


def descends_from(pid: int, ancestor: int) -> bool:
    seen = 0
    while pid and seen < 64:
        if pid == ancestor:
            return True
        parent = _parent(pid)
        if parent is None:
            return False
        pid, seen = parent, seen + 1
    return False


@dataclass
class FakeSystemd:
    path: Path
    notify_access: str
    main_pid: int = 0
    messages: list[Message] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(self.path))
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
        self.sock.settimeout(0.2)
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.started = time.monotonic()
        self._thread.start()

    def allowed(self, pid: int) -> bool:
        if self.notify_access in ("main", "exec"):
            return pid == self.main_pid
        if self.notify_access == "all":
            return descends_from(pid, self.main_pid)
        return False

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                data, ancillary, _flags, _addr = self.sock.recvmsg(
                    4096, socket.CMSG_SPACE(_CREDS.size)
                )
            except TimeoutError:
                continue
            except OSError:
                return
            pid = 0
            for level, kind, payload in ancillary:
                if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
                    pid = _CREDS.unpack(payload[: _CREDS.size])[0]
            fields = dict(line.split("=", 1) for line in data.decode().splitlines() if "=" in line)
            self.messages.append(Message(time.monotonic(), pid, fields, self.allowed(pid)))

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self.sock.close()

    def accepted(self, key: str) -> list[Message]:
        return [m for m in self.messages if m.accepted and key in m.fields]

    def refused(self) -> list[Message]:
        return [m for m in self.messages if not m.accepted]

    def ready_after(self) -> float | None:
        ready = self.accepted("READY")
        return None if not ready else ready[0].at - self.started

    def wait_for(self, key: str, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(key in m.fields for m in self.messages):
                return True
            time.sleep(0.05)
        return False

    def watchdog_gap(self, until: float | None = None) -> float:
        """The longest wait between accepted pings, counting up to `until` (default: now)."""
        times = [m.at for m in self.accepted("WATCHDOG")]
        if not times:
            return float("inf")
        end = until if until is not None else time.monotonic()
        gaps = [b - a for a, b in zip(times, times[1:], strict=False)] + [end - times[-1]]
        return max(gaps)
