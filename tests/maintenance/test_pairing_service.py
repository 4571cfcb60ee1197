"""Bonding through the maintenance service: the site file says who bonds, bleak's `pair()` asks.

Real parts: the SQLCipher store, real accounts (argon2id + TOTP), the simulators behind
bleak's injected backend; the A&D-like monitor asks the passkey it shows.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from app.maintenance.pairing import BondFailure, BondRefused
from app.maintenance.roles import Role
from app.maintenance.technician import MaintenanceService, MaintenanceSession
from app.store import AsyncStore, FileKeySource
from drivers.ble.sim_blood_pressure import SIMULATED_PASSKEY, SimulatedBloodPressureMonitor
from drivers.ble.sim_devices import SimulatedThermometer
from drivers.registry import simulated_ble_address
from drivers.simulators import SimulatorHub
from tests.maintenance.conftest import GOOD_PASSWORD, FakeClock, audit_rows
from tests.maintenance.world import accounts_on, code, enrol, load, service_for, write_site

BP_SITE = """
[[devices]]
id = "bp-ble"
kind = "tensiometer"
backend = "simulated"
transport = "ble"
protocol = "ble-bps"
bonding = "passkey"
"""
NEW_BP = "C4:00:00:00:0B:02"
NEW_THERMO = "C4:00:00:00:0A:02"


def bonding_site(folder: Path) -> Path:
    """The tests' site file with a Bluetooth blood-pressure monitor that bonds with a passkey."""
    site = write_site(folder)
    site.write_text(site.read_text() + BP_SITE, encoding="utf-8")
    return site


@dataclass
class Cabin:
    store: AsyncStore
    clock: FakeClock
    hub: SimulatorHub
    service: MaintenanceService
    site: Path
    secret: str


@pytest.fixture
async def cabin(tmp_path: Path) -> AsyncIterator[Cabin]:
    clock = FakeClock()
    site = bonding_site(tmp_path)
    config = load(site)
    store = await AsyncStore.open(tmp_path / "data", FileKeySource(tmp_path / "data"), clock)
    hub = SimulatorHub(config.devices, fast=True)
    await hub.start()
    try:
        accounts = accounts_on(store, clock)
        secret = await enrol(accounts, "paul.tech", Role.TECHNICIAN)
        service = service_for(accounts, store, config, hub, clock, config_path=site)
        yield Cabin(store, clock, hub, service, site, secret)
    finally:
        await hub.stop()
        await store.close()


async def _enter(cabin: Cabin) -> MaintenanceSession:
    return await cabin.service.enter("paul.tech", GOOD_PASSWORD, code(cabin.secret, cabin.clock))


async def _bond_rows(cabin: Cabin) -> list[tuple[str, str, str]]:
    return [
        (action, outcome, detail)
        for _actor, action, outcome, _subject, detail in await audit_rows(cabin.store)
        if action in {"maintenance.bond", "maintenance.pair"}
    ]


async def test_a_wrong_passkey_is_refused_then_the_right_one_bonds_and_writes(cabin: Cabin) -> None:
    monitor = cabin.hub.air.add(SimulatedBloodPressureMonitor(NEW_BP, "SIM-BP new"))
    session = await _enter(cabin)
    assert cabin.service.ble_bonding("bp-ble") == "passkey"
    before = cabin.site.read_bytes()
    with pytest.raises(BondRefused) as caught:
        await cabin.service.pair(session, "bp-ble", NEW_BP, "135790")
    assert caught.value.failure is BondFailure.WRONG_PASSKEY
    assert cabin.site.read_bytes() == before  # nothing written for a device that did not bond
    assert not monitor.bonded
    await cabin.service.pair(session, "bp-ble", NEW_BP, SIMULATED_PASSKEY)
    assert monitor.bonded
    assert {d.id: d.ble_address for d in load(cabin.site).devices}["bp-ble"] == NEW_BP
    assert cabin.service.config == load(cabin.site)
    rows = await _bond_rows(cabin)
    assert [(a, o) for a, o, _d in rows] == [
        ("maintenance.bond", "started"),
        ("maintenance.bond", "refused"),
        ("maintenance.bond", "started"),
        ("maintenance.bond", "ok"),
        ("maintenance.pair", "ok"),
    ]
    assert rows[1][2] == "reason=wrong-passkey"
    for _a, _o, detail in rows:  # the typed codes are secrets: in no audit row
        assert "135790" not in detail and SIMULATED_PASSKEY not in detail


