"""The minimum password policy for professional accounts.

Why these numbers: the password is never the only factor (a TOTP code is
always asked too) and repeated failures lock the account, which is the
CNIL's second case in its password recommendation (deliberation 2022-100):
at least about 50 bits of entropy. We ask more than that, because the kiosk
stands in a public place: 12 characters or more, from at least three of the
four classes (lower case, upper case, digit, other), not the username or the
person's name, not one character or a short pattern repeated, not a
well-known password, at least 5 different characters. At most 128 characters, so hashing stays bounded.
"""

from __future__ import annotations

import unicodedata

from app.maintenance.errors import PasswordRule, WeakPassword

MIN_LENGTH = 12
MAX_LENGTH = 128
MIN_CLASSES = 3

# A few of the most used passwords that pass the length and class rules.
_COMMON = frozenset(
    {
        "motdepasse123!",
        "motdepasse1234",
        "password1234!",
        "password123!",
        "azertyuiop123",
        "azertyuiop1!",
        "qwertyuiop123",
        "bonjour12345!",
        "soleil123456!",
        "pharmacie123!",
        "pharmacie2024!",
        "pharmacie2025!",
        "pharmacie2026!",
        "telecabine123!",
        "administrateur1",
        "welcome12345!",
        "changeme12345!",
    }
)


def _classes(password: str) -> int:
    lower = any(c.islower() for c in password)
    upper = any(c.isupper() for c in password)
    digit = any(c.isdigit() for c in password)
    other = any(not c.isalnum() for c in password)
    return sum((lower, upper, digit, other))


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if c.isalnum())


def _is_repetitive(password: str) -> bool:
    """True when a unit of at most 4 characters repeated makes the whole password."""
    n = len(password)
    for size in range(1, 5):
        if n % size == 0 and password[:size] * (n // size) == password:
            return True
    return len(set(password)) < 5


def check_password(password: str, *, username: str, display_name: str = "") -> None:
    """Raise `WeakPassword` naming the first rule the password breaks."""
    if len(password) < MIN_LENGTH:
        raise WeakPassword(
            PasswordRule.TOO_SHORT,
            f"The password has {len(password)} characters; it needs at least {MIN_LENGTH}.",
        )
    if len(password) > MAX_LENGTH:
        raise WeakPassword(
            PasswordRule.TOO_LONG,
            f"The password has {len(password)} characters; at most {MAX_LENGTH} are accepted.",
        )
    classes = _classes(password)
    if classes < MIN_CLASSES:
        raise WeakPassword(
            PasswordRule.TOO_FEW_CLASSES,
            f"The password mixes {classes} kind(s) of character; it needs at least "
            f"{MIN_CLASSES} of: lower case, upper case, digits, other signs.",
        )
    if _is_repetitive(password):
        raise WeakPassword(
            PasswordRule.REPETITIVE,
            "The password is one short pattern repeated; choose a less predictable one.",
        )
    folded = _fold(password)
    names = [_fold(username), *(_fold(part) for part in display_name.split())]
    for name in names:
        if len(name) >= 3 and name in folded:
            raise WeakPassword(
                PasswordRule.CONTAINS_NAME,
                "The password contains the username or the person's name; choose another one.",
            )
    if password.casefold() in _COMMON:
        raise WeakPassword(
            PasswordRule.COMMON,
            "The password is one of the most used passwords; choose another one.",
        )
