"""The emergency check: red flags that end the session with the number to call.

Why before anything else: a person with chest pain must not spend ten minutes
on consent screens. Any red flag ends the session at once (EMERGENCY_EXIT)
and shows the numbers that fit: 15 (SAMU) for a medical emergency, 3114 for
suicidal thoughts, 114 (by SMS, chat or video) for a deaf or hard-of-hearing
person, and 112 everywhere in Europe. The kiosk calls no one itself: it tells.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass

from app.domain.messages import Message


class RedFlag(enum.StrEnum):
    CHEST_PAIN = "chest-pain"
    BREATHING_DIFFICULTY = "breathing-difficulty"
    STROKE_SIGNS = "stroke-signs"
    HEAVY_BLEEDING = "heavy-bleeding"
    LOSS_OF_CONSCIOUSNESS = "loss-of-consciousness"
    SEIZURE = "seizure"
    SEVERE_ALLERGIC_REACTION = "severe-allergic-reaction"
    SUICIDAL_THOUGHTS = "suicidal-thoughts"


RED_FLAG_QUESTIONS: tuple[tuple[RedFlag, Message], ...] = (
    (
        RedFlag.CHEST_PAIN,
        Message(
            "emergency.q.chest-pain",
            "Avez-vous une douleur forte dans la poitrine, qui serre ou qui irradie "
            "dans le bras, la mâchoire ou le dos ?",
            "Avez-vous très mal à la poitrine ?",
        ),
    ),
    (
        RedFlag.BREATHING_DIFFICULTY,
        Message(
            "emergency.q.breathing",
            "Avez-vous beaucoup de mal à respirer, même au repos ?",
        ),
    ),
    (
        RedFlag.STROKE_SIGNS,
        Message(
            "emergency.q.stroke",
            "Avez-vous soudain le visage qui se déforme, un bras ou une jambe qui ne répond "
            "plus, ou du mal à parler ?",
            "Votre visage, un bras ou votre parole a changé d'un coup ?",
        ),
    ),
    (
        RedFlag.HEAVY_BLEEDING,
        Message("emergency.q.bleeding", "Saignez-vous beaucoup, sans que cela s'arrête ?"),
    ),
    (
        RedFlag.LOSS_OF_CONSCIOUSNESS,
        Message(
            "emergency.q.consciousness",
            "Avez-vous perdu connaissance, ou vous sentez-vous sur le point de vous évanouir ?",
        ),
    ),
    (
        RedFlag.SEIZURE,
        Message("emergency.q.seizure", "Venez-vous d'avoir une crise de convulsions ?"),
    ),
    (
        RedFlag.SEVERE_ALLERGIC_REACTION,
        Message(
            "emergency.q.allergy",
            "Avez-vous le visage, les lèvres ou la gorge qui gonflent, ou une forte réaction "
            "allergique ?",
        ),
    ),
    (
        RedFlag.SUICIDAL_THOUGHTS,
        Message(
            "emergency.q.suicide",
            "Avez-vous des idées de suicide, ou pensez-vous à vous faire du mal ?",
        ),
    ),
)


@dataclass(frozen=True, slots=True)
class EmergencyNumber:
    number: str
    message: Message


SAMU = EmergencyNumber(
    "15", Message("emergency.n.15", "Appelez le 15 (SAMU) pour une urgence médicale.")
)
EUROPEAN = EmergencyNumber(
    "112", Message("emergency.n.112", "Le 112 est le numéro d'urgence valable partout en Europe.")
)
DEAF = EmergencyNumber(
    "114",
    Message(
        "emergency.n.114",
        "Si vous êtes sourd, malentendant ou avez du mal à parler : contactez le 114 par SMS, "
        "tchat ou visio.",
    ),
)
SUICIDE_PREVENTION = EmergencyNumber(
    "3114",
    Message(
        "emergency.n.3114",
        "Le 3114 (prévention du suicide) vous écoute, gratuitement, jour et nuit.",
    ),
)

EXIT_MESSAGE = Message(
    "emergency.exit",
    "Votre situation peut être une urgence. La téléconsultation n'est pas adaptée : "
    "appelez tout de suite le numéro ci-dessous, ou demandez de l'aide autour de vous.",
    "C'est peut-être une urgence. Appelez tout de suite ce numéro.",
)


def numbers_for(
    flags: Iterable[RedFlag], hearing_impaired: bool = False, declared: bool = False
) -> tuple[EmergencyNumber, ...]:
    """The numbers to show, most fitting first; 112 always closes the list.

    `declared`: the patient touched "urgent help" without saying why. The
    kiosk cannot know whether they can speak or hear, so 114 (SMS, chat,
    video) comes right after 15.
    """
    flags = frozenset(flags)
    numbers: list[EmergencyNumber] = []
    if hearing_impaired:
        numbers.append(DEAF)
    medical = flags - {RedFlag.SUICIDAL_THOUGHTS}
    if medical or not flags:
        numbers.append(SAMU)
    if declared and not flags and DEAF not in numbers:
        numbers.append(DEAF)
    if RedFlag.SUICIDAL_THOUGHTS in flags:
        numbers.append(SUICIDE_PREVENTION)
        if SAMU not in numbers:
            numbers.append(SAMU)
    numbers.append(EUROPEAN)
    return tuple(numbers)


# ---- the questions' paging rule (the screens ask one question at a time) ----------------


@dataclass(frozen=True, slots=True)
class RedFlagsAnswered:
    """The red-flag questions are over: the flags the patient said yes to (none, or one)."""

    flags: frozenset[RedFlag]


def red_flag_answer(index: int, yes: bool) -> int | RedFlagsAnswered:
    """What follows an answer to question `index` of `RED_FLAG_QUESTIONS`.

    Rule: the first "yes" ends the questions (that flag alone: the patient is
    sent to the emergency numbers at once, nothing more is asked); a "no" asks
    the next question; "no" to the last one means no red flag. Returns the
    next question's index, or the whole answer for the flow
    (`EmergencyAnswered(flags=...)`).
    """
    if not 0 <= index < len(RED_FLAG_QUESTIONS):
        raise IndexError(f"There is no red-flag question {index}.")
    if yes:
        return RedFlagsAnswered(frozenset({RED_FLAG_QUESTIONS[index][0]}))
    if index + 1 < len(RED_FLAG_QUESTIONS):
        return index + 1
    return RedFlagsAnswered(frozenset())
