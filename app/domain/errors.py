"""The one exception tree of the domain core.

Every rule the domain enforces fails with a subclass of `DomainError` that
carries a reason enum (callers branch on it, never on the text) and a whole
sentence for the person who reads it. The sentences never contain a health
datum (no name, NIR, date of birth or measured value): an exception may end
up in a technical log by accident, and the log must stay clean.
"""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error raised by `app.domain`."""

    def __init__(self, sentence: str) -> None:
        super().__init__(sentence)
        self.sentence = sentence
