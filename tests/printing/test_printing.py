"""Printing: the page and the INS datamatrix (pure), then real jobs through a private cupsd.

The CUPS tests open the PDF the printer produced: its text read back with
pdftotext (poppler-utils), its first page rendered with pdftoppm and the
datamatrix decoded with zxing-cpp.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
import zxingcpp
from hypothesis import given, seed, settings
from hypothesis import strategies as st

from app.printing.cups import (
    CupsPrinter,
    PrinterState,
    parse_job_status,
    parse_printer_state,
    retention_problem,
)
from app.printing.errors import PrintError, PrintProblem
from app.printing.ins_datamatrix import (
    GS,
    NotQualified,
    ins_datamatrix,
    ins_payload,
    printable_ins,
)
from app.printing.page import PrintableDocument, PrintKind, print_files
from app.printing.service import DocumentPrinter, PrintInterrupted
from tests.printing.cupsd import Cups, cupsd_missing_reason, private_cupsd
from tests.sync.sessions import NIR_TEXT, provisional, qualified

AT = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)
PRESCRIPTION = PrintableDocument(
    "d1",
    PrintKind.PRESCRIPTION,
    "Ordonnance du jour",
    "Paracétamol 500 mg : un comprimé trois fois par jour pendant cinq jours.\n"
    "Revoir le médecin traitant si la fièvre dure plus de trois jours.",
)
REPORT = PrintableDocument(
    "d2", PrintKind.REPORT, "Compte rendu", "Examen sans particularité. " * 30
)


def decode(modules: np.ndarray) -> str | None:
    big = np.repeat(np.repeat(modules, 6, axis=0), 6, axis=1)
    found = zxingcpp.read_barcode(
        np.pad(big, 24, constant_values=255),
        formats=zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.DataMatrix),
        text_mode=zxingcpp.TextMode.Plain,
    )
    return found.text if found is not None else None


# ---- pure ----------------------------------------------------------------------------------


def test_the_payload_holds_the_ins_the_oid_and_the_strict_traits_in_order() -> None:
    identity = qualified()
    payload = ins_payload(identity)
    t = identity.traits
    # The ANS layout as a hospital information system writes and reads it: header "IS01" and
    # zeros; S1 matricule (15, fixed), S2 OID, S3 first names, S4 birth name (variable: GS),
    # S5 sex, S6 DD-MM-YYYY (fixed), S7 the birth place's INSEE code when known.
    assert payload[:26] == "IS010000000000000000000000"
    expected = (
        f"S1{NIR_TEXT}"
        "S21.2.250.1.213.1.4.10"  # 20 characters, the field's maximum: no separator
        f"S3{' '.join(t.birth_first_names)}{GS}"
        f"S4{t.birth_name}{GS}"
        f"S5{'F' if t.sex.name == 'FEMALE' else 'M'}"
        f"S6{t.birth_date:%d-%m-%Y}"
    ) + (f"S7{t.birth_place_insee}" if t.birth_place_insee else "")
    assert payload[26:] == expected


def test_a_name_longer_than_its_field_is_never_cut_the_paper_goes_without_ins() -> None:
    from dataclasses import replace

    identity = qualified()
    long = replace(identity, traits=replace(identity.traits, birth_name="X" * 101))
    assert printable_ins(identity) and not printable_ins(long)
    with pytest.raises(NotQualified):
        ins_payload(long)


def test_a_provisional_identity_gets_no_datamatrix() -> None:
    with pytest.raises(NotQualified):
        ins_payload(provisional())


def test_the_symbol_decodes_to_the_payload() -> None:
    symbol = ins_datamatrix(qualified())
    modules = np.array([[0 if black else 255 for black in row] for row in symbol.modules], np.uint8)
    assert decode(modules) == symbol.payload
    assert "S1" not in repr(symbol)  # the identity stays out of reprs and logs


def test_a_pdf_document_is_printed_as_the_doctor_sent_it() -> None:
    sent = PrintableDocument("p", PrintKind.REPORT, "CR", None, b"%PDF-1.4 the doctor's own")
    files = print_files((PRESCRIPTION, sent), qualified(), AT)
    assert [f.name for f in files] == ["telecabine-1", "telecabine-2"]
    assert files[1].pdf == sent.pdf
    assert files[0].pdf.startswith(b"%PDF-1.4")


LPSTAT = """printer kiosk is idle.  enabled since Thu Dec  3 15:50:10 2026
\tout of paper
\tForm mounted:
\tAlerts: media-empty-error
\tConnection: direct
printer other disabled since Thu Dec  3 15:50:10 2026 -
\tAlerts: none
"""


def test_the_maintenance_test_page_holds_the_cabin_the_date_and_the_queue_only() -> None:
    from app.printing.page import technical_test_page

    at = datetime(2026, 12, 3, 16, 40, tzinfo=UTC)
    pdf = technical_test_page("CAB-75-001", "cabine", at)
    assert pdf.startswith(b"%PDF-") and b"/Count 1" in pdf  # one page
    assert b"CAB-75-001" in pdf and b"03/12/2026 16:40" in pdf and b"cabine" in pdf
    assert b"Patient" not in pdf and b"INS" not in pdf


def test_the_printer_state_is_read_from_lpstat() -> None:
    state = parse_printer_state("kiosk", LPSTAT)
    assert state == PrinterState(True, True, ("media-empty-error",), "out of paper")
    assert state.problem is PrintProblem.OUT_OF_PAPER
    assert parse_printer_state("other", LPSTAT).problem is PrintProblem.OFFLINE
    assert parse_printer_state("absent", LPSTAT).problem is PrintProblem.OFFLINE
    assert parse_printer_state("kiosk", LPSTAT.replace("media-empty-error", "none")).problem is None
    assert (
        parse_printer_state("kiosk", LPSTAT.replace("media-empty", "offline-report")).problem
        is PrintProblem.OFFLINE
    )


def test_the_job_status_is_read_from_lpstat() -> None:
    text = (
        "kiosk-1   root  1024   Thu\n\tStatus: \n\tAlerts: x\nkiosk-2  root 1\n\tStatus: aborted\n"
    )
    assert parse_job_status("kiosk-1", text) == ""
    assert parse_job_status("kiosk-2", text) == "aborted"
    assert parse_job_status("kiosk-3", text) is None


@seed(1616)
@settings(max_examples=300, deadline=None)
@given(st.text(), st.text(max_size=12))
def test_lpstat_parsers_never_raise_on_any_text(text: str, name: str) -> None:
    parse_printer_state(name or "q", text)
    parse_job_status(name or "q-1", text)
    retention_problem(text)


def test_retention_must_be_off() -> None:
    assert retention_problem("LogLevel warn\nPreserveJobFiles No\n") is None
    assert "default" in (retention_problem("LogLevel warn\n") or "")
    assert "86400" in (retention_problem("PreserveJobFiles 86400\n") or "")
    assert retention_problem("PreserveJobFiles Yes\nPreserveJobFiles No\n") is None


def test_a_queue_name_is_checked() -> None:
    with pytest.raises(ValueError, match="not a CUPS queue name"):
        CupsPrinter("kiosk; rm -rf /")


# ---- against a real CUPS -------------------------------------------------------------------

MISSING = cupsd_missing_reason()
needs_cups = pytest.mark.skipif(MISSING is not None, reason=MISSING or "")


@pytest.fixture
def cups() -> Iterator[Cups]:
    with private_cupsd() as server:
        server.add_pdf_queue("kiosk")
        yield server


def text_of(pdf: Path) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout


def datamatrix_of(pdf: Path, tmp: Path) -> str | None:
    subprocess.run(
        ["pdftoppm", "-r", "200", "-gray", "-f", "1", "-l", "1", str(pdf), str(tmp / "page")],
        check=True,
    )
    image = next(tmp.glob("page*.pgm"))
    raw = image.read_bytes()
    header = raw.split(maxsplit=4)  # P5 width height maxval data
    width, height = int(header[1]), int(header[2])
    pixels = np.frombuffer(raw[-width * height :], np.uint8).reshape(height, width)
    found = zxingcpp.read_barcode(
        pixels,
        formats=zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.DataMatrix),
        text_mode=zxingcpp.TextMode.Plain,
    )
    return found.text if found is not None else None


def printer(cups: Cups, queue: str = "kiosk", timeout_s: float = 60) -> DocumentPrinter:
    return DocumentPrinter(CupsPrinter(queue, server=str(cups.socket), timeout_s=timeout_s))


@needs_cups
async def test_the_documents_print_with_the_ins_datamatrix(cups: Cups, tmp_path: Path) -> None:
    identity = qualified()
    printed = await printer(cups).print_documents((PRESCRIPTION, REPORT), identity, AT)
    assert printed == 2
    first, second = cups.pdfs()
    words = " ".join(text_of(first).split())
    assert "Ordonnance — Ordonnance du jour" in words
    assert "Paracétamol 500 mg : un comprimé trois fois par jour" in words
    assert f"INS : {NIR_TEXT}" in words and "Identité qualifiée" in words
    assert datamatrix_of(first, tmp_path) == ins_payload(identity)
    assert "Examen sans particularité" in text_of(second)
    # Nothing readable stays in the spool: the document is deleted, the job's name is neutral.
    assert cups.spool_data_files() == []
    for control in (cups.root / "spool").glob("c*"):
        assert (
            b"Parac" not in control.read_bytes() and NIR_TEXT.encode() not in control.read_bytes()
        )


@needs_cups
async def test_no_ins_and_no_datamatrix_for_a_provisional_identity(
    cups: Cups, tmp_path: Path
) -> None:
    await printer(cups).print_documents((PRESCRIPTION,), provisional(), AT)
    (only,) = cups.pdfs()
    words = text_of(only)
    assert "Paracétamol" in words and "INS" not in words
    assert datamatrix_of(only, tmp_path) is None


@needs_cups
async def test_paper_out_is_a_typed_problem_and_nothing_is_left_queued(cups: Cups) -> None:
    (cups.out / "paper-out").write_text("")
    with pytest.raises(PrintError) as caught:
        await printer(cups).print_documents((PRESCRIPTION,), qualified(), AT)
    assert caught.value.problem is PrintProblem.OUT_OF_PAPER
    assert cups.admin("lpstat", "-o", "kiosk").strip() == ""
    assert cups.spool_data_files() == []
    # Paper back in: the printer says so and the next print works.
    (cups.out / "paper-out").unlink()
    cups.admin("lpadmin", "-p", "kiosk", "-o", "printer-state-reasons=none")
    cups.admin("cupsenable", "kiosk")


@needs_cups
async def test_a_stopped_queue_is_offline_and_nothing_is_sent(cups: Cups) -> None:
    cups.admin("cupsdisable", "kiosk")
    with pytest.raises(PrintError) as caught:
        await printer(cups).print_documents((PRESCRIPTION,), qualified(), AT)
    assert caught.value.problem is PrintProblem.OFFLINE
    assert cups.admin("lpstat", "-o", "kiosk").strip() == ""
    with pytest.raises(PrintError) as absent:
        await printer(cups, "no-such-queue").print_documents((PRESCRIPTION,), None, AT)
    assert absent.value.problem is PrintProblem.OFFLINE


@needs_cups
async def test_a_queue_stopped_mid_job_is_cancelled_and_reported(cups: Cups) -> None:
    """The queue stops after the first document: one came out, the second is cancelled."""
    cups_printer = CupsPrinter("kiosk", server=str(cups.socket), timeout_s=30)
    service = DocumentPrinter(cups_printer)
    original = cups_printer.print_pdf
    calls = 0

    async def stop_after_first(pdf: bytes, *, title: str) -> str:
        nonlocal calls
        calls += 1
        if calls == 2:
            await asyncio.to_thread(cups.admin, "cupsdisable", "kiosk")
        return await original(pdf, title=title)

    cups_printer.print_pdf = stop_after_first  # type: ignore[method-assign]
    with pytest.raises(PrintInterrupted) as caught:
        await service.print_documents((PRESCRIPTION, REPORT), qualified(), AT)
    assert caught.value.printed == 1 and caught.value.problem is PrintProblem.OFFLINE
    assert len(cups.pdfs()) == 1


@needs_cups
def test_the_private_cupsd_keeps_no_document(cups: Cups) -> None:
    assert retention_problem((cups.root / "etc/cupsd.conf").read_text()) is None
    assert shutil.which("lp") is not None


@needs_cups
async def test_the_maintenance_check_reads_the_queue_and_the_retention(
    cups: Cups, tmp_path: Path
) -> None:
    from app.printing.check import check_printer

    conf = cups.root / "etc/cupsd.conf"
    good = await check_printer(CupsPrinter("kiosk", server=str(cups.socket)), conf)
    assert good.ok and good.problems == ()
    keeping = tmp_path / "cupsd.conf"
    keeping.write_text("LogLevel warn\n")
    cups.admin("cupsdisable", "kiosk")
    bad = await check_printer(CupsPrinter("kiosk", server=str(cups.socket)), keeping)
    assert not bad.ok and not bad.ready and not bad.retention_off
    assert bad.problems == (
        "The queue 'kiosk' is not ready (printer-offline).",
        "cupsd.conf does not set PreserveJobFiles (CUPS keeps documents a day by default): "
        f"set 'PreserveJobFiles No' in {keeping}.",
    )
    missing = await check_printer(CupsPrinter("kiosk", server=str(cups.socket)), tmp_path / "x")
    assert not missing.retention_off and "cannot be read" in missing.problems[-1]
