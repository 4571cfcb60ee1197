"""The NIR's shape and control key, enough for a driver to refuse garbage.

A driver only checks that what a card or a QR code calls a NIR is one: 15
characters in the right shape with a key that matches. Whether the person is
who the card says is the identity domain's business (INSi, document check).

Key = 97 - (the first 13 characters as a number mod 97), where a Corsican
département 2A counts as 19 and 2B as 18 (only in the département field).
"""

from __future__ import annotations

import re

# As strict as the identity domain's parser (app/domain/nir.py), which a
# driver may not import: a number the driver passes on must never be one the
# domain then refuses. tests/drivers/card/test_nir_agrees_with_domain.py
# checks the two agree on random input.
_SHAPE = re.compile(
    r"[1278]"  # sex (7, 8: provisional numbers)
    r"\d{2}"  # year of birth
    r"(?:0[1-9]|1[0-2]|[2-3]\d|4[0-2]|[5-9]\d)"  # month (20-42, 50+: incomplete civil status)
    r"(?:(?!00)\d{2}|2[AB])\d{3}"  # département 01-99/2A/2B + commune (97x/98x: 3 + 2 digits)
    r"(?!000)\d{3}"  # order number 001-999
    r"\d{2}"  # key
)


def nir_key(first13: str) -> int:
    """The control key of the first 13 characters (Corsica handled)."""
    if len(first13) != 13:
        raise ValueError("the NIR key is computed on exactly 13 characters")
    department = first13[5:7]
    digits = first13[:5] + {"2A": "19", "2B": "18"}.get(department, department) + first13[7:]
    if not digits.isascii() or not digits.isdigit():
        raise ValueError("the first 13 characters of a NIR are digits (2A/2B aside)")
    return 97 - int(digits) % 97


def is_valid_nir(value: str) -> bool:
    """True for a 15-character NIR of the right shape whose key matches."""
    if len(value) != 15 or not value.isascii() or _SHAPE.fullmatch(value) is None:
        return False
    return nir_key(value[:13]) == int(value[13:])


def with_key(first13: str) -> str:
    """The 15-character NIR for 13 characters (used to build test identities)."""
    return f"{first13}{nir_key(first13):02d}"
