"""The demo's operator panel: a separate window that plays the world around the patient.

Demo only. Every button acts on the real simulated transports, never on the
controller: a card goes into the virtual reader behind pcscd (the card
driver reads it), a QR code is shown to the simulated camera (the scanner
decodes it), a device fault is the simulator's own, and "cut the network"
makes the reference platform's health check fail (the network monitor sees
it). So what the kiosk does is what it would do in a cabin.

Maintenance: the demo enrols a technician account in the kiosk's store
(kiosk_demo/world.py, through the accounts service as `kiosk accounts add`
does). The panel shows that account's username, password and the TOTP code
of the moment, as the technician's phone would, and "Ouvrir la maintenance"
opens the kiosk's own sign-in page through the window's door
(`KioskWindow.open_maintenance`, the one the five taps open: welcome screen
only). The operator types what the panel shows; the kiosk checks it like any
sign-in (argon2id, TOTP once, lockout, audit). No way around the sign-in is
added to the kiosk.

The panel is for the person running the demo, not for the patient; its
captions are French with catalogue ids (`operator.*`) so they can be
translated like every other word.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Protocol

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QGridLayout, QGroupBox, QLabel, QVBoxLayout, QWidget

from app.ui.i18n import Catalogues, Msg
from app.ui.widgets.buttons import BigButton

if TYPE_CHECKING:
    from drivers.simulators import SimulatorStatus

log = logging.getLogger(__name__)

# The demo's card labels (kiosk_demo/cards.py, fictional, TEST ONLY) and what each shows.
TEST_CARDS = (
    ("single-adult", "Carte : Marie (une personne)"),
    ("family", "Carte : famille (3 personnes)"),
    ("expired", "Carte expirée"),
    ("refuses-read", "Carte illisible"),
    ("mute", "Carte muette"),
)
QR_CODES = (
    ("valid", "QR valide"),
    ("expired", "QR expiré"),
    ("bad-signature", "QR falsifié"),
)


FIXED_IDS = (
    "operator.title",
    "operator.card",
    "operator.remove_card",
    "operator.qr",
    "operator.devices",
    "operator.fail",
    "operator.repaired",
    "operator.network",
    "operator.network.cut",
    "operator.network.restore",
    "operator.network.is_cut",
    "operator.network.is_restored",
    "operator.maintenance",
    "operator.maintenance.open",
    "operator.maintenance.login",
    "operator.maintenance.waiting",
    "operator.maintenance.opened",
)


def caption_ids() -> tuple[str, ...]:
    """Every catalogue id the panel looks up (the i18n test checks each language has them)."""
    return (
        *FIXED_IDS,
        *(f"operator.card.{label}" for label, _ in TEST_CARDS),
        *(f"operator.qr.{kind}" for kind, _ in QR_CODES),
    )


class DemoDevices(Protocol):
    """The demo's simulators as the panel drives them (kiosk_demo/simulators.py; the
    cabin's code never imports the demo, so the panel names what it needs)."""

    async def insert_card(self, device_id: str, label: str) -> None: ...

    async def remove_card(self, device_id: str) -> None: ...

    def show_qr(self, device_id: str, *, valid: bool | str = True) -> None: ...

    def status(self) -> list[SimulatorStatus]: ...

    def set_fault(self, device_id: str, fault: str | None) -> None: ...


class DemoControls(Protocol):
    """The demo world as the panel sees it (kiosk_demo/world.py's DemoWorld)."""

    @property
    def sims(self) -> DemoDevices: ...

    def card_reader(self) -> str | None: ...

    def camera(self) -> str | None: ...

    def set_network(self, online: bool) -> None: ...

    def banner(self) -> str: ...

    def technician_login(self) -> tuple[str, str, str] | None:
        """The demo technician's username, password and code of the moment (None: not yet)."""
        ...


class MaintenanceDoor(Protocol):
    """The kiosk window's way into maintenance (`KioskWindow.open_maintenance`)."""

    def open_maintenance(self) -> None: ...


