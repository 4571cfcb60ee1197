"""Errors of the site configuration, written for the technician who edits it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ConfigProblem:
    """One thing wrong in the file: where, what was found, what was expected."""

    key: str  # dotted path, e.g. "devices[1].baud_rate"
    value: str  # the bad value as written ("" when the key is missing)
    expected: str
    hint: str | None = None  # "did you mean ..." for unknown keys

    def sentence(self) -> str:
        found = f" has {self.value}" if self.value else ""
        text = f"'{self.key}'{found}: {self.expected}."
        if self.hint:
            text += f" {self.hint}"
        return text


class ConfigError(Exception):
    """The configuration file cannot be used; `problems` says exactly why."""

    def __init__(self, source: str, problems: list[ConfigProblem]) -> None:
        self.source = source
        self.problems = problems
        lines = "\n".join(f"  - {p.sentence()}" for p in problems)
        super().__init__(f"{source}: {len(problems)} problem(s)\n{lines}")
