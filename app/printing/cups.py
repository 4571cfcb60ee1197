"""The CUPS edge: submit a PDF to the cabin's queue and wait for its outcome.

Choice: the CUPS client commands of Debian's `cups-client` (`lp`, `lpstat`,
`cancel`) run as asyncio subprocesses, not pycups: nothing to compile, no
extra Python dependency, the same commands the technician types, and the UI
thread never waits (the event loop awaits the process). The PDF goes to `lp`
on its standard input, so the kiosk writes no file of its own; the job's
title is neutral ("telecabine-1"), so CUPS's job history holds no health data.
After the job CUPS deletes the spooled document when the server runs with
`PreserveJobFiles No` (docs/printing.md; `retention_problem` checks it).

Outcomes, as `PrintProblem`s (the screen's sentence and the trace's incident):
- the printer reports `media-empty`/`media-needed` → OUT_OF_PAPER;
- the queue is disabled (stopped), refuses jobs, reports `offline` or cannot
  be reached, or the scheduler is down → OFFLINE;
- a job that CUPS aborted or that does not finish in time (then cancelled:
  nothing comes out later, behind the next patient) → JOB_FAILED.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import time
from dataclasses import dataclass, field

from app.printing.errors import PrintError, PrintProblem

log = logging.getLogger(__name__)

PAPER_REASONS = ("media-empty", "media-needed", "media-jam")
OFFLINE_REASONS = ("offline", "connecting-to-device", "shutdown", "stopped")
_JOB_ID = re.compile(r"request id is (\S+)")


@dataclass(frozen=True)
class PrinterState:
    """What `lpstat -l -p` says of the queue."""

    exists: bool
    enabled: bool = True
    reasons: tuple[str, ...] = ()
    message: str = field(default="", repr=False)

    @property
    def problem(self) -> PrintProblem | None:
        if not self.exists or not self.enabled:
            return PrintProblem.OFFLINE
        if any(r.startswith(PAPER_REASONS) for r in self.reasons):
            return PrintProblem.OUT_OF_PAPER
        if any(r.startswith(OFFLINE_REASONS) for r in self.reasons):
            return PrintProblem.OFFLINE
        return None


def parse_printer_state(queue: str, text: str) -> PrinterState:
    """Read `lpstat -l -p QUEUE` (pure)."""
    lines = text.splitlines()
    head = next((ln for ln in lines if ln.startswith(f"printer {queue} ")), None)
    if head is None:
        return PrinterState(exists=False)
    enabled = " disabled " not in f"{head} " and "disabled since" not in head
    reasons: tuple[str, ...] = ()
    message = ""
    start = lines.index(head)
    for ln in lines[start + 1 :]:
        if ln.startswith("printer "):
            break
        stripped = ln.strip()
        if stripped.startswith("Alerts:"):
            words = stripped.removeprefix("Alerts:").split()
            reasons = tuple(w for w in words if w != "none")
        elif ln.startswith("\t") and not message and ":" not in stripped:
            message = stripped
    return PrinterState(True, enabled, reasons, message)


def parse_job_status(job_id: str, text: str) -> str | None:
    """The `Status:` line of a job in `lpstat -l -W completed` (None: not listed)."""
    lines = text.splitlines()
    for i, ln in enumerate(lines):
        if ln.split(" ", 1)[0] == job_id:
            for follow in lines[i + 1 :]:
                if not follow.startswith(("\t", " ")):
                    break
                if follow.strip().startswith("Status:"):
                    return follow.strip().removeprefix("Status:").strip()
            return ""
    return None


class CupsPrinter:
    """One CUPS queue; `print_pdf` returns when the job is done or raises PrintError."""

    def __init__(
        self,
        queue: str,
        *,
        server: str | None = None,
        timeout_s: float = 120.0,
        poll_s: float = 0.3,
    ) -> None:
        if not queue or not re.fullmatch(r"[A-Za-z0-9_.-]{1,127}", queue):
            raise ValueError(f"'{queue[:40]}' is not a CUPS queue name.")
        self.queue = queue
        self._server = server
        self._timeout_s = timeout_s
        self._poll_s = poll_s

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["LC_ALL"] = "C"  # lpstat's words are parsed: English, whatever the cabin's locale
        if self._server:
            env["CUPS_SERVER"] = self._server
        return env

    async def _run(self, *args: str, stdin: bytes | None = None) -> tuple[int, str, str]:
        try:
            process = await asyncio.create_subprocess_exec(
                *args,
                stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                env=self._env(),
            )
        except FileNotFoundError:
            raise PrintError(PrintProblem.OFFLINE, f"{args[0]} is not installed") from None
        out, err = await process.communicate(stdin)
        return process.returncode or 0, out.decode(errors="replace"), err.decode(errors="replace")

    async def state(self) -> PrinterState:
        code, out, err = await self._run("lpstat", "-l", "-p", self.queue)
        if code != 0 and "scheduler is not running" in (out + err).lower():
            raise PrintError(PrintProblem.OFFLINE, "the CUPS scheduler is not running")
        return parse_printer_state(self.queue, out)

    async def _check(self) -> None:
        state = await self.state()
        problem = state.problem
        if problem is not None:
            raise PrintError(problem, f"queue {self.queue}: {','.join(state.reasons) or 'stopped'}")

    async def print_pdf(self, pdf: bytes, *, title: str) -> str:
        """Print one PDF; the job's id once it is done. Raises PrintError."""
        await self._check()
        code, out, err = await self._run(
            "lp", "-d", self.queue, "-t", title, "-o", "job-sheets=none", "-", stdin=pdf
        )
        found = _JOB_ID.search(out)
        if code != 0 or found is None:
            words = err.strip().splitlines()[-1:] or ["no job id"]
            problem = PrintProblem.OFFLINE if "accepting" in err or "exist" in err else None
            raise PrintError(problem or PrintProblem.JOB_FAILED, f"lp refused: {words[0][:120]}")
        job_id = found.group(1)
        await self._wait(job_id)
        return job_id

    async def _wait(self, job_id: str) -> None:
        deadline = time.monotonic() + self._timeout_s
        while True:
            _, active, _ = await self._run("lpstat", "-o", self.queue)
            if not any(ln.split(" ", 1)[0] == job_id for ln in active.splitlines()):
                break
            state = await self.state()
            if state.problem is not None or time.monotonic() > deadline:
                await self._run("cancel", job_id)  # nothing comes out later, for another patient
                problem = state.problem or PrintProblem.JOB_FAILED
                raise PrintError(problem, f"job {job_id} stopped: {','.join(state.reasons)}")
            await asyncio.sleep(self._poll_s)
        state = await self.state()
        if state.problem is not None:
            raise PrintError(state.problem, f"job {job_id}: {','.join(state.reasons)}")
        _, done, _ = await self._run("lpstat", "-l", "-W", "completed", "-o", self.queue)
        status = (parse_job_status(job_id, done) or "").lower()
        if any(word in status for word in ("abort", "fail", "error", "cancel", "stopped")):
            raise PrintError(PrintProblem.JOB_FAILED, f"job {job_id}: {status[:120]}")
        log.info("print job %s done on %s", job_id, self.queue)


def retention_problem(cupsd_conf: str) -> str | None:
    """Why this cupsd.conf text may keep spooled documents after a job, or None (pure).

    CUPS keeps a job's document for a day by default (`PreserveJobFiles 86400`);
    the kiosk's server must say `PreserveJobFiles No`.
    """
    value = None
    for line in cupsd_conf.splitlines():
        words = line.split()
        if len(words) >= 2 and words[0].lower() == "preservejobfiles":
            value = words[1].lower()
    if value in ("no", "off", "false", "0"):
        return None
    if value is None:
        return "cupsd.conf does not set PreserveJobFiles (CUPS keeps documents a day by default)"
    return f"cupsd.conf keeps printed documents (PreserveJobFiles {value})"
