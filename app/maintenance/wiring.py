"""Builds the technician's service from parts the kiosk already has (for the composition root).

`app/main.py` (or `app/assembly.py`) calls `build_maintenance` with the
assembly's account service, store and configuration, the simulator hub when
the site runs simulated devices (its air is bleak's injected backend), the
site file's path (pairing rewrites it) and the folder a USB stick is mounted
on (the diagnostic export). Nothing here starts anything.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from app.maintenance.diagnostics import ConfiguredUploader
from app.maintenance.service import AccountService
from app.maintenance.store_binding import key_source_for
from app.maintenance.technician import (
    JOURNAL_COMMAND,
    RESTART_EXIT_CODE,
    MaintenanceService,
    MaintenanceStore,
)
from app.store.inspection import verify
from drivers.registry import build_driver
from kiosk_config import KioskConfig

if TYPE_CHECKING:
    from drivers.simulators import SimulatorHub

USB_MOUNT = Path("/media/telecabine-usb")
"""A fixed mount point for the USB stick, offered when it exists (see docs/maintenance.md)."""

EXPORT_ROOTS = (Path("/media"), Path("/run/media/telecabine"))
"""Folders whose mounted children (a stick mounted by udisks or by hand) are offered too."""


class RestartSwitch:
    """How the technician's "restart" ends `kiosk run` with the code systemd restarts on.

    The composition root makes one on the event its loop waits on, hands
    `switch.request` to `build_maintenance(restarter=…)`, and returns
    `switch.exit_code` from `run()`: 0 for an ordinary stop, `RESTART_EXIT_CODE`
    when a technician asked. The parts close in their usual order either way.
    """

    def __init__(self, closed: asyncio.Event) -> None:
        self._closed = closed
        self.requested = False

    def request(self) -> None:
        self.requested = True
        self._closed.set()

    @property
    def exit_code(self) -> int:
        return RESTART_EXIT_CODE if self.requested else 0


def build_maintenance(
    accounts: AccountService,
    store: MaintenanceStore,
    config: KioskConfig,
    *,
    sims: SimulatorHub | None = None,
    config_path: Path | None = None,
    export_dir: Path | None = USB_MOUNT,
    export_roots: Sequence[Path] = EXPORT_ROOTS,
    log_dir: Path | None = None,
    journal_command: Sequence[str] | None = JOURNAL_COMMAND,
    restarter: Callable[[], None] | None = None,
    on_reload: Callable[[KioskConfig], None] | None = None,
) -> MaintenanceService:
    data_dir = Path(config.storage.data_dir)
    production = config.site.mode.value == "production"

    def store_lines() -> Sequence[str]:
        return verify(data_dir, key_source_for(data_dir, production=production)).lines

    service = MaintenanceService(
        accounts,
        store,
        config,
        driver_factory=lambda d: build_driver(
            d, config.timeouts, hub=sims, site_mode=config.site.mode.value
        ),
        store_verifier=store_lines,
        config_path=config_path,
        ble_scanner_backend=sims.air.scanner_backend() if sims is not None else None,
        ble_client_backend=sims.air.client_backend() if sims is not None else None,
        export_dir=export_dir,
        export_roots=export_roots,
        log_dir=log_dir,
        journal_command=journal_command,
        restarter=restarter,
        on_reload=on_reload,
    )
    # the bundle also goes to the platform, with the cabin's token (docs/maintenance.md)
    service.uploader = ConfiguredUploader(lambda: service.config)
    return service
