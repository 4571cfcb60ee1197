"""The NIR (numéro d'inscription au répertoire), parsed part by part.

Why part by part: when a professional types a NIR by hand, the kiosk must say
*which* part is wrong (the month, the département, the key...) so that the
right characters are checked again on the card or document. The error never
repeats the number itself (it is a health-related identifier and errors may
reach a log).

Layout (15 characters, spaces allowed in the input):

    sex(1) year(2) month(2) département(2) commune(3) order(3) key(2)

- sex: 1 or 2; 7 or 8 for a provisional number.
- month: 01-12; 20-42 or 50-99 for an incomplete civil-status record.
- département: 01-99 or 2A/2B (Corsica). Overseas (97x, 98x) takes three
  digits, and the commune then takes two.
- order: 001-999.
- key = 97 - (the first 13 digits mod 97), with 2A read as 19 and 2B as 18.

The check itself is `vocabulary.nir` (the card driver reads with the same
one); this module turns its reason into a sentence and a `Nir` value.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from app.domain.errors import DomainError
from vocabulary.nir import NIR_LENGTH as _LENGTH
from vocabulary.nir import OVERSEAS_PREFIXES as _OVERSEAS_PREFIXES
from vocabulary.nir import NirErrorReason, nir_problem
from vocabulary.nir import nir_key as _key_number

__all__ = ["InvalidNir", "Nir", "NirErrorReason", "NirSex", "nir_key", "parse_nir"]

_SENTENCES: dict[NirErrorReason, str] = {
    NirErrorReason.LENGTH: "The social security number must have 15 characters; this one has {n}.",
    NirErrorReason.SEX: "The first digit of the social security number must be 1, 2, 7 or 8.",
    NirErrorReason.YEAR: "The year of birth (characters 2 and 3) must be two digits.",
    NirErrorReason.MONTH: (
        "The month of birth (characters 4 and 5) must be 01 to 12, 20 to 42 or 50 to 99."
    ),
    NirErrorReason.DEPARTMENT: (
        "The département of birth (characters 6 and 7) must be 01 to 99, 2A or 2B."
    ),
    NirErrorReason.COMMUNE: "The commune of birth (characters 8 to 10) must be digits.",
    NirErrorReason.ORDER: "The order number (characters 11 to 13) must be 001 to 999.",
    NirErrorReason.KEY_FORMAT: "The key (the last two characters) must be two digits.",
    NirErrorReason.KEY_MISMATCH: (
        "The key (the last two characters) does not match the rest of the number; "
        "one character is probably mistyped."
    ),
}


class InvalidNir(DomainError):
    """A NIR that cannot be accepted; `reason` says which part is wrong."""

    def __init__(self, reason: NirErrorReason, length: int = _LENGTH) -> None:
        super().__init__(_SENTENCES[reason].format(n=length))
        self.reason = reason


class NirSex(enum.StrEnum):
    MALE = "male"
    FEMALE = "female"


@dataclass(frozen=True, slots=True, repr=False)
class Nir:
    """A valid NIR. Its repr and str hide the number: read `.value` on purpose."""

    value: str = field(repr=False)  # 15 characters, no spaces, 2A/2B upper case

    def __post_init__(self) -> None:
        object.__setattr__(self, "value", _checked(self.value))

    def __repr__(self) -> str:
        return "Nir(<hidden>)"

    __str__ = __repr__

    @property
    def sex(self) -> NirSex:
        return NirSex.MALE if self.value[0] in "17" else NirSex.FEMALE

    @property
    def is_provisional(self) -> bool:
        """7 and 8 mark a provisional number (a NIA-like number being registered)."""
        return self.value[0] in "78"

    @property
    def birth_year(self) -> str:
        return self.value[1:3]

    @property
    def birth_month(self) -> int | None:
        """The month, or None when the civil-status record does not give it (20-42, 50+)."""
        month = int(self.value[3:5])
        return month if month <= 12 else None

    @property
    def department(self) -> str:
        return self.value[5:8] if self.value[5:7] in _OVERSEAS_PREFIXES else self.value[5:7]

    @property
    def commune(self) -> str:
        return self.value[8:10] if self.value[5:7] in _OVERSEAS_PREFIXES else self.value[7:10]

    @property
    def order(self) -> str:
        return self.value[10:13]

    @property
    def key(self) -> str:
        return self.value[13:15]

    def grouped(self) -> str:
        """The number as printed on a card: '1 84 12 76 451 089 46'."""
        v = self.value
        return " ".join((v[0], v[1:3], v[3:5], v[5:7], v[7:10], v[10:13], v[13:]))


def nir_key(first_13: str) -> str:
    """The control key of the first 13 characters, two digits (Corsica read as 19/18)."""
    return f"{_key_number(first_13):02d}"


def parse_nir(text: str) -> Nir:
    """Read a NIR typed or read from a card; raise `InvalidNir` naming the wrong part.

    Whitespace is ignored (people type it in groups) and 2a/2b are read as 2A/2B.
    """
    return Nir(text)


def _checked(text: str) -> str:
    compact = "".join(text.split()).upper()
    reason = nir_problem(compact)
    if reason is not None:
        raise InvalidNir(reason, len(compact))
    return compact
