"""OperationOutcome: how the platform says why it refused a request."""

from __future__ import annotations

from typing import Any


class PlatformError(Exception):
    """A request the platform refuses; becomes an OperationOutcome with `status`."""

    def __init__(
        self,
        status: int,
        code: str,
        diagnostics: str,
        *,
        issues: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(diagnostics)
        self.status = status
        self.code = code
        self.diagnostics = diagnostics
        self.issues = issues

    def outcome(self) -> dict[str, Any]:
        return operation_outcome(self.code, self.diagnostics, issues=self.issues)


def operation_outcome(
    code: str,
    diagnostics: str,
    *,
    severity: str = "error",
    issues: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    return {
        "resourceType": "OperationOutcome",
        "issue": issues or [{"severity": severity, "code": code, "diagnostics": diagnostics}],
    }
