"""What each maintenance page shows: values the screen builds widgets from.

Lines of figures are data (codes, counts, versions), not sentences: the
words around them come from the catalogues (`maint.*`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from app.maintenance.technician import DeviceEntry, DeviceTest


@dataclass(frozen=True, slots=True)
class Said:
    """A catalogue message and its parameters."""

    msgid: str
    params: tuple[tuple[str, str | int], ...] = ()


@dataclass(frozen=True, slots=True)
class LoginPage:
    failed: bool = False


@dataclass(frozen=True, slots=True)
class HomePage:
    name: str


@dataclass(frozen=True, slots=True)
class DevicesPage:
    entries: tuple[DeviceEntry, ...]
    test: DeviceTest | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class ScanPage:
    """BLE scan results: (address, name, service codes) and the devices one may pair to."""

    found: tuple[tuple[str, str], ...]
    targets: tuple[str, ...]  # configured BLE device ids
    chosen: str | None = None
    done: Said | None = None
    passkey_for: str | None = None  # the device id whose passkey the technician types
    bonding: bool = False  # "bonding…": the device is being asked


@dataclass(frozen=True, slots=True)
class LinesPage:
    """A title, sentences from the catalogue, then data lines (codes and figures)."""

    title: str
    said: tuple[Said, ...] = ()
    lines: tuple[str, ...] = ()
    resend: tuple[int, ...] = ()  # quarantined items the technician may send again


@dataclass(frozen=True, slots=True)
class FoldersPage:
    """Where to write the diagnostic bundle: the mounted sticks (paths are data)."""

    folders: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class MediaPage:
    """Camera preview, microphone level, speaker tone: one runs (or none), then what it found.

    The pictures and levels never pass through this value: the mode paints them
    straight onto the screen's preview and bar (`set_preview`, `set_level`).
    """

    running: str | None = None  # "camera", "microphone", "speaker"
    said: tuple[Said, ...] = ()


@dataclass(frozen=True, slots=True)
class ConfigPage:
    """The configuration (secrets removed), with reload and restart; what a reload changed."""

    said: tuple[Said, ...] = ()
    lines: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PrinterPage:
    """The printer's line: the queue's state and the job retention; a test page when there is
    a printer (a fixed technical page: the technician never sees a document)."""

    said: tuple[Said, ...] = ()
    lines: tuple[str, ...] = ()
    can_print: bool = False


@dataclass(frozen=True, slots=True)
class RestartPage:
    """Asks before the kiosk stops (systemd starts it again)."""


Page = (
    ConfigPage
    | PrinterPage
    | RestartPage
    | FoldersPage
    | LoginPage
    | HomePage
    | DevicesPage
    | ScanPage
    | LinesPage
    | MediaPage
)
