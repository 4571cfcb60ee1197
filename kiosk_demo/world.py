"""The world around the demo kiosk, in-process: platform, signalling + console, TURN, simulators.

    async with demo_world(config, data_dir=Path("var/demo"), port=8780) as world:
        world.config          # the site, pointed at this platform (URL, ICE servers)
        world.sims            # DemoSimulators: insert_card, show_qr, set_fault …
        world.set_network(False)   # the platform's health check fails: the kiosk goes offline
        world.console_url     # the doctor's console for a person with a browser
        world.open_panel(assembly, window)  # the operator's window; it enrols the demo
                                            # technician in the kiosk's store (below)

Why in-process: one command, one loop, nothing left behind; the platform is
the same aiohttp app `python -m devtools.platform` serves. coturn is used
when it is installed (it is in scripts/setup.sh); without it the call runs on
host candidates, which is all loopback needs.

TURN as on a cabin (docs/call.md, "TURN"): coturn runs in its REST mode
(`use-auth-secret`) with a secret made at each start and shared with the platform
only; the site's `ice_servers` holds the relay's URL and no credential. The
platform mints one per call (`GET /cabin/ice/…`) and one for the technician's TURN
test (`POST /cabin/turn/test-credential`), both with the cabin's token, and ends a
call's relay sessions at hang-up through coturn's CLI (its password, like the
secret, lives in this process only).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from app.maintenance import totp
from app.maintenance.roles import Role
from app.maintenance.service import AccountService
from devtools.platform.insi import install as insi_install
from devtools.platform.signalling import TurnRest, install
from devtools.platform.testing import PlatformHandle, running_platform
from kiosk_config import KioskConfig
from kiosk_demo.simulators import DemoSimulators

log = logging.getLogger(__name__)

DEMO_DOCTORS = (("dr-martin", "password"), ("dr-diallo", "password"))
DEMO_COUNTER = ("accueil.demo", "comptoir-demo")  # the on-site staff's counter page (TEST ONLY)
DEMO_HEALTH_INTERVAL_S = 2.0  # the operator's "cut the network" shows within ~4 s

# TEST ONLY: the demo's technician. The password is public on purpose (the operator
# panel shows it); the TOTP secret is made at enrolment, kept 0600 in the demo's data
# folder, never in the repository. A cabin's accounts are made with `kiosk accounts add`.
DEMO_TECHNICIAN_USERNAME = "technicien.demo"
DEMO_TECHNICIAN_NAME = "Technicien de la démonstration"
DEMO_TECHNICIAN_PASSWORD = "Lavande-Orage-73-Pilote"  # noqa: S105 - the demo's, shown on purpose
DEMO_TECHNICIAN_FILE = "demo-technician.json"


@dataclass(frozen=True)
class DemoTechnician:
    """The demo technician's sign-in: what the operator panel shows, a code computed now."""

    username: str
    password: str
    totp_secret: str

    def code(self, now: datetime | None = None) -> str:
        """The code the technician's authenticator app would show at `now`."""
        return totp.code_at(self.totp_secret, now or datetime.now(UTC))


