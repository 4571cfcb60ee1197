"""Why the patient came: a few simple choices in plain words, an optional short text.

Why choices and not a form: a cabin's patients are often elderly or not at
ease with screens; the doctor only needs a first idea before the call, and
the call is where the reason is really told. So the kiosk offers short
everyday words (fever, cough, pain…), lets the patient pick up to
`MAX_REASONS` of them, add a few words if they wish, or say "I'd rather tell
the doctor" (no choice and no text). Nothing here is a diagnosis or a
triage: red flags are asked at the emergency check, not here.

The answer is health data: it is kept out of repr and out of the trace
(the trace says only that an answer was given), and stored encrypted as a
fact of the session for the doctor.
"""

from __future__ import annotations

import enum
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime

from app.domain.errors import DomainError

__all__ = [
    "MAX_REASONS",
    "MAX_TEXT_LENGTH",
    "InvalidVisitReason",
    "VisitReason",
    "VisitReasonAnswer",
    "VisitReasonProblem",
    "FRENCH_WORDS",
    "check_reasons",
    "clean_text",
]

MAX_REASONS = 3
"""At most this many choices: more would not help the doctor and tires the patient."""

MAX_TEXT_LENGTH = 200
"""The optional free text, after stripping: a sentence or two, not a letter."""


class VisitReason(enum.StrEnum):
    """The choices, in the order shown; message ids are `reason.choice.<value>`."""

    FEVER = "fever"
    COUGH_COLD = "cough-cold"  # cough, cold, sore throat
    PAIN = "pain"
    SKIN = "skin"  # a skin problem (rash, spot, wound)
    URINARY = "urinary"
    DIGESTIVE = "digestive"  # stomach ache, diarrhoea, vomiting
    PRESCRIPTION_RENEWAL = "prescription-renewal"
    TEST_RESULTS = "test-results"
    OTHER = "other"


FRENCH_WORDS: dict[VisitReason, str] = {
    VisitReason.FEVER: "Fièvre",
    VisitReason.COUGH_COLD: "Toux, rhume, mal de gorge",
    VisitReason.PAIN: "Douleur",
    VisitReason.SKIN: "Problème de peau (bouton, plaque, plaie)",
    VisitReason.URINARY: "Problème urinaire",
    VisitReason.DIGESTIVE: "Mal de ventre, diarrhée, vomissements",
    VisitReason.PRESCRIPTION_RENEWAL: "Renouvellement d'ordonnance",
    VisitReason.TEST_RESULTS: "Résultats d'examens",
    VisitReason.OTHER: "Autre raison",
}
"""What the doctor and the platform read for each choice (the patient's screen uses the
catalogues): the doctor's summary and the FHIR code system's displays share these words."""


class VisitReasonProblem(enum.StrEnum):
    TOO_MANY = "too-many"
    REPEATED = "repeated"
    TEXT_TOO_LONG = "text-too-long"
    NOT_A_REASON = "not-a-reason"
    TEXT_NOT_CLEAN = "text-not-clean"


_SENTENCES = {
    VisitReasonProblem.TOO_MANY: f"At most {MAX_REASONS} reasons can be chosen.",
    VisitReasonProblem.REPEATED: "A reason was chosen twice.",
    VisitReasonProblem.TEXT_TOO_LONG: (
        f"The words about the reason are longer than {MAX_TEXT_LENGTH} characters."
    ),
    VisitReasonProblem.NOT_A_REASON: "A choice is not one of the reasons offered.",
    VisitReasonProblem.TEXT_NOT_CLEAN: "The words about the reason were not cleaned (clean_text).",
}


class InvalidVisitReason(DomainError):
    """An answer that cannot be kept; the sentence names the rule, never the words typed."""

    def __init__(self, problem: VisitReasonProblem) -> None:
        self.problem = problem
        super().__init__(_SENTENCES[problem])


def check_reasons(reasons: tuple[VisitReason, ...]) -> tuple[VisitReason, ...]:
    """The choices as given, or InvalidVisitReason (more than 3, one twice, not a reason)."""
    if not all(isinstance(r, VisitReason) for r in reasons):
        raise InvalidVisitReason(VisitReasonProblem.NOT_A_REASON)
    if len(set(reasons)) != len(reasons):
        raise InvalidVisitReason(VisitReasonProblem.REPEATED)
    if len(reasons) > MAX_REASONS:
        raise InvalidVisitReason(VisitReasonProblem.TOO_MANY)
    return reasons


def clean_text(text: str | None) -> str | None:
    """The free text stripped, control characters made spaces; None when nothing is left.

    Raises InvalidVisitReason when longer than MAX_TEXT_LENGTH once stripped
    (the screen limits the field; a longer text here is a caller's error,
    not something to cut silently).
    """
    if text is None:
        return None
    cleaned = "".join(" " if unicodedata.category(c).startswith("C") else c for c in text)
    cleaned = " ".join(cleaned.split())
    if not cleaned:
        return None
    if len(cleaned) > MAX_TEXT_LENGTH:
        raise InvalidVisitReason(VisitReasonProblem.TEXT_TOO_LONG)
    return cleaned


@dataclass(frozen=True, slots=True)
class VisitReasonAnswer:
    """What the patient said about why they came (a fact of the session, for the doctor).

    No choice and no text means "I'd rather tell the doctor".
    """

    at: datetime
    reasons: tuple[VisitReason, ...] = field(default=(), repr=False)
    text: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        check_reasons(self.reasons)
        if self.text is not None and clean_text(self.text) != self.text:
            raise InvalidVisitReason(VisitReasonProblem.TEXT_NOT_CLEAN)

    @property
    def left_to_the_doctor(self) -> bool:
        """The patient chose to tell the doctor rather than the kiosk."""
        return not self.reasons and self.text is None
