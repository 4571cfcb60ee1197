"""The printer in the maintenance device test, on a private real cupsd (tests/printing's).

The technician sees the queue's state and the server's job retention, and can
print a fixed technical page (cabin id, date, queue): read back from the PDF
the backend wrote, it holds nothing else. Each act is in the audit under the
technician's account; no document of a session is reachable from here.
"""

from __future__ import annotations

import subprocess
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from app.maintenance.errors import MaintenanceErrorReason, MaintenanceRefused
from app.maintenance.roles import Role
from app.maintenance.technician import MaintenanceService, MaintenanceSession
from app.printing.errors import PrintProblem
from app.store import AsyncStore, FileKeySource
from drivers.simulators import SimulatorHub
from tests.maintenance.conftest import GOOD_PASSWORD, FakeClock, audit_rows
from tests.maintenance.world import accounts_on, code, enrol, load, service_for, write_site
from tests.printing.cupsd import Cups, cupsd_missing_reason, private_cupsd

MISSING = cupsd_missing_reason()
pytestmark = pytest.mark.integration


@pytest.fixture
def cups() -> Iterator[Cups]:
    if MISSING is not None:
        pytest.skip(MISSING)
    with private_cupsd() as server:
        server.add_pdf_queue("kiosk")
        yield server


@dataclass
class Bench:
    service: MaintenanceService
    session: MaintenanceSession
    store: AsyncStore


async def _bench(tmp_path: Path, printer: str, cupsd_conf: Path | None) -> AsyncIterator[Bench]:
    clock = FakeClock()
    site = write_site(tmp_path)
    site.write_text(site.read_text() + printer)
    config = load(site)
    store = await AsyncStore.open(tmp_path / "data", FileKeySource(tmp_path / "data"), clock)
    hub = SimulatorHub([], fast=True)
    try:
        accounts = accounts_on(store, clock)
        secret = await enrol(accounts, "paul.tech", Role.TECHNICIAN)
        service = service_for(accounts, store, config, hub, clock, cupsd_conf=cupsd_conf)
        session = await service.enter("paul.tech", GOOD_PASSWORD, code(secret, clock))
        yield Bench(service, session, store)
    finally:
        await store.close()


@pytest.fixture
async def bench(tmp_path: Path, cups: Cups) -> AsyncIterator[Bench]:
    section = f'\n[printer]\nqueue = "kiosk"\nserver = "{cups.socket}"\ntimeout_s = 60\n'
    async for b in _bench(tmp_path, section, cups.root / "etc/cupsd.conf"):
        yield b


def _text(pdf: Path) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout


async def test_the_printer_line_says_ready_and_no_retention(bench: Bench) -> None:
    check = await bench.service.printer(bench.session)
    assert check is not None and check.ok and check.queue_problem is None
    row = next(r for r in await audit_rows(bench.store) if r[1] == "maintenance.printer")
    assert row[:4] == ("paul.tech", "maintenance.printer", "ok", "kiosk")
    assert row[4] == "ready=True retention_off=True problem=-"


async def test_a_stopped_queue_is_not_ready(bench: Bench, cups: Cups) -> None:
    cups.admin("cupsdisable", "kiosk")
    check = await bench.service.printer(bench.session)
    assert check is not None and not check.ok and check.retention_off
    assert check.queue_problem is PrintProblem.OFFLINE
    row = next(r for r in await audit_rows(bench.store) if r[1] == "maintenance.printer")
    assert row[2] == "failed" and row[4].endswith("problem=printer-offline")


async def test_the_test_page_prints_the_cabin_the_date_and_the_queue_only(
    bench: Bench, cups: Cups
) -> None:
    result = await bench.service.print_test_page(bench.session)
    assert result.printed and result.problem is None
    (pdf,) = cups.pdfs()
    words = " ".join(_text(pdf).split())
    assert "page de test" in words
    assert "Cabine : MAINT-CAB-01" in words
    assert "Date : 23/11/2026" in words  # the service's clock
    assert "File d'impression : kiosk" in words
    assert "Patient" not in words and "INS" not in words
    assert cups.spool_data_files() == []  # nothing left in the spool after the job
    row = next(r for r in await audit_rows(bench.store) if r[1] == "maintenance.printer-test")
    assert row[:4] == ("paul.tech", "maintenance.printer-test", "ok", "kiosk")
    assert row[4].startswith("job=kiosk-")


async def test_a_printer_out_of_paper_fails_the_test_page_with_its_code(
    bench: Bench, cups: Cups
) -> None:
    (cups.out / "paper-out").touch()
    result = await bench.service.print_test_page(bench.session)
    assert not result.printed and result.problem == PrintProblem.OUT_OF_PAPER.value
    assert cups.pdfs() == []
    row = next(r for r in await audit_rows(bench.store) if r[1] == "maintenance.printer-test")
    assert row[2] == "failed" and row[4] == f"problem={PrintProblem.OUT_OF_PAPER.value}"


async def test_no_printer_section_no_check_and_no_test_page(tmp_path: Path) -> None:
    async for b in _bench(tmp_path, "", None):
        assert await b.service.printer(b.session) is None
        with pytest.raises(MaintenanceRefused) as refused:
            await b.service.print_test_page(b.session)
        assert refused.value.reason is MaintenanceErrorReason.NO_PRINTER
        rows = await audit_rows(b.store)
        assert ("paul.tech", "maintenance.printer-test", "refused", "-", "no-printer") in rows
