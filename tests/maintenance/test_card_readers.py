"""Card reader status on the real pcscd with the vpcd virtual reader and our virtual card.

The page looks at the readers' state only: the card in the reader answers no
command while it does (`apdus_answered` stays 0), and nothing of the card's
holder reaches the report or the audit.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.maintenance.readers import card_reader_status
from app.maintenance.roles import Role
from app.store import AsyncStore, FileKeySource
from drivers.card.errors import CardTransportError
from drivers.card.sim_pcscd import PcscEndpoint, shared_pcscd
from drivers.card.sim_vpcd import VirtualCardSlot, wait_until_seen
from drivers.simulators import SimulatorHub
from kiosk_config import KioskConfig
from kiosk_demo import cards as patients
from tests.drivers.card.real_parts import missing_real_part
from tests.maintenance.conftest import GOOD_PASSWORD, FakeClock, audit_rows
from tests.maintenance.world import accounts_on, code, enrol, load, service_for, write_site

pytestmark = pytest.mark.integration

READER = "Virtual PCD 00 00"
HOLDER = ("HOARAU", "MARIE JOSEE", "290059741112392", "1990-05-14")  # SINGLE_ADULT's


@pytest.fixture(scope="module")
def pcscd() -> Iterator[PcscEndpoint]:
    manager = shared_pcscd(prefer_system=False)
    try:
        endpoint = manager.__enter__()
    except CardTransportError as exc:
        missing_real_part(f"pcscd with the vpcd driver cannot start here: {exc.message}")
    try:
        yield endpoint
    finally:
        manager.__exit__(None, None, None)


@pytest.fixture
def slot(pcscd: PcscEndpoint) -> Iterator[VirtualCardSlot]:
    card_slot = VirtualCardSlot(port=pcscd.vpcd_port)
    try:
        yield card_slot
    finally:
        card_slot.close()
        assert wait_until_seen(READER, present=False)


def _site(tmp_path: Path) -> KioskConfig:
    site = write_site(tmp_path)
    site.write_text(
        site.read_text()
        + f'\n[[devices]]\nid = "reader-1"\nkind = "card-reader"\nreader_name = "{READER}"\n'
        + '\n[[devices]]\nid = "reader-2"\nkind = "card-reader"\nreader_name = "ACS ACR39U"\n'
    )
    return load(site)


def test_the_readers_are_listed_and_the_configured_one_found(
    tmp_path: Path, slot: VirtualCardSlot
) -> None:
    report = card_reader_status(_site(tmp_path))
    assert report.service == "running"
    names = {r.name: r for r in report.readers}
    assert READER in names and not names[READER].card_present
    assert names[READER].used_by == ("reader-1",)
    configured = {c.device_id: c for c in report.configured}
    assert configured["reader-1"].reader == READER
    assert configured["reader-2"].reader is None and report.missing == 1


def test_a_card_in_the_reader_is_seen_and_never_read(tmp_path: Path, slot: VirtualCardSlot) -> None:
    slot.insert(patients.SINGLE_ADULT)
    assert wait_until_seen(READER, present=True)
    answered = slot.apdus_answered
    report = card_reader_status(_site(tmp_path))
    assert {r.name: r.card_present for r in report.readers}[READER] is True
    assert slot.apdus_answered == answered  # not one command sent to the card
    for word in HOLDER:
        assert word not in repr(report)


async def test_the_service_reports_readers_audited_with_no_card_data(
    tmp_path: Path, slot: VirtualCardSlot
) -> None:
    clock = FakeClock()
    config = _site(tmp_path)
    slot.insert(patients.SINGLE_ADULT)
    assert wait_until_seen(READER, present=True)
    store = await AsyncStore.open(tmp_path / "data", FileKeySource(tmp_path / "data"), clock)
    hub = SimulatorHub([], fast=True)
    try:
        accounts = accounts_on(store, clock)
        secret = await enrol(accounts, "paul.tech", Role.TECHNICIAN)
        service = service_for(accounts, store, config, hub, clock)
        session = await service.enter("paul.tech", GOOD_PASSWORD, code(secret, clock))
        report = await service.card_readers(session)
        rows = await audit_rows(store)
    finally:
        await store.close()
    assert report.missing == 1
    row = next(r for r in rows if r[1] == "maintenance.card-readers")
    assert row[0] == "paul.tech" and row[2] == "missing"
    assert row[4].startswith("service=running readers=") and row[4].endswith("missing=1")
    for word in HOLDER:
        assert word not in repr(rows)


def test_kiosk_maintenance_readers_says_a_card_is_in_and_which_reader_is_missing(
    tmp_path: Path,
    slot: VirtualCardSlot,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from tests.maintenance.test_maintenance_cli import _kiosk, _prepare

    site, _canary, secrets = _prepare(tmp_path)
    _site(tmp_path)  # the same site file, with the two card readers
    slot.insert(patients.SINGLE_ADULT)
    assert wait_until_seen(READER, present=True)
    rc = _kiosk(monkeypatch, "tech.a", secrets["tech.a"], "readers", "--config", str(site))()
    out = capsys.readouterr()
    assert rc == 1, out.err  # reader-2's reader is not plugged in
    assert "pcscd running" in out.out
    assert f"{READER} card=in used-by=reader-1" in out.out
    assert "reader-2 ACS ACR39U -> NOT FOUND" in out.out
    for word in HOLDER:
        assert word not in out.out + out.err
