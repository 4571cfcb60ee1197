"""`build_maintenance` as the composition root will call it, on a real store and simulators."""

from __future__ import annotations

import tarfile
from pathlib import Path

from app.maintenance.roles import Role
from app.maintenance.wiring import build_maintenance
from app.store import AsyncStore, FileKeySource
from drivers.simulators import SimulatorHub
from tests.maintenance.conftest import GOOD_PASSWORD, FakeClock
from tests.maintenance.world import accounts_on, code, enrol, fill_with_canaries, load, write_site


async def test_the_wired_service_verifies_the_store_and_exports_the_journal(
    tmp_path: Path,
) -> None:
    clock = FakeClock()
    site = write_site(tmp_path)
    config = load(site)
    usb = tmp_path / "usb"
    usb.mkdir()
    store = await AsyncStore.open(tmp_path / "data", FileKeySource(tmp_path / "data"), clock)
    hub = SimulatorHub(config.devices, fast=True)
    await hub.start()
    try:
        canary = await fill_with_canaries(store, clock)
        accounts = accounts_on(store, clock)
        secret = await enrol(accounts, "paul.tech", Role.TECHNICIAN)
        service = build_maintenance(
            accounts,
            store,
            config,
            sims=hub,
            config_path=site,
            export_dir=usb,
            journal_command=("echo", "kiosk: journal line"),
        )
        session = await service.enter("paul.tech", GOOD_PASSWORD, code(secret, clock))
        check = await service.verify_store(session)
        assert check.ok and any(line.startswith("ok") for line in check.lines)
        scanned = await service.scan(session)
        assert len(scanned.devices) == 2
        bundle = await service.export(session)
    finally:
        await hub.stop()
        await store.close()
    with tarfile.open(bundle) as tar:
        journal = tar.extractfile("logs/journal.txt")
        assert journal is not None and journal.read() == b"kiosk: journal line\n"
        devices = tar.extractfile("devices.json")
        assert devices is not None
        text = devices.read().decode()
    assert '"ok": true' in text  # the simulated thermometer and oximeter answered their checks
    for word in canary.words():
        assert word not in text
