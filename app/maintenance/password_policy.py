"""The password policy of professional accounts: the CNIL's composition, then a real estimator.

Why these rules. The CNIL's recommendation on passwords (deliberation
2022-100 of 21 July 2022) asks 80 bits of entropy for a password used alone
and 50 bits when access is restricted after failures. Our password is never
alone (a TOTP code is always asked too, failures lock the account), but the
kiosk stands in a public place and the store holds health data, so we take
the stricter case's examples as the composition rule: at least 12
characters mixing all four kinds (lower case, upper case, digits, other
signs), or at least 14 mixing three kinds, or a phrase of at least 7 words.

Composition alone lets "Password1234" through: it has 12 characters of
three kinds and is one of the first guesses of any attacker. So a password
must also survive a guessing estimator: zxcvbn (Dropbox's model, MIT),
which knows the 30,000 most common leaked passwords, English words, names,
keyboard rows, dates, repeats and l33t substitutions; we add French words
people put in passwords and the person's own names. It must need at least
10^10 guesses (zxcvbn's top score). zxcvbn's time grows steeply with length
(seconds for 64 characters of a sequence), so it reads the first 40:
whatever follows can only add guesses.

Also refused: the username or the person's name inside the password, one
short pattern repeated, and characters that cannot be typed (control
characters, lone surrogates): such a password could never be used at the
kiosk. At most 128 characters, so hashing stays bounded.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from pathlib import Path

from app.maintenance.errors import PasswordRule, WeakPassword

MIN_LENGTH = 12
"""With all four kinds of character (the CNIL's first example)."""
MIN_LENGTH_THREE_KINDS = 14
"""With three kinds of character (the CNIL's second example)."""
MIN_PASSPHRASE_WORDS = 7
"""A phrase of this many words needs no kinds (the CNIL's third example)."""
MAX_LENGTH = 128
MIN_GUESSES_LOG10 = 10.0
"""zxcvbn's score 4: at least 10^10 guesses (about 33 bits against a real attacker's order)."""
ESTIMATED_PREFIX = 40
"""Characters the estimator reads (its run time grows steeply with length)."""

_WORDS_FILE = Path(__file__).with_name("french_password_words.txt")
_WORD = re.compile(r"[^\W\d_]+")


@functools.cache
def french_words() -> tuple[str, ...]:
    """The extra dictionary given to the estimator, most likely first."""
    lines = _WORDS_FILE.read_text(encoding="utf-8").splitlines()
    return tuple(w.strip() for w in lines if w.strip() and not w.startswith("#"))


def _kinds(password: str) -> int:
    lower = any(c.islower() for c in password)
    upper = any(c.isupper() for c in password)
    digit = any(c.isdigit() for c in password)
    other = any(not c.isalnum() for c in password)
    return sum((lower, upper, digit, other))


def _strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _fold(text: str) -> str:
    return "".join(c for c in _strip_accents(text.casefold()) if c.isalnum())


def _is_repetitive(password: str) -> bool:
    """True when a unit of at most 4 characters repeated makes the whole password."""
    n = len(password)
    for size in range(1, 5):
        if n % size == 0 and password[:size] * (n // size) == password:
            return True
    return len(set(password)) < 5


def _typable(password: str) -> bool:
    """No control character and no lone surrogate: what a keyboard can type."""
    if any(unicodedata.category(c) in {"Cc", "Cs"} for c in password):
        return False
    return True


def _composition_ok(password: str) -> bool:
    kinds = _kinds(password)
    if kinds >= 4:
        return True  # length >= MIN_LENGTH is checked before
    if kinds >= 3 and len(password) >= MIN_LENGTH_THREE_KINDS:
        return True
    return len(_WORD.findall(password)) >= MIN_PASSPHRASE_WORDS


def guesses_log10(password: str, personal: tuple[str, ...] = ()) -> float:
    """log10 of the guesses zxcvbn needs, given the person's names and the French words."""
    from zxcvbn import zxcvbn  # 12.5 MiB, on first use: not before the welcome screen

    folded = _strip_accents(password)[:ESTIMATED_PREFIX]
    inputs = [*personal, *french_words()]
    result = zxcvbn(folded, user_inputs=inputs, max_length=ESTIMATED_PREFIX)
    return float(result["guesses_log10"])


def check_password(password: str, *, username: str, display_name: str = "") -> None:
    """Raise `WeakPassword` naming the first rule the password breaks."""
    if not _typable(password):
        raise WeakPassword(
            PasswordRule.UNTYPABLE,
            "The password holds a control character or an invalid one that no keyboard types; "
            "choose another one.",
        )
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
    if not _composition_ok(password):
        raise WeakPassword(
            PasswordRule.TOO_FEW_CLASSES,
            f"The password has {len(password)} characters of {_kinds(password)} kind(s); it needs "
            f"at least {MIN_LENGTH} characters of all 4 kinds (lower case, upper case, digits, "
            f"other signs), or at least {MIN_LENGTH_THREE_KINDS} of 3 kinds, or a phrase of at "
            f"least {MIN_PASSPHRASE_WORDS} words.",
        )
    if _is_repetitive(password):
        raise WeakPassword(
            PasswordRule.REPETITIVE,
            "The password is one short pattern repeated; choose a less predictable one.",
        )
    folded = _fold(password)
    names = [_fold(username), *(_fold(part) for part in re.split(r"[\s.\-_']+", display_name))]
    for name in names:
        if len(name) >= 3 and name in folded:
            raise WeakPassword(
                PasswordRule.CONTAINS_NAME,
                "The password contains the username or the person's name; choose another one.",
            )
    personal = tuple(n for n in names if len(n) >= 3)
    if guesses_log10(password, personal) < MIN_GUESSES_LOG10:
        raise WeakPassword(
            PasswordRule.COMMON,
            "The password is too easy to guess: it is close to a common password, or made of "
            "common words, names, dates, keyboard rows or simple substitutions; choose another one.",
        )
