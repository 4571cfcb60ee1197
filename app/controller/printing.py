"""The end screen's "Print": the session's documents to the cabin's printer, off the UI thread.

Why a module of its own: printing is one act with its own outcomes, and the
controller only hands it the documents (kept in memory for the session, as
the call delivered them, dropped at the wipe with the titles and links), the
identity the flow holds, and a way to record an incident. The job runs as a
task on the event loop (the printer's subprocesses are awaited, the pages made
in an executor); the screen shows `PrintStatus` as it changes. A failure is a
plain sentence for the patient (the QR codes stay the way to the documents)
and an incident in the act's trace; nothing about the documents is logged.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from app.call.documents import ReceivedDocument
from app.controller.ports import PrinterPort
from app.controller.view import PrintStatus
from app.domain.identity import PatientIdentity
from app.domain.trace import IncidentCode
from app.printing.errors import PrintError, PrintProblem
from app.printing.page import PrintableDocument, PrintKind

log = logging.getLogger(__name__)

_STATUS = {
    PrintProblem.OUT_OF_PAPER: PrintStatus.OUT_OF_PAPER,
    PrintProblem.OFFLINE: PrintStatus.OFFLINE,
    PrintProblem.JOB_FAILED: PrintStatus.FAILED,
}


def print_incident(problem: PrintProblem) -> IncidentCode:
    """The trace's code for a print problem (DEVICE_FAILED until the vocabulary has its own)."""
    return IncidentCode.__members__.get(problem.incident_name, IncidentCode.DEVICE_FAILED)


def printable(document: ReceivedDocument) -> PrintableDocument:
    return PrintableDocument(
        document.document_id,
        PrintKind(document.kind.value),
        document.title,
        document.text,
        document.pdf,
    )


class SessionPrinting:
    """One session's print: at most one job at a time; cleared at the wipe."""

    def __init__(
        self,
        printer: PrinterPort | None,
        publish: Callable[[], None],
        record_incident: Callable[[IncidentCode, str | None], Awaitable[bool]],
    ) -> None:
        self._printer = printer
        self._publish = publish
        self._record_incident = record_incident
        self.status: PrintStatus | None = None
        self._documents: dict[str, ReceivedDocument] = {}
        self._running: set[asyncio.Task[None]] = set()  # held: asyncio keeps tasks weakly
        self._generation = 0  # a job's outcome after the wipe belongs to no session

    def use(self, printer: PrinterPort | None) -> None:
        """Another printer from now on (a composition that builds it after the controller)."""
        self._printer = printer

    def running(self) -> tuple[asyncio.Task[None], ...]:
        """The print tasks under way (the controller cancels them when it closes)."""
        return tuple(self._running)

    def keep(self, document: ReceivedDocument) -> None:
        self._documents[document.document_id] = document

    def clear(self) -> None:
        """At the wipe: the documents and the outcome go (a job under way finishes in CUPS)."""
        self._documents = {}
        self.status = None
        self._generation += 1

    def start(self, identity: PatientIdentity | None, at: datetime) -> asyncio.Task[None] | None:
        """Print the session's documents; None when there is nothing to start."""
        if self._printer is None:
            self.status = PrintStatus.NO_PRINTER
            self._publish()
            return None
        if self.status is PrintStatus.PRINTING or not self._documents:
            return None
        documents = tuple(printable(d) for d in self._documents.values())
        self.status = PrintStatus.PRINTING
        self._publish()
        run = self._run(self._printer, documents, identity, at, self._generation)
        task = asyncio.create_task(run)
        self._running.add(task)
        task.add_done_callback(self._running.discard)
        return task

    async def _run(
        self,
        printer: PrinterPort,
        documents: tuple[PrintableDocument, ...],
        identity: PatientIdentity | None,
        at: datetime,
        generation: int,
    ) -> None:
        problem: PrintProblem | None = None
        try:
            await printer.print_documents(documents, identity, at)
        except PrintError as exc:
            problem = exc.problem
        except Exception as exc:  # a printer port that broke: the same plain sentence
            log.error("print failed unexpectedly (%s)", type(exc).__name__)
            problem = PrintProblem.JOB_FAILED
        if problem is not None:
            log.warning("print failed: %s", problem.value)  # no document, no identity
        if generation != self._generation:
            return  # the session was wiped meanwhile: its screen and its trace are gone
        self.status = _STATUS[problem] if problem is not None else PrintStatus.PRINTED
        self._publish()
        if problem is not None:
            await self._record_incident(print_incident(problem), "printer")
