"""Configuration reload (validated by the kiosk's own loader) and restart (the exit code systemd
restarts on), on the real store with canary patients; every act audited, no secret said."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.maintenance.errors import MaintenanceErrorReason, MaintenanceRefused
from app.maintenance.roles import Role
from app.maintenance.technician import (
    RESTART_EXIT_CODE,
    MaintenanceService,
    MaintenanceSession,
    changed_keys,
)
from app.maintenance.wiring import RestartSwitch
from app.store import AsyncStore, FileKeySource
from drivers.simulators import SimulatorHub
from kiosk_config import KioskConfig
from tests.maintenance.conftest import GOOD_PASSWORD, FakeClock, audit_rows
from tests.maintenance.world import (
    SECRETS,
    Canary,
    accounts_on,
    code,
    enrol,
    fill_with_canaries,
    load,
    service_for,
    write_site,
)

ROOT = Path(__file__).resolve().parents[2]
NEW_CREDENTIAL = "turn-credential-NEW-SECRET"


@dataclass
class Cabin:
    store: AsyncStore
    service: MaintenanceService
    session: MaintenanceSession
    site: Path
    canary: Canary
    reloaded: list[KioskConfig]
    restarts: list[str]


@pytest.fixture
async def cabin(tmp_path: Path) -> AsyncIterator[Cabin]:
    clock = FakeClock()
    site = write_site(tmp_path)
    config = load(site)
    store = await AsyncStore.open(tmp_path / "data", FileKeySource(tmp_path / "data"), clock)
    hub = SimulatorHub([], fast=True)
    reloaded: list[KioskConfig] = []
    restarts: list[str] = []
    try:
        canary = await fill_with_canaries(store, clock)
        accounts = accounts_on(store, clock)
        secret = await enrol(accounts, "paul.tech", Role.TECHNICIAN)
        service = service_for(
            accounts,
            store,
            config,
            hub,
            clock,
            config_path=site,
            restarter=lambda: restarts.append("restart"),
            on_reload=reloaded.append,
        )
        session = await service.enter("paul.tech", GOOD_PASSWORD, code(secret, clock))
        yield Cabin(store, service, session, site, canary, reloaded, restarts)
    finally:
        await store.close()


async def test_a_valid_site_file_is_taken_and_its_changed_keys_named(cabin: Cabin) -> None:
    text = cabin.site.read_text()
    cabin.site.write_text(
        text.replace("Pharmacie de maintenance", "Pharmacie du Marché").replace(
            "turn-credential-SECRET", NEW_CREDENTIAL
        )
    )
    result = await cabin.service.reload_config(cabin.session)
    assert result.changed == ("platform.ice_servers[0].credential", "site.name")
    assert cabin.service.config.site.name == "Pharmacie du Marché"
    assert [c.site.name for c in cabin.reloaded] == ["Pharmacie du Marché"]
    rows = await audit_rows(cabin.store)
    assert ("paul.tech", "maintenance.config-reload", "ok", "-", "changed=2") in rows
    said = repr(result) + repr(rows)
    for word in (NEW_CREDENTIAL, *SECRETS, *cabin.canary.words()):
        assert word not in said


async def test_a_site_file_that_does_not_validate_is_refused_and_the_old_one_kept(
    cabin: Cabin,
) -> None:
    before = cabin.service.config
    cabin.site.write_text(
        cabin.site.read_text().replace('kind = "oximeter"', 'kind = "oximeter"\nbaud_rate = 1234')
    )
    with pytest.raises(MaintenanceRefused) as caught:
        await cabin.service.reload_config(cabin.session)
    assert caught.value.reason is MaintenanceErrorReason.CONFIG_RELOAD_REFUSED
    assert "devices[1].baud_rate" in str(caught.value)
    assert cabin.service.config is before and cabin.reloaded == []
    rows = await audit_rows(cabin.store)
    assert (
        "paul.tech",
        "maintenance.config-reload",
        "refused",
        "-",
        "problems=1 keys=devices.1.baud_rate",
    ) in rows


async def test_a_secret_written_wrong_is_named_by_its_key_never_its_value(cabin: Cabin) -> None:
    cabin.site.write_text(
        cabin.site.read_text().replace(
            'credential = "turn-credential-SECRET"', "credential = 424242424242"
        )
    )
    with pytest.raises(MaintenanceRefused) as caught:
        await cabin.service.reload_config(cabin.session)
    rows = await audit_rows(cabin.store)
    assert "424242424242" not in str(caught.value) + repr(rows)
    assert "platform.ice_servers[0].credential" in str(caught.value)


async def test_restart_is_audited_then_ends_the_session_then_asks(cabin: Cabin) -> None:
    await cabin.service.restart(cabin.session)
    assert cabin.restarts == ["restart"] and cabin.session.ended == "left"
    rows = await audit_rows(cabin.store)
    acts = [(r[1], r[2], r[4]) for r in rows if r[0] == "paul.tech"]
    assert acts[-2:] == [
        ("maintenance.restart", "ok", f"exit={RESTART_EXIT_CODE}"),
        ("maintenance.leave", "ok", "why=left"),
    ]


async def test_restart_without_a_restarter_is_refused(cabin: Cabin) -> None:
    cabin.service._restarter = None  # noqa: SLF001 - a kiosk wired without one
    with pytest.raises(MaintenanceRefused) as caught:
        await cabin.service.restart(cabin.session)
    assert caught.value.reason is MaintenanceErrorReason.RESTART_UNAVAILABLE
    assert cabin.session.ended is None


def test_the_switch_ends_a_process_with_the_code_systemd_restarts_on(tmp_path: Path) -> None:
    """A real process: its loop waits on `closed` as `kiosk run` does, and exits with the code."""
    script = tmp_path / "kiosk_like.py"
    script.write_text(
        textwrap.dedent(
            """
            import asyncio, sys
            from app.maintenance.wiring import RestartSwitch

            async def run() -> int:
                closed = asyncio.Event()
                switch = RestartSwitch(closed)
                asyncio.get_running_loop().call_later(0.05, switch.request)
                await closed.wait()
                return switch.exit_code

            sys.exit(asyncio.run(run()))
            """
        )
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, str(script)], env=env, timeout=60, check=False)
    assert done.returncode == RESTART_EXIT_CODE == 75
    assert RestartSwitch(asyncio.Event()).exit_code == 0  # an ordinary stop


@settings(max_examples=40, deadline=None)
@given(st.text(min_size=1, max_size=30).filter(lambda s: s.strip() == s and '"' not in s))
def test_changed_keys_names_exactly_the_changed_key(
    tmp_path_factory: pytest.TempPathFactory, name: str
) -> None:
    folder = tmp_path_factory.mktemp("site")
    old = load(write_site(folder))
    try:
        new = old.model_copy(update={"site": old.site.model_copy(update={"name": name})})
    except ValueError:
        return
    assert changed_keys(old, old) == ()
    expected = () if name == old.site.name else ("site.name",)
    assert changed_keys(old, new) == expected
