"""Building the controller from the demo site configuration."""

from __future__ import annotations

from pathlib import Path

from app.controller.wiring import build_session_services, flow_settings
from app.domain import session_events as ev
from app.domain.mode import RunMode
from app.domain.session_context import State
from app.store import AsyncStore, FileKeySource
from kiosk_config import EXAMPLES, load_config
from kiosk_demo.simulators import DemoSimulators as SimulatorHub
from tests.maintenance.conftest import audit_rows
from vocabulary.devices import DeviceKind


async def test_demo_site_builds_a_working_controller(tmp_path: Path) -> None:
    config = load_config(EXAMPLES / "demo.toml")
    settings = flow_settings(config)
    assert (settings.mode, settings.languages, settings.default_language) == (
        RunMode.TEST,
        ("fr", "en", "ar"),
        "fr",
    )
    assert (settings.inactivity_warning_s, settings.inactivity_countdown_s) == (90.0, 30.0)
    store = await AsyncStore.open(tmp_path / "d", FileKeySource(tmp_path / "d"))
    sims = SimulatorHub(config.devices, fast=True, workdir=tmp_path)
    await sims.start()
    services = await build_session_services(config, store=store, sims=sims, start=True)
    try:
        kinds = services.devices.kinds()
        assert {DeviceKind.THERMOMETER, DeviceKind.OXIMETER, DeviceKind.TENSIOMETER} <= kinds
        left = {item.device_id for item in services.left_out}
        assert left == {d.id for d in config.devices} - {
            d.id for d in config.devices if DeviceKind(d.kind.value) in kinds
        }
        rows = [(action, subject) for _, action, _, subject, _ in await audit_rows(store, 50)]
        assert all(("device.left-out", device_id) in rows for device_id in left)
        c = services.controller
        assert c.assist is not None
        assert (await c.submit(ev.Begin)).accepted
        assert c.view.state is State.EMERGENCY_CHECK
        assert len(c.view.context.session_id or "") == 32  # uuid4 hex
    finally:
        await services.close()
        await sims.stop()
        await store.close()


def test_the_printer_comes_from_the_printer_section() -> None:
    from app.controller.wiring import printer_for
    from app.printing.service import DocumentPrinter
    from kiosk_config.schema import Printer

    config = load_config(EXAMPLES / "demo.toml")
    assert printer_for(config.model_copy(update={"printer": None})) is None
    section = Printer(queue="cabine-1", server="/run/cups/cups.sock", timeout_s=45)
    built = printer_for(config.model_copy(update={"printer": section}))
    assert isinstance(built, DocumentPrinter)
    assert built.cups.queue == "cabine-1"
