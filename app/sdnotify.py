"""systemd's notify protocol (READY=1, WATCHDOG=1, STATUS=…), a few lines over a datagram socket.

The cabin unit runs with `Type=notify` and `WatchdogSec=`: if the event loop
freezes, the pings stop and systemd restarts the kiosk. Outside systemd
(`NOTIFY_SOCKET` unset: demo, tests) every call is a no-op.

Under cage the kiosk is cage's child, not the unit's main process: the unit
says `NotifyAccess=all` so that systemd accepts its messages, and
`WATCHDOG_PID` (cage's pid there) is deliberately not compared with ours, as
libsystemd's `sd_watchdog_enabled()` would: that check would switch the pings
off exactly where they are needed. tests/packaging/test_notify_under_cage.py.
"""

from __future__ import annotations

import asyncio
import os
import socket


class Notifier:
    def __init__(self, address: str | None = None) -> None:
        self._address = address if address is not None else os.environ.get("NOTIFY_SOCKET")

    @property
    def enabled(self) -> bool:
        return bool(self._address)

    def _target(self) -> str:
        assert self._address
        # An address starting with '@' is in the abstract namespace.
        return "\0" + self._address[1:] if self._address.startswith("@") else self._address

    def notify(self, *fields: str) -> bool:
        if not self._address:
            return False
        payload = "\n".join(fields).encode("utf-8")
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            try:
                sock.sendto(payload, self._target())
            except OSError:
                return False  # systemd gone: nothing useful to do about it here
        return True

    def ready(self, status: str = "") -> bool:
        return self.notify("READY=1", *([f"STATUS={status}"] if status else []))

    def watchdog(self) -> bool:
        return self.notify("WATCHDOG=1")

    def watchdog_interval(self) -> float | None:
        """Half of WATCHDOG_USEC, as systemd recommends; None when no watchdog is set."""
        usec = os.environ.get("WATCHDOG_USEC")
        if not usec or not usec.isdigit():
            return None
        return int(usec) / 2_000_000

    async def run_watchdog(self) -> None:
        """Ping from the event loop itself, so a frozen loop stops the pings."""
        interval = self.watchdog_interval()
        if interval is None or not self.enabled:
            return
        while True:
            self.watchdog()
            await asyncio.sleep(interval)
