"""What is printed for each document the doctor sent (pure: values in, PDF bytes out).

One print job per document, so a prescription comes out as its own sheets
(the patient hands it to the pharmacist alone). A text document is laid out
here: its kind and title, the patient (birth name, first names, date of
birth; the INS and its datamatrix on every page when the identity is
qualified), the date of the teleconsultation, then the text, wrapped and paged.
A PDF document is printed as the doctor's software made it: that software
wrote its identity block (and, for a qualified identity, its own INS
datamatrix); the kiosk does not rewrite a signed medical document.

The words on paper are French whatever the screen's language: the paper is
for the pharmacist and the next doctor, in France, as the doctor's text is.
"""

from __future__ import annotations

import enum
import textwrap
from dataclasses import dataclass, field
from datetime import datetime

from app.domain.identity import PatientIdentity
from app.printing.ins_datamatrix import InsDatamatrix, ins_datamatrix, printable_ins
from app.printing.pdf import A4, Page, Square, Text, write_pdf

MARGIN = 56.0
BODY_SIZE = 10.5
LINE = 14.0
HEADING_CHARS = 52  # characters of the 15 pt heading left of the datamatrix
WRAP = 92  # characters of body text per line at 10.5 pt Helvetica on A4
MODULE = 2.0  # points per datamatrix module (≈ 0.7 mm): the usual 36-module symbol is ≈ 25 mm


class PrintKind(enum.StrEnum):
    REPORT = "report"
    PRESCRIPTION = "prescription"


KIND_WORDS = {PrintKind.REPORT: "Compte rendu", PrintKind.PRESCRIPTION: "Ordonnance"}


@dataclass(frozen=True)
class PrintableDocument:
    """One document as the call delivered it (text or PDF), for the printer."""

    document_id: str
    kind: PrintKind
    title: str = field(repr=False)
    text: str | None = field(repr=False, default=None)
    pdf: bytes | None = field(repr=False, default=None)


@dataclass(frozen=True)
class PrintFile:
    """One job's file: a PDF, named without health data (the job's title in CUPS)."""

    name: str
    pdf: bytes = field(repr=False)


def print_files(
    documents: tuple[PrintableDocument, ...], identity: PatientIdentity | None, at: datetime
) -> tuple[PrintFile, ...]:
    """The files to print, one per document, in the order the doctor sent them."""
    symbol = ins_datamatrix(identity) if identity is not None and printable_ins(identity) else None
    out: list[PrintFile] = []
    for index, document in enumerate(documents, 1):
        name = f"telecabine-{index}"
        if document.pdf is not None:
            out.append(PrintFile(name, document.pdf))
        else:
            out.append(PrintFile(name, render_text_document(document, identity, symbol, at)))
    return tuple(out)


def _patient_lines(identity: PatientIdentity | None) -> list[str]:
    if identity is None:
        return ["Patient : identité non renseignée"]
    t = identity.traits
    lines = [
        f"Patient : {t.birth_name.upper()} {' '.join(t.birth_first_names)}",
        f"Né(e) le {t.birth_date.strftime('%d/%m/%Y')}",
    ]
    if printable_ins(identity) and identity.identifier is not None and identity.ins_oid is not None:
        lines.append(f"INS : {identity.identifier.value} (OID {identity.ins_oid.value})")
        lines.append("Identité qualifiée")
    return lines


def _wrap(text: str) -> list[str]:
    lines: list[str] = []
    for paragraph in text.splitlines():
        lines.extend(textwrap.wrap(paragraph, WRAP) or [""])
    return lines


def _datamatrix(symbol: InsDatamatrix) -> tuple[Square, ...]:
    size = len(symbol.modules)
    left = A4[0] - MARGIN - size * MODULE
    top = A4[1] - MARGIN
    return tuple(
        Square(left + c * MODULE, top - (r + 1) * MODULE, MODULE)
        for r, row in enumerate(symbol.modules)
        for c, black in enumerate(row)
        if black
    )


def render_text_document(
    document: PrintableDocument,
    identity: PatientIdentity | None,
    symbol: InsDatamatrix | None,
    at: datetime,
) -> bytes:
    """The PDF of one text document: header on every page, the text paged below it."""
    heading = f"{KIND_WORDS[document.kind]} — {document.title}"
    if len(heading) > HEADING_CHARS:  # the datamatrix sits at the heading's right
        heading = heading[: HEADING_CHARS - 1] + "…"
    header = [*_patient_lines(identity), f"Téléconsultation du {at.strftime('%d/%m/%Y')}"]
    body = _wrap(document.text or "")
    top = A4[1] - MARGIN
    first_body_y = top - 2 * LINE - len(header) * LINE - LINE
    per_page = max(1, int((first_body_y - MARGIN - LINE) // LINE))
    chunks = [body[i : i + per_page] for i in range(0, len(body), per_page)] or [[]]
    squares = _datamatrix(symbol) if symbol is not None else ()
    pages: list[Page] = []
    for number, chunk in enumerate(chunks, 1):
        texts = [Text(MARGIN, top - 14, 15, heading, bold=True)]
        y = top - 2 * LINE - 6
        for line in header:
            texts.append(Text(MARGIN, y, 10, line))
            y -= LINE
        y = first_body_y
        for line in chunk:
            texts.append(Text(MARGIN, y, BODY_SIZE, line))
            y -= LINE
        texts.append(Text(MARGIN, MARGIN - 20, 8, f"Page {number}/{len(chunks)}"))
        pages.append(Page(tuple(texts), squares))
    return write_pdf(tuple(pages), title=KIND_WORDS[document.kind])


def technical_test_page(cabin_id: str, queue: str, at: datetime) -> bytes:
    """The maintenance test page: the cabin, the date, the queue — no patient, no health datum.

    A fixed technical page the technician asks for from the maintenance mode; it
    takes no document and no identity, so it cannot carry anything of a patient.
    """
    top = A4[1] - MARGIN
    lines = (
        f"Cabine : {cabin_id}",
        f"Date : {at.strftime('%d/%m/%Y %H:%M')} (UTC)",
        f"File d'impression : {queue}",
        "",
        "Page de test de la maintenance. Elle ne contient aucune donnée de santé.",
    )
    texts = [Text(MARGIN, top - 14, 15, "Télécabine — page de test", bold=True)]
    y = top - 3 * LINE
    for line in lines:
        texts.append(Text(MARGIN, y, BODY_SIZE, line))
        y -= LINE
    # a square of known size: the technician checks the scale and the margins on paper
    squares = tuple(Square(MARGIN + 20 * i, y - 40, 10.0) for i in range(10))
    return write_pdf((Page(tuple(texts), squares),), title="Page de test")
