"""The demo's operator panel acts on the real simulated transports, never on the controller."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from app.assembly import assemble
from app.ui.operator_panel import OperatorPanel
from app.ui.widgets.buttons import BigButton
from kiosk_config import EXAMPLES, load_config
from kiosk_demo.world import demo_world
from tests.ui.checks import child

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]


async def eventually(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        assert loop.time() < deadline, what
        QApplication.processEvents()
        await asyncio.sleep(0.05)


async def test_panel_buttons_go_through_pcscd_the_simulators_and_the_health_check(
    tmp_path: Path,
) -> None:
    app = QApplication.instance() or QApplication(["panel-test"])
    config = load_config(EXAMPLES / "demo.toml")
    fast = config.platform.model_copy(update={"health_interval_s": 0.2})
    config = config.model_copy(update={"platform": fast})
    async with demo_world(
        config, data_dir=tmp_path / "w", port=0, fast=True, turn=False, require_card_reader=True
    ) as world:
        assembly = await assemble(world.config, data_dir=tmp_path / "k", sims=world.sims)
        panel = OperatorPanel(assembly, world)
        panel.show()
        c = assembly.controller
        try:
            await assembly.start(ticker=False)
            await eventually(lambda: c.view.context.platform_reachable, 5, "online at start")

            def press(name: str) -> None:
                QTest.mouseClick(child(panel, BigButton, name), Qt.MouseButton.LeftButton)

            press("operator.card.single-adult")
            await eventually(lambda: c.view.context.card_present, 10, "card seen by the kiosk")
            press("operator.remove_card")
            await eventually(lambda: not c.view.context.card_present, 10, "card pulled out")
            press("operator.fail.oxi-1")
            await eventually(
                lambda: any(s.fault == "absent" for s in world.sims.status()), 5, "oximeter fails"
            )
            press("operator.fail.oxi-1")  # a second press repairs it
            await eventually(
                lambda: all(s.fault is None for s in world.sims.status()), 5, "oximeter repaired"
            )
            press("operator.network.cut")
            await eventually(lambda: not c.view.context.platform_reachable, 5, "offline")
            press("operator.network.restore")
            await eventually(lambda: c.view.context.platform_reachable, 5, "online again")
            assert [b.objectName() for b in panel.findChildren(BigButton)][:6] == [
                "operator.card.single-adult",
                "operator.card.family",
                "operator.card.expired",
                "operator.card.refuses-read",
                "operator.card.mute",
                "operator.remove_card",
            ]
        finally:
            panel.close()
            await assembly.close()
    del app
