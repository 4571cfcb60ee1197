"""The demo's operator panel: a separate window that plays the world around the patient.

Demo only. It inserts and removes the card (as the card driver reports it),
makes a measuring device fail (the registry simulator's own faults), and
cuts or restores the network (as the network monitor reports it). Its
captions go through the catalogue like every other word on screen.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from PySide6.QtWidgets import QVBoxLayout, QWidget

from app.ui.i18n import Catalogues
from app.ui.widgets.buttons import BigButton
from drivers import events as dev

DEMO_NIR = "1840575123456"


class OperatorPanel(QWidget):
    def __init__(self, assembly: Any, catalogues: Catalogues | None = None) -> None:
        super().__init__()
        self.assembly = assembly
        self.controller = assembly.controller
        cat = catalogues or Catalogues()
        self.setWindowTitle(cat.text("fr", "operator.title"))
        self.online = True
        layout = QVBoxLayout(self)
        for msgid, picture, action in (
            ("operator.insert_card", "card", self._insert_card),
            ("operator.remove_card", "card", self._remove_card),
            ("operator.fail_device", "warning", self._fail_device),
            ("operator.network", "globe", self._toggle_network),
        ):
            button = BigButton(cat.text("fr", msgid), picture)
            button.setObjectName(msgid)
            button.clicked.connect(lambda _=False, a=action: self._spawn(a))
            layout.addWidget(button)
        self.resize(420, 480)

    def _spawn(self, action: Callable[[], Awaitable[None]]) -> None:
        asyncio.ensure_future(action())

    async def _insert_card(self) -> None:
        key = 97 - int(DEMO_NIR) % 97
        await self.controller.device_event(dev.CardInserted("reader-1"))
        await self.controller.device_event(
            dev.CardRead(
                "reader-1",
                (dev.Beneficiary("DUPONT", "Jeanne", "1948-03-12", f"{DEMO_NIR}{key:02d}"),),
            )
        )

    async def _remove_card(self) -> None:
        await self.controller.device_event(dev.CardRemoved("reader-1"))

    async def _fail_device(self) -> None:
        sims = self.assembly.sims
        if sims is None:
            return
        for device in self.assembly.config.devices:
            if device.kind.value in ("thermometer", "oximeter"):
                sims.set_fault(device.id, "absent")

    async def _toggle_network(self) -> None:
        self.online = not self.online
        await self.controller.platform_reachable(self.online)
