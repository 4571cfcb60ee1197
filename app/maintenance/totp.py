"""TOTP (RFC 6238) as the second factor: 30-second steps, 6 digits, SHA-1.

Why SHA-1, 6 digits, 30 s: that is what every authenticator app (FreeOTP,
Google/Microsoft Authenticator, Aegis) supports from an otpauth:// URI
without extra parameters. One step either side is accepted (valid_window 1)
for clock drift between the phone and the kiosk. A code is accepted once:
the matched step is stored with the account and a code for that step or an
earlier one is refused as a replay. Time comes in as a value; nothing here
reads a clock.

What is typed is normalised before the comparison: spaces of any kind are
dropped and a decimal digit of any script (fullwidth "１２３", Arabic-Indic
"١٢٣", Devanagari …) becomes its ASCII digit, because it is the same number
and an input method may well type it so. Anything else (a letter, a
superscript "²", which is a digit for `str.isdigit` but not a decimal one)
makes the code simply wrong: `matching_step` returns None and never raises,
so the sign-in counts it as a failure and audits it like any other.
"""

from __future__ import annotations

import hmac
import unicodedata
from datetime import datetime

import pyotp

DIGITS = 6
INTERVAL_S = 30
VALID_WINDOW = 1
ISSUER = "Télécabine"
MAX_TYPED = 64
"""Longer input is not read at all: no code is that long, even with spaces."""


def new_secret() -> str:
    """A fresh random base32 secret (160 bits, the RFC 4226 recommended length)."""
    return pyotp.random_base32(length=32)


def provisioning_uri(secret: str, username: str, issuer: str = ISSUER) -> str:
    """The otpauth:// URI an authenticator app enrols from (shown as a QR)."""
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=INTERVAL_S)
    return str(totp.provisioning_uri(name=username, issuer_name=issuer))


def _epoch(now: datetime) -> int:
    if now.tzinfo is None:
        raise ValueError("TOTP needs an aware datetime (UTC), not a naive one")
    return int(now.timestamp())


def step_at(now: datetime) -> int:
    return _epoch(now) // INTERVAL_S


def code_at(secret: str, now: datetime) -> str:
    """The code the professional's app shows at `now` (used by tests and the simulator)."""
    return str(pyotp.TOTP(secret, digits=DIGITS, interval=INTERVAL_S).at(_epoch(now)))


def normalise_code(code: str) -> str | None:
    """The six ASCII digits `code` stands for, or None when it is not a code at all."""
    if len(code) > MAX_TYPED:
        return None
    digits: list[str] = []
    for char in code:
        if char.isspace():
            continue
        value = unicodedata.decimal(char, None)
        if value is None:
            return None
        digits.append(str(value))
    cleaned = "".join(digits)
    return cleaned if len(cleaned) == DIGITS else None


def matching_step(secret: str, code: str, now: datetime) -> int | None:
    """The time step whose code equals `code`, within the window around `now`, or None.

    Never raises for what was typed: a code that is not six digits is None.
    """
    cleaned = normalise_code(code)
    if cleaned is None:
        return None
    typed = cleaned.encode("ascii")
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=INTERVAL_S)
    epoch = _epoch(now)
    found: int | None = None
    for offset in range(-VALID_WINDOW, VALID_WINDOW + 1):
        candidate = str(totp.at(epoch, counter_offset=offset)).encode("ascii")
        # compare every candidate, in constant time, whatever matched before
        if hmac.compare_digest(candidate, typed) and found is None:
            found = epoch // INTERVAL_S + offset
    return found
