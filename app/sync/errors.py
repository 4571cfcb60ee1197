"""The one exception tree of the uplink to the platform.

Why reasons are enums: the sender, the maintenance screen and the tests
branch on *why* something failed (quarantine or retry), never on the text.
Sentences never carry a health datum: they name resources and codes, not
names, NIRs or measured values, because errors can reach a technical log.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass


class SyncError(Exception):
    """Base of every error raised by `app.sync`."""

    def __init__(self, sentence: str) -> None:
        super().__init__(sentence)
        self.sentence = sentence


class MappingErrorReason(enum.StrEnum):
    UNSAFE_IDENTIFIER = "unsafe-identifier"
    TEST_IDENTITY_IN_PRODUCTION = "test-identity-in-production"
    NO_PATIENT = "no-patient"
    NAIVE_TIME = "naive-time"
    INVALID_RPPS = "invalid-rpps"


class MappingError(SyncError):
    """A session that cannot be turned into FHIR; retrying will not help."""

    def __init__(self, reason: MappingErrorReason, sentence: str) -> None:
        super().__init__(sentence)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class CodeProblem:
    """One coded value the product refuses to send: where, what kind, and why.

    `found_kind` is only the kind and size of the refused value ("text of 7
    characters", "nothing"), never the value itself: on a Patient the path may
    point at a birthplace, a name, a birth date or a NIR, and the sentence is
    stored as the quarantine reason a technician reads in maintenance.
    """

    resource_type: str
    path: str
    found_kind: str
    expected: str

    def sentence(self) -> str:
        return f"{self.resource_type}.{self.path} has {self.found_kind}; expected {self.expected}."


def describe_kind(value: object) -> str:
    """The kind and size of a value, with nothing of its content."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "a true/false value"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "empty text" if not value else f"text of {len(value)} character(s)"
    if isinstance(value, list | tuple):
        return f"a list of {len(value)} item(s)"
    if isinstance(value, dict):
        return f"an object of {len(value)} field(s)"
    return f"a value of type {type(value).__name__}"


class CodeCheckError(SyncError):
    """Resources whose codes or profiles are wrong (the FHIR models do not check codes)."""

    def __init__(self, problems: Sequence[CodeProblem]) -> None:
        self.problems = tuple(problems)
        lines = " ".join(p.sentence() for p in self.problems)
        super().__init__(f"{len(self.problems)} coded value(s) refused: {lines}")
