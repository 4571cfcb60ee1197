"""Orientation: is this teleconsultation within the parcours de soins?

Source: charte de bonnes pratiques §2.1-2.3 and the Cnom report (2020).
A teleconsultation is reimbursed like a visit when the doctor is the
patient's médecin traitant or the patient was referred by them. Exceptions:
direct-access specialties and patients under 16 (as in the surgery), and
five conventional ones (no médecin traitant, médecin traitant not available
in time, emergency, detainee, resident of an EHPAD or a home for disabled
adults). SAS referral and residence in a ZIP (zone d'intervention
prioritaire) waive territoriality (and, for SAS, the alternation rule); they
are flagged for the doctor.

Why it never refuses: whether the act is reimbursed is the doctor's call and
the patient's right to consult is not the kiosk's to restrict. The kiosk
tells the patient plainly what to expect about reimbursement and hands the
doctor what it learned.

The 12-month rule of the Cnom report (patient seen in person by the same
doctor within 12 months) is not asked: the patient cannot know which doctor
will answer, the charte now speaks of alternation judged by the doctor
(§2.2), so the doctor checks it (see docs/domain.md).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date

from app.domain.messages import Message

UNDER_AGE_LIMIT = 16


class OrientationException(enum.StrEnum):
    UNDER_16 = "under-16"
    DIRECT_ACCESS_SPECIALTY = "direct-access-specialty"
    NO_MEDECIN_TRAITANT = "no-medecin-traitant"
    MEDECIN_TRAITANT_UNAVAILABLE = "medecin-traitant-unavailable"
    EMERGENCY = "emergency"
    DETAINEE = "detainee"
    CARE_HOME_RESIDENT = "care-home-resident"  # EHPAD or home for disabled adults


class TerritorialityWaiver(enum.StrEnum):
    SAS_REFERRAL = "sas-referral"
    ZIP_RESIDENCE = "zip-residence"


class Parcours(enum.StrEnum):
    WITHIN = "within"  # the médecin traitant, or referred by them
    EXCEPTION = "exception"  # an exception applies: reimbursed as a visit
    OUTSIDE = "outside"  # none applies: the doctor decides and tells the patient


@dataclass(frozen=True, slots=True)
class OrientationAnswers:
    """What the patient answered (None: "I don't know", which never counts as yes)."""

    has_medecin_traitant: bool | None = None
    referred_by_medecin_traitant: bool = False
    medecin_traitant_unavailable: bool = False
    direct_access_specialty: bool = False  # gynaecology, ophthalmology, psychiatry, paediatrics...
    emergency: bool = False
    detainee: bool = False
    care_home_resident: bool = False
    sas_referral: bool = False
    lives_in_zip: bool = False


@dataclass(frozen=True, slots=True)
class OrientationResult:
    parcours: Parcours
    exceptions: frozenset[OrientationException]
    waivers: frozenset[TerritorialityWaiver]
    message: Message  # what the patient is told about reimbursement
    unknown_medecin_traitant: bool  # the patient did not know: the doctor should ask


MESSAGE_WITHIN = Message(
    "orientation.within",
    "Vous venez sur l'orientation de votre médecin traitant : la téléconsultation est "
    "prise en charge par l'Assurance maladie comme une consultation au cabinet.",
    "Votre médecin traitant vous envoie : vous êtes remboursé comme au cabinet.",
)
MESSAGE_EXCEPTION = Message(
    "orientation.exception",
    "Votre situation fait partie des cas prévus où l'orientation par un médecin traitant "
    "n'est pas nécessaire : la téléconsultation peut être prise en charge comme une "
    "consultation au cabinet. Le médecin vous le confirmera.",
    "Dans votre cas, vous pouvez être remboursé comme au cabinet. Le médecin vous le dira.",
)
MESSAGE_OUTSIDE = Message(
    "orientation.outside",
    "Vous n'avez pas été orienté par votre médecin traitant : la téléconsultation peut être "
    "moins bien remboursée. Le médecin vous le dira avant de commencer. Vous pouvez aussi "
    "choisir une consultation en présentiel.",
    "Vous risquez d'être moins bien remboursé. Le médecin vous le dira avant de commencer.",
)


def age_on(birth_date: date, day: date) -> int:
    """Whole years of age on `day`."""
    before_birthday = (day.month, day.day) < (birth_date.month, birth_date.day)
    return day.year - birth_date.year - int(before_birthday)


def assess(answers: OrientationAnswers, age_years: int | None) -> OrientationResult:
    """Where this consultation stands in the parcours de soins; never a refusal."""
    exceptions: set[OrientationException] = set()
    if age_years is not None and age_years < UNDER_AGE_LIMIT:
        exceptions.add(OrientationException.UNDER_16)
    if answers.direct_access_specialty:
        exceptions.add(OrientationException.DIRECT_ACCESS_SPECIALTY)
    if answers.has_medecin_traitant is False:
        exceptions.add(OrientationException.NO_MEDECIN_TRAITANT)
    elif answers.medecin_traitant_unavailable:
        exceptions.add(OrientationException.MEDECIN_TRAITANT_UNAVAILABLE)
    if answers.emergency:
        exceptions.add(OrientationException.EMERGENCY)
    if answers.detainee:
        exceptions.add(OrientationException.DETAINEE)
    if answers.care_home_resident:
        exceptions.add(OrientationException.CARE_HOME_RESIDENT)
    waivers: set[TerritorialityWaiver] = set()
    if answers.sas_referral:
        waivers.add(TerritorialityWaiver.SAS_REFERRAL)
    if answers.lives_in_zip:
        waivers.add(TerritorialityWaiver.ZIP_RESIDENCE)

    if answers.has_medecin_traitant and answers.referred_by_medecin_traitant:
        parcours, message = Parcours.WITHIN, MESSAGE_WITHIN
    elif exceptions:
        parcours, message = Parcours.EXCEPTION, MESSAGE_EXCEPTION
    else:
        parcours, message = Parcours.OUTSIDE, MESSAGE_OUTSIDE
    return OrientationResult(
        parcours=parcours,
        exceptions=frozenset(exceptions),
        waivers=frozenset(waivers),
        message=message,
        unknown_medecin_traitant=answers.has_medecin_traitant is None,
    )


# ---- the questions the screens ask, one at a time ---------------------------------------


class OrientationQuestion(enum.StrEnum):
    HAS_MT = "has_mt"  # Do you have a médecin traitant?
    REFERRED = "referred"  # Did they send you here?
    UNAVAILABLE = "unavailable"  # Could they not see you in time?
    SITUATION = "situation"  # Is one of these your situation?


class OrientationOption(enum.StrEnum):
    YES = "yes"
    NO = "no"
    UNKNOWN = "unknown"
    SPECIALTY = "specialty"  # a direct-access specialty
    CARE_HOME = "care_home"  # lives in an EHPAD or a home for disabled adults
    SAS = "sas"  # sent by the SAS (service d'accès aux soins)
    NONE = "none"  # none of these


ORIENTATION_OPTIONS: dict[OrientationQuestion, tuple[OrientationOption, ...]] = {
    OrientationQuestion.HAS_MT: (
        OrientationOption.YES,
        OrientationOption.NO,
        OrientationOption.UNKNOWN,
    ),
    OrientationQuestion.REFERRED: (OrientationOption.YES, OrientationOption.NO),
    OrientationQuestion.UNAVAILABLE: (OrientationOption.YES, OrientationOption.NO),
    OrientationQuestion.SITUATION: (
        OrientationOption.SPECIALTY,
        OrientationOption.CARE_HOME,
        OrientationOption.SAS,
        OrientationOption.NONE,
    ),
}
"""What each question offers, in the order shown."""


def next_orientation_question(
    answers: dict[OrientationQuestion, OrientationOption],
) -> OrientationQuestion | OrientationAnswers:
    """The next question to ask given the answers so far, or the whole answer for the flow.

    The tree: first "do you have a médecin traitant?"; with one, "did they
    send you?" (yes: within the parcours, nothing more to ask) then, if not,
    "could they not see you in time?"; then, for everyone not referred, one
    question about the situations that are exceptions (direct-access
    specialty, care home, SAS). "I don't know" never counts as yes. An answer
    that is not one of the question's options raises ValueError.
    """
    for question, option in answers.items():
        if option not in ORIENTATION_OPTIONS[question]:
            raise ValueError(f"'{option}' does not answer the question '{question}'.")
    has_mt = answers.get(OrientationQuestion.HAS_MT)
    if has_mt is None:
        return OrientationQuestion.HAS_MT
    referred = answers.get(OrientationQuestion.REFERRED)
    if has_mt is OrientationOption.YES:
        if referred is None:
            return OrientationQuestion.REFERRED
        if referred is OrientationOption.NO and OrientationQuestion.UNAVAILABLE not in answers:
            return OrientationQuestion.UNAVAILABLE
    situation = answers.get(OrientationQuestion.SITUATION)
    if referred is not OrientationOption.YES and situation is None:
        return OrientationQuestion.SITUATION
    return OrientationAnswers(
        has_medecin_traitant={OrientationOption.YES: True, OrientationOption.NO: False}.get(has_mt),
        referred_by_medecin_traitant=referred is OrientationOption.YES,
        medecin_traitant_unavailable=(
            answers.get(OrientationQuestion.UNAVAILABLE) is OrientationOption.YES
        ),
        direct_access_specialty=situation is OrientationOption.SPECIALTY,
        care_home_resident=situation is OrientationOption.CARE_HOME,
        sas_referral=situation is OrientationOption.SAS,
    )
