"""What can go wrong with a print, as a reason the controller and the screen branch on."""

from __future__ import annotations

import enum


class PrintProblem(enum.StrEnum):
    """Why a print did not come out; the value is the trace's incident code."""

    OUT_OF_PAPER = "printer-out-of-paper"  # the printer said media-empty / media-needed
    OFFLINE = "printer-offline"  # the queue is stopped, refuses jobs, or the printer is unreachable
    JOB_FAILED = "print-failed"  # the job was aborted, cancelled or did not finish in time

    @property
    def incident_name(self) -> str:
        """The name of the trace's `IncidentCode` member for this problem."""
        return {
            PrintProblem.OUT_OF_PAPER: "PRINTER_OUT_OF_PAPER",
            PrintProblem.OFFLINE: "PRINTER_OFFLINE",
            PrintProblem.JOB_FAILED: "PRINT_FAILED",
        }[self]


class PrintError(Exception):
    """A print did not come out; `problem` says why (no document content in the message)."""

    def __init__(self, problem: PrintProblem, detail: str) -> None:
        self.problem = problem
        self.detail = detail
        super().__init__(f"{problem.value}: {detail}")
