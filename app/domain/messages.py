"""A sentence the patient is told, by message id.

Why ids: the UI translates through its catalogues, keyed by the id; the
French source text lives next to the rule that chooses it so that the two
never drift apart. `easy_read` is the FALC-like variant (facile à lire et à
comprendre) shown when the patient asked for simple texts; None when the
source text is already short and plain.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Message:
    id: str
    fr: str
    easy_read: str | None = None

    def text(self, easy: bool = False) -> str:
        """The French text, in its easy-to-read variant when asked and available."""
        return self.easy_read if easy and self.easy_read else self.fr
