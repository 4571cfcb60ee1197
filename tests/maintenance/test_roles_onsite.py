"""The three roles' rights: assistant, on-site staff, technician (docs/accounts.md).

The table is checked as a whole (no role holds what it must not), then on the
real store and accounts: an on-site staff account confirms the cabin ready,
audited with person and time, and is refused maintenance; a technician is
refused the confirmation.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from app.maintenance.errors import AccountError, AccountErrorReason, PermissionDenied
from app.maintenance.onsite import OnSiteService
from app.maintenance.roles import (
    HEALTH_DATA_PERMISSIONS,
    MAINTENANCE_PERMISSIONS,
    ROLE_PERMISSIONS,
    Permission,
    Role,
    allows,
)
from app.maintenance.service import AccountService
from app.maintenance.technician import MaintenanceService
from app.store import AccountRole, AsyncStore, FileKeySource
from drivers.simulators import SimulatorHub
from tests.maintenance.conftest import GOOD_PASSWORD, FakeClock, audit_rows, luhn_complete
from tests.maintenance.world import (
    accounts_on,
    code,
    enrol,
    fill_with_canaries,
    load,
    service_for,
    write_site,
)

PREPARATION = {Permission.CONFIRM_PREPARATION, Permission.ACKNOWLEDGE_HELP}


def test_every_role_has_a_row_and_only_its_rights() -> None:
    assert set(ROLE_PERMISSIONS) == set(Role)
    assert set().union(*ROLE_PERMISSIONS.values()) == set(Permission)
    assert ROLE_PERMISSIONS[Role.ON_SITE_STAFF] == PREPARATION
    assert ROLE_PERMISSIONS[Role.TECHNICIAN] == MAINTENANCE_PERMISSIONS
    assert ROLE_PERMISSIONS[Role.ASSISTANT] == HEALTH_DATA_PERMISSIONS | PREPARATION


@pytest.mark.parametrize("role", [Role.ON_SITE_STAFF, Role.TECHNICIAN])
def test_no_health_datum_for_staff_or_technician(role: Role) -> None:
    assert not any(allows(role, p) for p in HEALTH_DATA_PERMISSIONS)


@pytest.mark.parametrize("role", [Role.ON_SITE_STAFF, Role.ASSISTANT])
def test_no_maintenance_for_staff_or_assistant(role: Role) -> None:
    assert not any(allows(role, p) for p in MAINTENANCE_PERMISSIONS)


def test_a_technician_confirms_no_preparation() -> None:
    assert not any(allows(Role.TECHNICIAN, p) for p in PREPARATION)


# -- on the real store (needs the store's `on-site-staff` role: schema 6) ----------------

needs_store_role = pytest.mark.skipif(
    not hasattr(AccountRole, "ON_SITE_STAFF"),
    reason="the store's AccountRole has no on-site-staff yet (schema 6, /tmp/h2/H15.patch)",
)


@dataclass
class Site:
    store: AsyncStore
    clock: FakeClock
    accounts: AccountService
    maintenance: MaintenanceService
    onsite: OnSiteService
    staff: str
    tech: str
    assistant: str


@pytest.fixture
async def site(tmp_path: Path) -> AsyncIterator[Site]:
    clock = FakeClock()
    config = load(write_site(tmp_path))
    store = await AsyncStore.open(tmp_path / "data", FileKeySource(tmp_path / "data"), clock)
    hub = SimulatorHub(config.devices, fast=True)
    await hub.start()
    try:
        await fill_with_canaries(store, clock)
        accounts = accounts_on(store, clock)
        staff = await enrol(accounts, "lea.accueil", Role.ON_SITE_STAFF)
        tech = await enrol(accounts, "paul.tech", Role.TECHNICIAN)
        assistant = await enrol(accounts, "marie.ph", Role.ASSISTANT)
        maintenance = service_for(accounts, store, config, hub, clock)
        onsite = OnSiteService(accounts, clock=clock)
        yield Site(store, clock, accounts, maintenance, onsite, staff, tech, assistant)
    finally:
        await hub.stop()
        await store.close()


@needs_store_role
async def test_staff_confirm_the_cabin_ready_audited_with_person_and_time(site: Site) -> None:
    done = await site.onsite.confirm_preparation(
        "lea.accueil", GOOD_PASSWORD, code(site.staff, site.clock), cabin_id="MAINT-CAB-01"
    )
    assert (done.username, done.display_name, done.at) == (
        "lea.accueil",
        "Lea Accueil",
        site.clock(),
    )
    rows = await audit_rows(site.store)
    assert (
        "lea.accueil",
        "preparation.confirmed",
        "ok",
        "MAINT-CAB-01",
        f"at={site.clock().isoformat()}",
    ) in rows
    by_assistant = await site.onsite.confirm_preparation(
        "marie.ph", GOOD_PASSWORD, code(site.assistant, site.clock), cabin_id="MAINT-CAB-01"
    )
    assert by_assistant.username == "marie.ph"


@needs_store_role
async def test_staff_cannot_open_maintenance_and_a_technician_cannot_confirm(site: Site) -> None:
    with pytest.raises(PermissionDenied):
        await site.maintenance.enter("lea.accueil", GOOD_PASSWORD, code(site.staff, site.clock))
    with pytest.raises(PermissionDenied):
        await site.onsite.confirm_preparation(
            "paul.tech", GOOD_PASSWORD, code(site.tech, site.clock), cabin_id="MAINT-CAB-01"
        )
    rows = await audit_rows(site.store)
    refused = {(r[0], r[1], r[2], r[4]) for r in rows}
    assert ("lea.accueil", "authorise", "refused", "permission=maintain-devices") in refused
    assert ("paul.tech", "authorise", "refused", "permission=confirm-preparation") in refused
    assert not any(r[1] in ("maintenance.enter", "preparation.confirmed") for r in rows)


@needs_store_role
async def test_a_staff_account_has_no_rpps_and_is_listed_with_its_role(site: Site) -> None:
    with pytest.raises(AccountError) as refused:
        await site.accounts.create_account(
            "jean.accueil",
            "Jean Accueil",
            Role.ON_SITE_STAFF,
            GOOD_PASSWORD,
            rpps=luhn_complete("1000000000"),
            actor="cli:test",
        )
    assert refused.value.reason is AccountErrorReason.RPPS_NOT_FOR_ROLE
    listed = {a.username: a.role for a in await site.accounts.list_accounts()}
    assert listed["lea.accueil"] is Role.ON_SITE_STAFF
