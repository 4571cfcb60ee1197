"""Serial port detection for the technician: which ports the cabin has, and the configured one.

Why both pyserial and `/dev/serial/by-id`: pyserial's `comports()` finds the
kernel's serial devices (`ttyUSB*`, `ttyACM*`, `ttyS*` …) and reads each one's
USB vendor and product from sysfs; udev's `/dev/serial/by-id` names are the
stable ones a site file should use (a `ttyUSB0` becomes `ttyUSB1` when a
second adapter is plugged in first). The page shows each port once, with the
by-id names pointing at it, and says for each configured serial device
whether its port is there and is a terminal device (a character device: a
regular file or a missing cable is "not found").

Nothing is opened or written: listing ports touches no device (a blood
pressure monitor mid-measurement is not disturbed).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from serial.tools.list_ports import comports
from serial.tools.list_ports_common import ListPortInfo

from kiosk_config.schema import KioskConfig

BY_ID = Path("/dev/serial/by-id")
"""udev's stable names for USB serial adapters (absent when none is plugged in)."""

PortLister = Callable[[], Iterable[ListPortInfo]]
"""pyserial's `comports` (the tests hand their own `ListPortInfo`s)."""


@dataclass(frozen=True, slots=True)
class SerialPort:
    """One serial device of the cabin: where it is, what it says it is, who uses it."""

    device: str  # the real device path, e.g. /dev/ttyUSB0
    links: tuple[str, ...]  # /dev/serial/by-id/… names pointing at it
    usb_id: str | None  # "0403:6001" (vendor:product, hexadecimal) for a USB adapter
    description: str  # the adapter's manufacturer and product, or "-"
    used_by: tuple[str, ...]  # configured device ids whose serial_port is this one


@dataclass(frozen=True, slots=True)
class ConfiguredPort:
    """A configured serial device's port: whether it is there now."""

    device_id: str
    port: str  # as the site file writes it
    found: bool  # exists and is a character device
    resolves_to: str | None  # the real device path when found


@dataclass(frozen=True, slots=True)
class SerialReport:
    ports: tuple[SerialPort, ...]
    configured: tuple[ConfiguredPort, ...]

    @property
    def missing(self) -> int:
        return sum(1 for c in self.configured if not c.found)


def _is_tty(path: str) -> bool:
    try:
        return stat.S_ISCHR(os.stat(path).st_mode)
    except OSError:
        return False


def _by_id(folder: Path) -> dict[str, list[str]]:
    """Real device path -> the by-id names pointing at it."""
    found: dict[str, list[str]] = {}
    try:
        entries = sorted(folder.iterdir())
    except OSError:
        return found
    for entry in entries:
        found.setdefault(os.path.realpath(entry), []).append(str(entry))
    return found


def _description(info: ListPortInfo) -> str:
    words = [w for w in (info.manufacturer, info.product) if w]
    if words:
        return " ".join(words)
    return info.description if info.description and info.description != "n/a" else "-"


def detect_serial_ports(
    config: KioskConfig, lister: PortLister = comports, by_id: Path = BY_ID
) -> SerialReport:
    """The cabin's serial ports and the configured devices' ones; blocking (sysfs reads)."""
    links = _by_id(by_id)
    configured = tuple(
        ConfiguredPort(
            d.id,
            d.serial_port,
            found := _is_tty(d.serial_port),
            os.path.realpath(d.serial_port) if found else None,
        )
        for d in config.devices
        if d.serial_port is not None
    )
    users: dict[str, list[str]] = {}
    for c in configured:
        if c.resolves_to is not None:
            users.setdefault(c.resolves_to, []).append(c.device_id)
    ports: dict[str, SerialPort] = {}
    for info in lister():
        real = os.path.realpath(info.device)
        if real in ports:
            continue
        usb = None if info.vid is None or info.pid is None else f"{info.vid:04x}:{info.pid:04x}"
        ports[real] = SerialPort(
            real,
            tuple(links.get(real, ())),
            usb,
            _description(info),
            tuple(users.get(real, ())),
        )
    # A by-id name whose device pyserial did not list, or a configured terminal that is
    # no adapter (a pty, a console port): shown too, so every port the page names is there.
    for real in sorted({*links, *users}):
        if real not in ports:
            ports[real] = SerialPort(
                real, tuple(links.get(real, ())), None, "-", tuple(users.get(real, ()))
            )
    return SerialReport(tuple(ports[k] for k in sorted(ports)), configured)


__all__ = [
    "BY_ID",
    "ConfiguredPort",
    "PortLister",
    "SerialPort",
    "SerialReport",
    "detect_serial_ports",
]
