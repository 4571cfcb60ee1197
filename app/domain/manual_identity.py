"""The identity a professional types for a patient without a card: checked field by field.

Why every field is checked at once, each with its own reason: the
professional types on a touch screen, standing beside the patient; telling
them one mistake at a time makes them submit five times. The form comes back
with every field that must be corrected and why, so the screen can put each
explanation beside its field. Nothing here repeats a typed value (a name, a
date, a NIR): the error may reach a log.

Rules (national identity referential, INS traits):
- names are kept in capitals without diacritics (as INSi returns them), letters,
  spaces, apostrophes and hyphens only;
- the birth first names are the list, in order, separated by spaces; the
  first name used is optional;
- the date of birth is day, month, year (``12/03/1948``, ``12 03 1948``,
  ``12031948``); not in the future, not more than 130 years ago;
- the place of birth is the INSEE code of the commune (5 characters:
  département 01-19, 2A, 2B, 21-95, 971-989 overseas, or 99 for a birth
  abroad) or left empty when unknown (INSi fills it in);
- the NIR is optional; when given it must parse (`parse_nir`), and its sex
  digit, year and month must agree with the sex and date of birth typed.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from app.domain.errors import DomainError
from app.domain.identity import IdentityDocument, InsTraits, Sex
from app.domain.nir import InvalidNir, Nir, NirErrorReason, NirSex, parse_nir

MAX_NAME_LENGTH = 100
MAX_AGE_YEARS = 130


class IdentityField(enum.StrEnum):
    BIRTH_NAME = "birth-name"
    BIRTH_FIRST_NAMES = "birth-first-names"
    FIRST_NAME_USED = "first-name-used"
    BIRTH_DATE = "birth-date"
    SEX = "sex"
    BIRTH_PLACE = "birth-place"
    NIR = "nir"
    DOCUMENT = "document"


class FieldProblem(enum.StrEnum):
    MISSING = "missing"
    CHARACTERS = "characters"  # something else than letters, spaces, ' and -
    TOO_LONG = "too-long"
    DATE_FORMAT = "date-format"
    DATE_IMPOSSIBLE = "date-impossible"  # 31/02, month 13…
    DATE_FUTURE = "date-future"
    DATE_TOO_OLD = "date-too-old"
    INSEE_FORMAT = "insee-format"
    NIR_INVALID = "nir-invalid"  # see `nir_reason`
    NIR_MISMATCH = "nir-mismatch"  # valid, but its sex/year/month contradict the traits
    UNKNOWN_CHOICE = "unknown-choice"


class InvalidManualIdentity(DomainError):
    """The typed identity cannot be accepted; `problems` names every field to correct."""

    def __init__(
        self,
        problems: Mapping[IdentityField, FieldProblem],
        nir_reason: NirErrorReason | None = None,
        nir_length: int = 15,
    ) -> None:
        names = ", ".join(f"{f.value} ({p.value})" for f, p in problems.items())
        super().__init__(f"The identity typed has {len(problems)} field(s) to correct: {names}.")
        self.problems = dict(problems)
        self.nir_reason = nir_reason
        self.nir_length = nir_length


@dataclass(frozen=True, slots=True)
class ManualIdentityForm:
    """What was typed or chosen, as text (the screen's fields)."""

    birth_name: str = field(default="", repr=False)
    birth_first_names: str = field(default="", repr=False)
    first_name_used: str = field(default="", repr=False)
    birth_date: str = field(default="", repr=False)
    sex: str = field(default="", repr=False)  # "female" / "male"
    birth_place: str = field(default="", repr=False)
    nir: str = field(default="", repr=False)
    document: str = ""  # an IdentityDocument value, "none", or "" (not said)


@dataclass(frozen=True, slots=True)
class ManualIdentity:
    traits: InsTraits = field(repr=False)
    nir: Nir | None = field(repr=False)
    document: IdentityDocument | None  # None: no high-trust document was checked


_NAME = re.compile(r"[A-Z]+(?:[ '\-][A-Z]+)*")
_DATE = re.compile(r"(\d{1,2})[ ./\-]+(\d{1,2})[ ./\-]+(\d{4})|(\d{2})(\d{2})(\d{4})")
_INSEE = re.compile(r"(?:0[1-9]|1[0-9]|2[AB1-9]|[3-8][0-9]|9[0-5])\d{3}|9[78][0-9]\d{2}|99\d{3}")


def normalise_name(text: str) -> str:
    """Capitals without diacritics, single spaces (``Lefèvre  d'Aubigné`` → ``LEFEVRE D'AUBIGNE``)."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    plain = plain.replace("\u2019", "'").replace("\u2010", "-").replace("\u2011", "-")
    return " ".join(plain.upper().split())


def _name(text: str, required: bool) -> tuple[str | None, FieldProblem | None]:
    value = normalise_name(text)
    if not value:
        return None, FieldProblem.MISSING if required else None
    if len(value) > MAX_NAME_LENGTH:
        return None, FieldProblem.TOO_LONG
    if not _NAME.fullmatch(value):
        return None, FieldProblem.CHARACTERS
    return value, None


def _birth_date(text: str, today: date) -> tuple[date | None, FieldProblem | None]:
    raw = text.strip()
    if not raw:
        return None, FieldProblem.MISSING
    match = _DATE.fullmatch(raw)
    if match is None:
        return None, FieldProblem.DATE_FORMAT
    groups = [g for g in match.groups() if g is not None]
    day, month, year = (int(g) for g in groups)
    try:
        value = date(year, month, day)
    except ValueError:
        return None, FieldProblem.DATE_IMPOSSIBLE
    if value > today:
        return None, FieldProblem.DATE_FUTURE
    if today.year - value.year > MAX_AGE_YEARS:
        return None, FieldProblem.DATE_TOO_OLD
    return value, None


def parse_insee_commune(text: str) -> str | None:
    """The INSEE code of the place of birth (None when left empty); 2a/2b read as 2A/2B."""
    raw = "".join(text.split()).upper()
    if not raw:
        return None
    if not _INSEE.fullmatch(raw):
        raise InvalidManualIdentity({IdentityField.BIRTH_PLACE: FieldProblem.INSEE_FORMAT})
    return raw


def _nir_agrees(nir: Nir, sex: Sex | None, born: date | None) -> bool:
    if sex is not None and not nir.is_provisional:
        if (nir.sex is NirSex.MALE) != (sex is Sex.MALE):
            return False
    if born is not None:
        if nir.birth_year != f"{born.year % 100:02d}":
            return False
        if nir.birth_month is not None and nir.birth_month != born.month:
            return False
    return True


def parse_manual_identity(form: ManualIdentityForm, today: date) -> ManualIdentity:
    """The traits, NIR and document checked, or every problem at once."""
    problems: dict[IdentityField, FieldProblem] = {}
    nir_reason: NirErrorReason | None = None
    nir_length = 15

    birth_name, problem = _name(form.birth_name, required=True)
    if problem:
        problems[IdentityField.BIRTH_NAME] = problem
    first_names, problem = _name(form.birth_first_names, required=True)
    if problem:
        problems[IdentityField.BIRTH_FIRST_NAMES] = problem
    used, problem = _name(form.first_name_used, required=False)
    if problem:
        problems[IdentityField.FIRST_NAME_USED] = problem
    born, problem = _birth_date(form.birth_date, today)
    if problem:
        problems[IdentityField.BIRTH_DATE] = problem

    sex: Sex | None = None
    if not form.sex:
        problems[IdentityField.SEX] = FieldProblem.MISSING
    elif form.sex in (Sex.FEMALE.value, Sex.MALE.value):
        sex = Sex(form.sex)
    else:
        problems[IdentityField.SEX] = FieldProblem.UNKNOWN_CHOICE

    place: str | None = None
    try:
        place = parse_insee_commune(form.birth_place)
    except InvalidManualIdentity as exc:
        problems.update(exc.problems)

    nir: Nir | None = None
    if form.nir.strip():
        try:
            nir = parse_nir(form.nir)
        except InvalidNir as exc:
            problems[IdentityField.NIR] = FieldProblem.NIR_INVALID
            nir_reason = exc.reason
            nir_length = len("".join(form.nir.split()))
        else:
            if not _nir_agrees(nir, sex, born):
                problems[IdentityField.NIR] = FieldProblem.NIR_MISMATCH

    document: IdentityDocument | None = None
    if not form.document:
        problems[IdentityField.DOCUMENT] = FieldProblem.MISSING
    elif form.document != "none":
        try:
            document = IdentityDocument(form.document)
        except ValueError:
            problems[IdentityField.DOCUMENT] = FieldProblem.UNKNOWN_CHOICE

    if problems:
        raise InvalidManualIdentity(problems, nir_reason, nir_length)
    assert birth_name is not None and first_names is not None  # noqa: S101 - checked above
    assert born is not None and sex is not None  # noqa: S101 - checked above
    traits = InsTraits(
        birth_name=birth_name,
        birth_first_names=tuple(first_names.split(" ")),
        birth_date=born,
        sex=sex,
        birth_place_insee=place,
        first_name_used=used,
    )
    return ManualIdentity(traits, nir, document)
