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
from app.domain.messages import Message


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
    NOT_THE_SOURCE_TEXT = "not-the-source-text"


_CONSENT_SENTENCES: dict[ConsentErrorReason, str] = {
    ConsentErrorReason.TELECONSULTATION_NOT_GRANTED: (
        "The patient has not agreed to the teleconsultation, so the call cannot start."
    ),
    ConsentErrorReason.NOTHING_TO_WITHDRAW: ("Consent can only be withdrawn after it was given."),
    ConsentErrorReason.NAIVE_TIME: "The time of the decision has no time zone.",
    ConsentErrorReason.NOT_THE_SOURCE_TEXT: (
        "The French consent text shown is not the current version of the text; "
        "the decision cannot refer to it."
    ),
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
class ConsentSource:
    """The current version of one consent text: its id, version and French words.

    Why here: the hash a decision records must be of words the domain owns.
    The UI's catalogues translate `title` and `body` by their message ids;
    when the French words change, `version` must change with them (a test
    pins the hash of each version, so a silent edit fails).
    """

    item: ConsentItem
    id: str
    version: str
    title: Message
    body: Message

    def french(self) -> str:
        """The words shown in French: the title, a line break, the body."""
        return f"{self.title.fr}\n{self.body.fr}"


CONSENT_TEXTS: tuple[ConsentSource, ...] = (
    ConsentSource(
        ConsentItem.TELECONSULTATION,
        "consent.teleconsultation",
        "2026-1",
        Message("consent.teleconsultation.title", "Acceptez-vous la téléconsultation ?"),
        Message(
            "consent.teleconsultation.text",
            "Un médecin va vous soigner par vidéo, à partir de ce que vous lui dites et des "
            "mesures prises dans la cabine. Il peut vous prescrire un traitement, ou vous "
            "demander de consulter en personne.",
        ),
    ),
    ConsentSource(
        ConsentItem.DATA_SHARING,
        "consent.data-sharing",
        "2026-1",
        Message("consent.data-sharing.title", "Partager vos données avec vos autres soignants ?"),
        Message(
            "consent.data-sharing.text",
            "Le médecin pourra envoyer le compte rendu à votre médecin traitant et l'ajouter à "
            "votre dossier Mon espace santé.",
        ),
    ),
    ConsentSource(
        ConsentItem.ASSISTANCE,
        "consent.assistance",
        "2026-1",
        Message("consent.assistance.title", "Être aidé par un professionnel ?"),
        Message(
            "consent.assistance.text",
            "Un pharmacien ou un infirmier du lieu peut rester avec vous pour les mesures et "
            "pendant la consultation.",
        ),
    ),
)
"""The consent texts, in the order the patient is asked."""


CONSENT_ORDER: tuple[ConsentItem, ...] = tuple(source.item for source in CONSENT_TEXTS)
"""The consent items in the order the patient is asked (one per screen)."""


def consent_next(index: int, choice: ConsentChoice) -> int | None:
    """What follows the patient's choice on item `index` of `CONSENT_ORDER`.

    Rule: the items are asked in order; the step ends after the last one, or
    at once when a required item (the teleconsultation) is refused: nothing
    optional is asked of a patient who will not be seen (the flow then ends
    the session, CSP L.1111-4). Returns the next item's index, or None when
    the step is done (`ConsentDone`).
    """
    if not 0 <= index < len(CONSENT_ORDER):
        raise IndexError(f"There is no consent item {index}.")
    if CONSENT_ORDER[index].required and choice is ConsentChoice.REFUSED:
        return None
    return index + 1 if index + 1 < len(CONSENT_ORDER) else None


def consent_source(item: ConsentItem) -> ConsentSource:
    return next(source for source in CONSENT_TEXTS if source.item is item)


def consent_text(item: ConsentItem, language: str, shown: str) -> ConsentText:
    """The text the patient read, in their language, under the domain's id and version.

    `shown` is the exact words on screen (title, line break, body): the
    catalogue's translation of the source for other languages, the source
    itself in French (anything else in French means a stale catalogue and is
    refused, so no decision ever refers to words the domain did not write).
    """
    source = consent_source(item)
    if language == "fr" and shown != source.french():
        raise ConsentError(ConsentErrorReason.NOT_THE_SOURCE_TEXT)
    return ConsentText(source.id, item, source.version, language, shown)


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
