"""The cabin's printer as the session controller uses it: documents in, paper out.

The pages are made in the default executor (the datamatrix and the PDF are
CPU work), the jobs go to CUPS as subprocesses the event loop awaits: the UI
thread never waits for a printer. Documents print one job each, in order; the
first failure stops the rest and raises PrintError with how many came out.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from app.domain.identity import PatientIdentity
from app.printing.cups import CupsPrinter
from app.printing.errors import PrintError
from app.printing.page import PrintableDocument, print_files


class PrintInterrupted(PrintError):
    """Some documents came out before the failure (`printed` of them)."""

    def __init__(self, error: PrintError, printed: int) -> None:
        super().__init__(error.problem, error.detail)
        self.printed = printed


class DocumentPrinter:
    def __init__(self, cups: CupsPrinter) -> None:
        self.cups = cups

    async def print_documents(
        self,
        documents: tuple[PrintableDocument, ...],
        identity: PatientIdentity | None,
        at: datetime,
    ) -> int:
        """Print every document; how many were printed. Raises PrintError (PrintInterrupted
        when some came out first)."""
        loop = asyncio.get_running_loop()
        files = await loop.run_in_executor(None, print_files, documents, identity, at)
        printed = 0
        for file in files:
            try:
                await self.cups.print_pdf(file.pdf, title=file.name)
            except PrintError as exc:
                if printed:
                    raise PrintInterrupted(exc, printed) from exc
                raise
            printed += 1
        return printed