async def test_a_device_that_refuses_or_is_silent_is_audited_and_nothing_written(
    cabin: Cabin,
) -> None:
    monitor = cabin.hub.air.add(SimulatedBloodPressureMonitor(NEW_BP, "SIM-BP new"))
    session = await _enter(cabin)
    before = cabin.site.read_bytes()
    monitor.refuses_bonding = True
    with pytest.raises(BondRefused) as refused:
        await cabin.service.pair(session, "bp-ble", NEW_BP, SIMULATED_PASSKEY)
    monitor.refuses_bonding, monitor.pair_delay_s = False, 10.0
    with pytest.raises(BondRefused) as silent:
        await cabin.service.pair(session, "bp-ble", NEW_BP, SIMULATED_PASSKEY)
    assert (refused.value.failure, silent.value.failure) == (
        BondFailure.REFUSED,
        BondFailure.TIMEOUT,
    )
    assert cabin.site.read_bytes() == before
    details = [d for a, o, d in await _bond_rows(cabin) if o == "refused"]
    assert details == ["reason=refused", "reason=timeout"]


async def test_a_device_that_needs_no_bonding_is_paired_as_before(cabin: Cabin) -> None:
    thermo = cabin.hub.air.add(SimulatedThermometer(NEW_THERMO, "SIM-THERMO new"))
    session = await _enter(cabin)
    assert cabin.service.ble_bonding("thermo-1") == "none"
    await cabin.service.pair(session, "thermo-1", NEW_THERMO)
    assert thermo.pair_attempts == 0 and not thermo.bonded
    assert {d.id: d.ble_address for d in load(cabin.site).devices}["thermo-1"] == NEW_THERMO
    assert [(a, o) for a, o, _d in await _bond_rows(cabin)] == [("maintenance.pair", "ok")]


def _cli(
    site: Path, user: str, secret: str, passkey: str, monkeypatch: pytest.MonkeyPatch
) -> tuple[int, str]:
    """`kiosk maintenance pair bp-ble <its simulated address>`, the passkey as a third line."""
    import argparse
    import io

    from app.cli import maintenance_cmd
    from app.maintenance import totp
    from app.maintenance.service import utc_now

    parser = argparse.ArgumentParser(prog="kiosk")
    maintenance_cmd.register(parser.add_subparsers(dest="command"))
    address = simulated_ble_address("bp-ble")
    parsed = parser.parse_args(
        ["maintenance", "pair", "bp-ble", address, "--config", str(site)]
        + ["--user", user, "--credentials-stdin"]
    )
    code_now = totp.code_at(secret, utc_now())
    monkeypatch.setattr("sys.stdin", io.StringIO(f"{GOOD_PASSWORD}\n{code_now}\n{passkey}\n"))
    result: int = parsed.handler(parsed)
    return result, address


def test_the_command_line_asks_the_passkey_and_says_a_wrong_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import asyncio

    site = bonding_site(tmp_path)

    async def enrol_techs() -> tuple[str, str]:
        # two technicians: one code is used once (the second run is in the same 30 s)
        store = await AsyncStore.open(tmp_path / "data", FileKeySource(tmp_path / "data"))
        try:
            accounts = accounts_on(store, FakeClock())
            return (
                await enrol(accounts, "paul.tech", Role.TECHNICIAN),
                await enrol(accounts, "anne.tech", Role.TECHNICIAN),
            )
        finally:
            await store.close()

    paul, anne = asyncio.run(enrol_techs())
    rc, address = _cli(site, "paul.tech", paul, "135790", monkeypatch)
    out = capsys.readouterr()
    assert rc != 0 and "passkey does not match" in out.err and "135790" not in out.err
    assert address not in site.read_text()
    rc, _address = _cli(site, "anne.tech", anne, SIMULATED_PASSKEY, monkeypatch)
    assert rc == 0, capsys.readouterr().err
    assert {d.id: d.ble_address for d in load(site).devices}["bp-ble"] == address
