"""The end screen's "Print" through the controller: the flow, the store's trace and a real CUPS.

The controller is built with a `DocumentPrinter` on a private cupsd
(tests/printing/cupsd.py): the documents the doctor sent during the call come
out as PDFs; paper out and a stopped queue end in their status for the screen
and an incident in the act's trace; no printer says so.
"""

from __future__ import annotations

import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from app.call.documents import DocumentKind
from app.controller.printing import print_incident
from app.controller.view import PrintStatus
from app.domain import session_events as ev
from app.domain.session_context import State
from app.domain.trace import TraceKind
from app.printing.cups import CupsPrinter
from app.printing.errors import PrintProblem
from app.printing.service import DocumentPrinter
from drivers import events as dev
from tests.controller.conftest import DEVICES, FakeClock, Kiosk, _kiosk
from tests.controller.test_sessions import to_measurements
from tests.printing.cupsd import Cups, cupsd_missing_reason, private_cupsd

MISSING = cupsd_missing_reason()
TEXT = "Amoxicilline 1 g : un comprimé matin et soir pendant six jours."


@pytest.fixture
def cups() -> Iterator[Cups]:
    if MISSING is not None:
        pytest.skip(MISSING)
    with private_cupsd() as server:
        server.add_pdf_queue("kiosk")
        yield server


@pytest.fixture
async def printing_kiosk(tmp_path: Path, clock: FakeClock, cups: Cups) -> AsyncIterator[Kiosk]:
    printer = DocumentPrinter(CupsPrinter("kiosk", server=str(cups.socket), timeout_s=30))
    async for built in _kiosk(tmp_path, clock, DEVICES, printer):
        yield built


async def _at_the_end(k: Kiosk) -> str:
    session_id = await to_measurements(k)
    assert (await k.controller.submit(ev.MeasurementsDone)).accepted
    k.call.doctor_joins()
    await k.until(lambda v: v.state is State.CALL)
    k.call.sends_document("doc-1", DocumentKind.PRESCRIPTION, "Ordonnance", TEXT)
    k.call.sends_document("doc-2", DocumentKind.REPORT, "Compte rendu", "Examen normal.")
    await k.until(lambda v: len(v.documents) == 2)
    k.call.doctor_hangs_up()
    await k.until(lambda v: v.state is State.END)
    return session_id


def printing(k: Kiosk) -> PrintStatus | None:
    """The view's print status now (a call: mypy keeps no narrowing from an earlier read)."""
    return k.controller.view.printing


async def _incidents(k: Kiosk, session_id: str) -> list[tuple[object, str | None]]:
    record = await k.store.session_bundle_source(session_id)
    return [(t.incident, t.subject) for t in record.trace if t.kind is TraceKind.INCIDENT]


async def test_print_sends_the_doctor_s_documents_to_cups(
    printing_kiosk: Kiosk, cups: Cups
) -> None:
    k, c = printing_kiosk, printing_kiosk.controller
    session_id = await _at_the_end(k)
    task = c.print_documents()
    assert task is not None and printing(k) is PrintStatus.PRINTING
    assert c.print_documents() is None  # a second touch while printing starts nothing
    await task
    assert printing(k) is PrintStatus.PRINTED
    first, second = cups.pdfs()
    words = " ".join(
        subprocess.run(
            ["pdftotext", str(first), "-"], capture_output=True, text=True
        ).stdout.split()
    )
    assert TEXT in words and "Ordonnance" in words
    assert (
        "Examen normal."
        in subprocess.run(["pdftotext", str(second), "-"], capture_output=True, text=True).stdout
    )
    assert cups.spool_data_files() == []
    assert await _incidents(k, session_id) == []
    # The outcome goes with the session.
    assert (await c.submit(ev.Finish)).accepted
    await c.device_event(dev.CardRemoved("reader-1"))
    assert printing(k) is None


async def test_paper_out_is_a_sentence_and_an_incident(printing_kiosk: Kiosk, cups: Cups) -> None:
    k, c = printing_kiosk, printing_kiosk.controller
    session_id = await _at_the_end(k)
    (cups.out / "paper-out").write_text("")
    task = c.print_documents()
    assert task is not None
    await task
    assert printing(k) is PrintStatus.OUT_OF_PAPER
    assert k.state() is State.END  # the patient stays on the end screen, the QR codes with them
    expected = print_incident(PrintProblem.OUT_OF_PAPER)
    assert await _incidents(k, session_id) == [(expected, "printer")]
    assert cups.pdfs() == []


async def test_a_stopped_printer_is_offline(printing_kiosk: Kiosk, cups: Cups) -> None:
    k, c = printing_kiosk, printing_kiosk.controller
    session_id = await _at_the_end(k)
    cups.admin("cupsdisable", "kiosk")
    task = c.print_documents()
    assert task is not None
    await task
    assert printing(k) is PrintStatus.OFFLINE
    assert await _incidents(k, session_id) == [(print_incident(PrintProblem.OFFLINE), "printer")]


async def test_no_printer_says_so_and_prints_nothing(kiosk: Kiosk) -> None:
    k, c = kiosk, kiosk.controller
    assert c.print_documents() is None  # not at the end: nothing
    assert printing(k) is None
    await _at_the_end(k)
    assert c.print_documents() is None
    assert printing(k) is PrintStatus.NO_PRINTER
