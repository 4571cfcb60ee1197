"""The world around the demo kiosk, in-process: platform, signalling + console, TURN, simulators.

    async with demo_world(config, data_dir=Path("var/demo"), port=8780) as world:
        world.config          # the site, pointed at this platform (URL, ICE servers)
        world.sims            # DemoSimulators: insert_card, show_qr, set_fault …
        world.set_network(False)   # the platform's health check fails: the kiosk goes offline
        world.console_url     # the doctor's console for a person with a browser

Why in-process: one command, one loop, nothing left behind; the platform is
the same aiohttp app `python -m devtools.platform` serves. coturn is used
when it is installed (it is in scripts/setup.sh); without it the call runs on
host candidates, which is all loopback needs.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devtools.platform.insi import install as insi_install
from devtools.platform.signalling import install
from devtools.platform.testing import PlatformHandle, running_platform
from kiosk_config import KioskConfig
from kiosk_demo.simulators import DemoSimulators

log = logging.getLogger(__name__)

DEMO_DOCTORS = (("dr-martin", "password"), ("dr-diallo", "password"))
DEMO_HEALTH_INTERVAL_S = 2.0  # the operator's "cut the network" shows within ~4 s


class DemoWorldError(RuntimeError):
    """A part of the demo world could not start; the message says which and what to check."""


@dataclass
class DemoWorld:
    config: KioskConfig
    sims: DemoSimulators
    platform: PlatformHandle
    turn: Any  # devtools.turn.TurnServer or None
    base_url: str
    online: bool = True

    @property
    def console_url(self) -> str:
        return self.base_url + "/console/"

    def set_network(self, online: bool) -> None:
        """Cut or restore the kiosk's view of the platform (its health check)."""
        self.platform.set_healthy(online)
        self.online = online
        log.info("demo: network %s", "restored" if online else "cut")

    def card_reader(self) -> str | None:
        return next((d.id for d in self.config.devices if d.kind.value == "card-reader"), None)

    def camera(self) -> str | None:
        return next((d.id for d in self.config.devices if d.kind.value == "camera"), None)

    def open_panel(self, assembly: Any) -> Any:
        """The operator's window beside the kiosk's (app/main.py calls this once it shows)."""
        from app.ui.operator_panel import OperatorPanel

        panel = OperatorPanel(assembly, self)
        panel.show()
        return panel

    def banner(self) -> str:
        who = ", ".join(f"{login} / {password}" for login, password in DEMO_DOCTORS)
        return (
            f"demo: doctor's console at {self.console_url} (log in as {who})\n"
            f"demo: platform data in {self.platform.db_path}"
            + ("; TURN relay on " + self.turn.url if self.turn is not None else "")
        )


def _check_card_reader(hub: DemoSimulators, *, required: bool) -> None:
    for status in hub.status():
        if status.kind == "card-reader" and status.detail == "no simulator here":
            message = (
                f"The simulated card reader '{status.device_id}' could not start: it needs "
                "pcscd and the vpcd driver (scripts/setup.sh installs them; pcscd is in "
                "/usr/sbin, which must be on PATH)."
            )
            if required:
                raise DemoWorldError(message)
            log.warning("demo: %s", message)


def _enrolment(config: KioskConfig, data_dir: Path) -> tuple[Any, Path]:
    """The demo cabin enrolled: a new secret on each run, kept 0600 beside the data."""
    import secrets

    from devtools.platform.cabins import Cabin, CabinRegistry

    secret = secrets.token_bytes(32)
    path = data_dir / "cabin-secret"
    path.touch(mode=0o600, exist_ok=True)
    path.chmod(0o600)
    path.write_text(secret.hex())
    doctors = frozenset(login for login, _ in DEMO_DOCTORS)
    return CabinRegistry([Cabin(config.site.cabin_id, secret, doctors)]), path


def _start_turn(enabled: bool) -> Any:
    if not enabled or shutil.which("turnserver") is None:
        return None
    from devtools.turn import TurnError, TurnServer

    server = TurnServer()
    try:
        server.__enter__()
    except (TurnError, OSError) as exc:
        log.warning("demo: coturn not started (%s); calls use host candidates", type(exc).__name__)
        return None
    return server


@contextlib.asynccontextmanager
async def demo_world(
    config: KioskConfig,
    *,
    data_dir: Path,
    port: int = 8780,
    fast: bool = False,
    turn: bool = True,
    require_card_reader: bool = False,
    enrol_cabin: bool = True,
) -> AsyncIterator[DemoWorld]:
    """Start everything; stop everything on exit (also on an error in the body).

    `enrol_cabin`: the platform enrols the demo cabin (a fresh provisioning secret
    in `data_dir/cabin-secret`, 0600, named by `[platform] cabin_key_file`) and
    refuses any kiosk without its token, as docs/threat-model.md says. On by default:
    the demo's kiosk proves itself on every channel as a cabin does.
    """
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    data_dir.chmod(0o700)  # the platform's database holds the demo's health-shaped data
    relay = _start_turn(turn)
    try:
        kiosk_ice = (relay.ice_server(),) if relay is not None else ()
        browser_ice = [relay.browser_ice_server()] if relay is not None else []

        def signalling(app: Any) -> None:
            install(app, ice_servers=browser_ice)

        cabins, secret_file = _enrolment(config, data_dir) if enrol_cabin else (None, None)
        async with running_platform(
            data_dir,
            port=port,
            extensions=(signalling, insi_install),
            db_path=data_dir / "platform.sqlite3",
            cabins=cabins,
        ) as (base_url, handle):
            platform = config.platform.model_copy(
                update={
                    "cabin_key_file": secret_file or config.platform.cabin_key_file,
                    "url": base_url,
                    "ice_servers": kiosk_ice,
                    "health_interval_s": min(
                        config.platform.health_interval_s, DEMO_HEALTH_INTERVAL_S
                    ),
                }
            )
            site = config.model_copy(update={"platform": platform})
            hub = DemoSimulators(site.devices, fast=fast, workdir=data_dir)
            await hub.start()  # pcscd + vpcd first, before anything touches PC/SC
            try:
                _check_card_reader(hub, required=require_card_reader)
                yield DemoWorld(site, hub, handle, relay, base_url)
            finally:
                await hub.stop()
    finally:
        if relay is not None:
            relay.__exit__(None, None, None)
