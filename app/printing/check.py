"""The printer's part of the maintenance device test: is the queue there, ready, and does
the CUPS server keep no document after a job? (No page is printed: nothing to read.)"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from app.printing.cups import CupsPrinter, retention_problem
from app.printing.errors import PrintError, PrintProblem

CUPSD_CONF = Path("/etc/cups/cupsd.conf")


@dataclass(frozen=True)
class PrinterCheck:
    """One line each for the technician; `ok` when the printer may be used for patients."""

    ready: bool
    retention_off: bool
    problems: tuple[str, ...]
    queue_problem: PrintProblem | None = None  # why the queue is not ready (a code)

    @property
    def ok(self) -> bool:
        return self.ready and self.retention_off


async def check_printer(cups: CupsPrinter, cupsd_conf: Path = CUPSD_CONF) -> PrinterCheck:
    problems: list[str] = []
    try:
        state = await cups.state()
        problem = state.problem
    except PrintError as exc:
        problem = exc.problem
    if problem is not None:
        problems.append(f"The queue '{cups.queue}' is not ready ({problem.value}).")
    try:
        conf = cupsd_conf.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        conf = None
        problems.append(f"{cupsd_conf} cannot be read ({type(exc).__name__}).")
    retention = retention_problem(conf) if conf is not None else "unknown"
    if conf is not None and retention is not None:
        problems.append(f"{retention}: set 'PreserveJobFiles No' in {cupsd_conf}.")
    retention_off = conf is not None and retention is None
    return PrinterCheck(problem is None, retention_off, tuple(problems), problem)
