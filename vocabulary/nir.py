"""The NIR check, part by part: one check for the card driver and the identity domain.

Layout (15 characters):

    sex(1) year(2) month(2) département(2) commune(3) order(3) key(2)

- sex: 1 or 2; 7 or 8 for a provisional number.
- month: 01-12; 20-42 or 50-99 for an incomplete civil-status record.
- département: 01-99 or 2A/2B (Corsica). Overseas (97x, 98x) takes three
  digits, and the commune then takes two.
- order: 001-999.
- key = 97 - (the first 13 characters as a number mod 97), where the
  département 2A counts as 19 and 2B as 18.

`nir_problem` names the first wrong part (the domain tells a professional
which characters to check again); `is_valid_nir` is what a driver needs to
refuse garbage. Both read the text as given: spaces and lower case are the
domain's business (typed input), a card holds the compact form.
"""

from __future__ import annotations

import enum

NIR_LENGTH = 15
_CORSICA_FOR_KEY = {"2A": "19", "2B": "18"}
OVERSEAS_PREFIXES = ("97", "98")


class NirErrorReason(enum.StrEnum):
    LENGTH = "length"
    SEX = "sex"
    YEAR = "year"
    MONTH = "month"
    DEPARTMENT = "department"
    COMMUNE = "commune"
    ORDER = "order"
    KEY_FORMAT = "key-format"
    KEY_MISMATCH = "key-mismatch"


def nir_key(first13: str) -> int:
    """The control key (1-97) of the first 13 characters; ValueError if they cannot have one."""
    if len(first13) != 13:
        raise ValueError("the NIR key is computed on exactly 13 characters")
    department = first13[5:7]
    digits = first13[:5] + _CORSICA_FOR_KEY.get(department, department) + first13[7:]
    if not _digits(digits):
        raise ValueError("the first 13 characters of a NIR are digits (2A/2B aside)")
    return 97 - int(digits) % 97


def with_key(first13: str) -> str:
    """The 15-character NIR for 13 characters (used to build test identities)."""
    return f"{first13}{nir_key(first13):02d}"


def _digits(text: str) -> bool:
    return text.isascii() and text.isdecimal()


def _valid_month(month: str) -> bool:
    if not _digits(month):
        return False
    m = int(month)
    return 1 <= m <= 12 or 20 <= m <= 42 or m >= 50


def nir_problem(text: str) -> NirErrorReason | None:
    """The first part of `text` that is wrong, or None for a valid NIR."""
    if len(text) != NIR_LENGTH:
        return NirErrorReason.LENGTH
    if text[0] not in "1278":
        return NirErrorReason.SEX
    if not _digits(text[1:3]):
        return NirErrorReason.YEAR
    if not _valid_month(text[3:5]):
        return NirErrorReason.MONTH
    dept = text[5:7]
    if not (dept in _CORSICA_FOR_KEY or (_digits(dept) and dept != "00")):
        return NirErrorReason.DEPARTMENT
    if not _digits(text[7:10]):
        # For 97x/98x the third character belongs to the département; it is a digit either way.
        if dept in OVERSEAS_PREFIXES and not _digits(text[7]):
            return NirErrorReason.DEPARTMENT
        return NirErrorReason.COMMUNE
    if not _digits(text[10:13]) or text[10:13] == "000":
        return NirErrorReason.ORDER
    if not _digits(text[13:15]):
        return NirErrorReason.KEY_FORMAT
    if nir_key(text[:13]) != int(text[13:15]):
        return NirErrorReason.KEY_MISMATCH
    return None


def is_valid_nir(value: str) -> bool:
    """True for a 15-character NIR of the right shape whose key matches."""
    return nir_problem(value) is None