async def demo_technician(accounts: AccountService, data_dir: Path) -> DemoTechnician:
    """The demo's technician account in the kiosk's own store: made once, found again after.

    Through `AccountService.create_account`, the path `kiosk accounts add` takes
    (argon2id, the password policy, an `account.created` audit row): no account is
    slipped into the store behind the service. The TOTP secret is written to
    `data_dir/demo-technician.json` (0600) so a second demo run on the same data
    finds it. If the store has the account but the file is gone (the secret is lost
    with it), a new account `technicien.demo2`, … is made: an account is never
    shared nor reset behind its owner's back.
    """
    path = data_dir / DEMO_TECHNICIAN_FILE
    existing = {a.username for a in await accounts.list_accounts()}
    if path.exists():
        saved = json.loads(path.read_text())
        if saved.get("username") in existing:
            return DemoTechnician(saved["username"], DEMO_TECHNICIAN_PASSWORD, saved["secret"])
    n = 1
    while (username := DEMO_TECHNICIAN_USERNAME + (str(n) if n > 1 else "")) in existing:
        n += 1
    enrolment = await accounts.create_account(
        username,
        DEMO_TECHNICIAN_NAME,
        Role.TECHNICIAN,
        DEMO_TECHNICIAN_PASSWORD,
        actor="demo:operator",
    )
    path.touch(mode=0o600, exist_ok=True)
    path.chmod(0o600)
    path.write_text(json.dumps({"username": username, "secret": enrolment.totp_secret}))
    log.info("demo: technician account %s made", username)
    return DemoTechnician(username, DEMO_TECHNICIAN_PASSWORD, enrolment.totp_secret)


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
    data_dir: Path | None = None
    technician: DemoTechnician | None = None
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

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

    def technician_login(self) -> tuple[str, str, str] | None:
        """The demo technician's username, password and current code (None until enrolled)."""
        who = self.technician
        return None if who is None else (who.username, who.password, who.code())

    async def enrol_technician(self, accounts: AccountService) -> DemoTechnician:
        data_dir = self.data_dir or self.platform.db_path.parent
        self.technician = await demo_technician(accounts, data_dir)
        return self.technician

    def open_panel(self, assembly: Any, window: Any = None) -> Any:
        """The operator's window beside the kiosk's (app/main.py calls this once it shows).

        It enrols the demo technician in the kiosk's store (a task: argon2 takes a
        moment) and hands the panel the kiosk window's own way into maintenance
        (`KioskWindow.open_maintenance`, the door the five taps open). `window`:
        the kiosk's window; when not given it is the application's top-level window
        that has that door.
        """
        from app.ui.operator_panel import OperatorPanel

        accounts = getattr(assembly, "accounts", None)
        if isinstance(accounts, AccountService):
            task = asyncio.ensure_future(self._enrol_quietly(accounts))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        panel = OperatorPanel(assembly, self, maintenance=window or _kiosk_window())
        panel.show()
        return panel

    async def _enrol_quietly(self, accounts: AccountService) -> None:
        try:
            await self.enrol_technician(accounts)
        except Exception as exc:  # the demo goes on without the technician's button
            log.warning("demo: technician account not made (%s)", type(exc).__name__)

    def banner(self) -> str:
        who = ", ".join(f"{login} / {password}" for login, password in DEMO_DOCTORS)
        login, password = DEMO_COUNTER
        return (
            f"demo: doctor's console at {self.console_url} (log in as {who})\n"
            f"demo: the staff's counter page at {self.base_url}/counter "
            f"(log in as {login} / {password})\n"
            f"demo: platform data in {self.platform.db_path}"
            + ("; TURN relay on " + self.turn.url if self.turn is not None else "")
        )


def _kiosk_window() -> Any:
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if not isinstance(app, QApplication):
        return None
    return next((w for w in app.topLevelWidgets() if hasattr(w, "open_maintenance")), None)


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
    """coturn in TURN REST mode, its secret and CLI password fresh each run (never written)."""
    if not enabled or shutil.which("turnserver") is None:
        return None
    import secrets

    from devtools.turn import TurnError, TurnServer

    server = TurnServer(
        auth_secret=secrets.token_urlsafe(32), cli_password=secrets.token_urlsafe(24)
    )
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
        # The URL only: the kiosk's call and its technician's test get minted credentials.
        kiosk_ice = (relay.ice_server(),) if relay is not None else ()
        rest = (
            TurnRest((relay.url,), relay.auth_secret, admin=relay.admin)
            if relay is not None
            else None
        )

        def signalling(app: Any) -> None:
            install(app, turn=rest)

        def counter(app: Any) -> None:  # help calls ring there (docs/onsite.md)
            from devtools.platform.onsite import CounterLogin, add_onsite_routes

            login, password = DEMO_COUNTER
            add_onsite_routes(app, [CounterLogin.make(login, password, [config.site.cabin_id])])

        cabins, secret_file = _enrolment(config, data_dir) if enrol_cabin else (None, None)
        async with running_platform(
            data_dir,
            port=port,
            extensions=(signalling, insi_install, counter),
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
                yield DemoWorld(site, hub, handle, relay, base_url, data_dir=data_dir)
            finally:
                await hub.stop()
    finally:
        if relay is not None:
            relay.__exit__(None, None, None)