class OperatorPanel(QWidget):
    def __init__(
        self,
        assembly: object,
        world: DemoControls,
        catalogues: Catalogues | None = None,
        *,
        maintenance: MaintenanceDoor | None = None,
    ) -> None:
        super().__init__()
        self.assembly = assembly
        self.world = world
        self.door = maintenance
        self.cat = catalogues or Catalogues()
        self.tasks: set[asyncio.Task[None]] = set()
        self.setWindowTitle(self._t("operator.title", "Démo — opérateur"))
        layout = QVBoxLayout(self)
        self.status = QLabel(world.banner())
        self.status.setObjectName("operator-status")
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        reader, camera = world.card_reader(), world.camera()
        if reader is not None:
            group = self._group(layout, "operator.card", "Carte Vitale")
            for i, (label, caption) in enumerate(TEST_CARDS):
                self._button(
                    group,
                    i,
                    f"operator.card.{label}",
                    self._t(f"operator.card.{label}", caption),
                    "card",
                    self._insert(reader, label),
                )
            self._button(
                group,
                len(TEST_CARDS),
                "operator.remove_card",
                self._t("operator.remove_card", "Retirer la carte"),
                "card",
                lambda: self.world.sims.remove_card(reader),
            )
        if camera is not None:
            group = self._group(layout, "operator.qr", "Appli carte Vitale (QR)")
            for i, (kind, caption) in enumerate(QR_CODES):
                self._button(
                    group,
                    i,
                    f"operator.qr.{kind}",
                    self._t(f"operator.qr.{kind}", caption),
                    "phone",
                    self._show_qr(camera, kind),
                )
        group = self._group(layout, "operator.devices", "Appareils")
        failing = [(s, self._fault_for(s)) for s in world.sims.status()]
        for i, (status, fault) in enumerate((s, f) for s, f in failing if f is not None):
            self._button(
                group,
                i,
                f"operator.fail.{status.device_id}",
                self._t(
                    "operator.fail",
                    "Panne : {device} ({fault})",
                    device=status.device_id,
                    fault=fault,
                ),
                "warning",
                self._fail(status.device_id, fault),
            )
        group = self._group(layout, "operator.network", "Réseau")
        self._button(
            group,
            0,
            "operator.network.cut",
            self._t("operator.network.cut", "Couper le réseau"),
            "globe",
            self._network(False),
        )
        self._button(
            group,
            1,
            "operator.network.restore",
            self._t("operator.network.restore", "Rétablir le réseau"),
            "globe",
            self._network(True),
        )
        self.login: QLabel | None = None
        if maintenance is not None:
            group = self._group(layout, "operator.maintenance", "Maintenance (technicien)")
            self.login = QLabel(self._t("operator.maintenance.waiting", "Compte en création…"))
            self.login.setObjectName("operator-technician")
            self.login.setWordWrap(True)
            group.addWidget(self.login, 0, 0, 1, 2)
            self._button(
                group,
                2,
                "operator.maintenance.open",
                self._t("operator.maintenance.open", "Ouvrir la maintenance"),
                "lock",
                self._open_maintenance,
            )
            self.login_timer = QTimer(self)
            self.login_timer.setInterval(1000)
            self.login_timer.timeout.connect(self.show_login)
            self.login_timer.start()
            self.show_login()
        self.resize(560, 720)

    # -- building ------------------------------------------------------------------------

    def _t(self, msgid: str, default: str, **params: str) -> str:
        return self.cat.text("fr", Msg(msgid, default, params))

    def _group(self, layout: QVBoxLayout, msgid: str, default: str) -> QGridLayout:
        box = QGroupBox(self._t(msgid, default))
        grid = QGridLayout(box)
        layout.addWidget(box)
        return grid

    def _button(
        self,
        grid: QGridLayout,
        index: int,
        name: str,
        words: str,
        picture: str,
        action: Callable[[], Awaitable[None] | None],
    ) -> None:
        button = BigButton(words, picture)
        button.setObjectName(name)
        button.clicked.connect(lambda _=False, a=action: self._spawn(a))
        grid.addWidget(button, index // 2, index % 2)

    @staticmethod
    def _fault_for(status: SimulatorStatus) -> str | None:
        """The fault that shows a device failing plainly: it stops answering."""
        for preferred in ("absent", "no-answer", "no-camera", "cable-pulled"):
            if preferred in status.faults:
                return preferred
        return status.faults[0] if status.faults else None

    # -- actions -------------------------------------------------------------------------

    def _spawn(self, action: Callable[[], Awaitable[None] | None]) -> None:
        async def run() -> None:
            try:
                result = action()
                if result is not None:
                    await result
            except Exception as exc:  # the demo goes on; the operator reads the line
                log.warning("operator action failed (%s)", type(exc).__name__)
                self.status.setText(f"{type(exc).__name__}: {exc}")

        task = asyncio.ensure_future(run())
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def _insert(self, reader: str, label: str) -> Callable[[], Awaitable[None]]:
        async def insert() -> None:
            await self.world.sims.insert_card(reader, label)

        return insert

    def _show_qr(self, camera: str, kind: str) -> Callable[[], None]:
        def show() -> None:
            self.world.sims.show_qr(camera, valid=True if kind == "valid" else kind)

        return show

    def _fail(self, device_id: str, fault: str) -> Callable[[], None]:
        def fail() -> None:
            sims = self.world.sims
            current = next((s.fault for s in sims.status() if s.device_id == device_id), None)
            sims.set_fault(device_id, None if current else fault)  # a second press repairs it
            self.status.setText(
                self._t("operator.repaired", "{device} : réparé", device=device_id)
                if current
                else self._t(
                    "operator.fail", "Panne : {device} ({fault})", device=device_id, fault=fault
                )
            )

        return fail

    def show_login(self) -> None:
        """The demo technician's sign-in as their phone would show it, the code of now."""
        login = self.world.technician_login()
        if self.login is None or login is None:
            return
        username, password, code = login
        self.login.setText(
            self._t(
                "operator.maintenance.login",
                "Identifiant : {username}\nMot de passe : {password}\nCode : {code}",
                username=username,
                password=password,
                code=code,
            )
        )

    def _open_maintenance(self) -> None:
        """The kiosk's own sign-in page, as five taps in the welcome corner open it."""
        if self.door is None:
            return
        self.door.open_maintenance()
        self.status.setText(
            self._t(
                "operator.maintenance.opened",
                "La connexion du technicien s'ouvre sur le kiosque (depuis l'accueil seulement).",
            )
        )

    def _network(self, online: bool) -> Callable[[], None]:
        def switch() -> None:
            self.world.set_network(online)
            self.status.setText(
                self._t("operator.network.is_restored", "Réseau rétabli")
                if online
                else self._t("operator.network.is_cut", "Réseau coupé")
            )

        return switch
