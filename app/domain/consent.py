"""Free and informed consent (CSP L.1111-2 and L.1111-4; charte §1.3).

Why texts are versioned and hashed: months later, a doctor or a judge must
know exactly which words the patient agreed to. A decision therefore records
the text's id, version, language and the SHA-256 of the very text shown,
and the time. Refusals and withdrawals are recorded the same way: a refusal
is a decision, not the absence of one.

Only the teleconsultation itself needs consent to go on; data sharing with
other professionals (and the DMP) and the assistance of a professional in the
cabin are optional and a refusal changes nothing else.
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from app.domain.errors import DomainError


class ConsentItem(enum.StrEnum):
    TELECONSULTATION = "teleconsultation"  # required
    DATA_SHARING = "data-sharing"  # other professionals, DMP: optional
    ASSISTANCE = "assistance"  # a professional present in the cabin: optional

    @property
    def required(self) -> bool:
        return self is ConsentItem.TELECONSULTATION


class ConsentChoice(enum.StrEnum):
    GRANTED = "granted"
    REFUSED = "refused"
    WITHDRAWN = "withdrawn"


class ConsentErrorReason(enum.StrEnum):
    TELECONSULTATION_NOT_GRANTED = "teleconsultation-not-granted"
    NOTHING_TO_WITHDRAW = "nothing-to-withdraw"
    NAIVE_TIME = "naive-time"


_CONSENT_SENTENCES: dict[ConsentErrorReason, str] = {
    ConsentErrorReason.TELECONSULTATION_NOT_GRANTED: (
        "The patient has not agreed to the teleconsultation, so the call cannot start."
    ),
    ConsentErrorReason.NOTHING_TO_WITHDRAW: ("Consent can only be withdrawn after it was given."),
    ConsentErrorReason.NAIVE_TIME: "The time of the decision has no time zone.",
}


class ConsentError(DomainError):
    def __init__(self, reason: ConsentErrorReason) -> None:
        super().__init__(_CONSENT_SENTENCES[reason])
        self.reason = reason


@dataclass(frozen=True, slots=True)
class ConsentText:
    """One version of one consent text in one language; the hash is computed from the text."""

    id: str
    item: ConsentItem
    version: str
    language: str  # BCP 47, e.g. "fr", "en"
    text: str = field(repr=False)
    sha256: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "sha256", hashlib.sha256(self.text.encode("utf-8")).hexdigest())


@dataclass(frozen=True, slots=True)
class ConsentDecision:
    item: ConsentItem
    choice: ConsentChoice
    text_id: str
    text_version: str
    text_sha256: str
    language: str
    at: datetime

    def __post_init__(self) -> None:
        if self.at.utcoffset() is None:
            raise ConsentError(ConsentErrorReason.NAIVE_TIME)


def current_choice(decisions: Iterable[ConsentDecision], item: ConsentItem) -> ConsentChoice | None:
    """The patient's latest word on `item` (None if never asked)."""
    latest: ConsentChoice | None = None
    for d in decisions:
        if d.item is item:
            latest = d.choice
    return latest


def decide(
    text: ConsentText,
    choice: ConsentChoice,
    at: datetime,
    earlier: Iterable[ConsentDecision] = (),
) -> ConsentDecision:
    """Record the patient's choice on the text shown; a withdrawal needs a prior grant."""
    if choice is ConsentChoice.WITHDRAWN and current_choice(earlier, text.item) is not (
        ConsentChoice.GRANTED
    ):
        raise ConsentError(ConsentErrorReason.NOTHING_TO_WITHDRAW)
    return ConsentDecision(
        item=text.item,
        choice=choice,
        text_id=text.id,
        text_version=text.version,
        text_sha256=text.sha256,
        language=text.language,
        at=at,
    )


def teleconsultation_granted(decisions: Iterable[ConsentDecision]) -> bool:
    return current_choice(decisions, ConsentItem.TELECONSULTATION) is ConsentChoice.GRANTED


def require_teleconsultation(decisions: Iterable[ConsentDecision]) -> None:
    """Raise unless the latest teleconsultation decision is a grant (checked before the call)."""
    if not teleconsultation_granted(decisions):
        raise ConsentError(ConsentErrorReason.TELECONSULTATION_NOT_GRANTED)
