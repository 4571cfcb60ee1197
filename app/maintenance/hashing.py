"""Password hashing with argon2id, parameters written down in one place.

Why these parameters: RFC 9106's second recommended option ("low memory":
t=3 iterations, m=64 MiB, p=4 lanes, 16-byte salt, 32-byte tag), which is
also argon2-cffi's default. On the cabin PC (2 cores) one hash or one check
takes about 0.13 s: slow enough to make guessing expensive, fast enough for a
professional who signs in a few times a day. The check runs in an executor,
never on the event loop. When these numbers change, the next successful
sign-in rehashes the password with the new ones (`check_needs_rehash`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError


@dataclass(frozen=True, slots=True)
class Argon2Parameters:
    time_cost: int = 3
    memory_cost_kib: int = 65536
    parallelism: int = 4
    hash_len: int = 32
    salt_len: int = 16

    def hasher(self) -> PasswordHasher:
        return PasswordHasher(
            time_cost=self.time_cost,
            memory_cost=self.memory_cost_kib,
            parallelism=self.parallelism,
            hash_len=self.hash_len,
            salt_len=self.salt_len,
            type=Type.ID,
        )


PRODUCTION_PARAMETERS = Argon2Parameters()
"""What every account on a cabin is hashed with (see the module docstring)."""

_DUMMY_WORDS = "not a password of anyone"
PRODUCTION_DUMMY = (
    "$argon2id$v=19$m=65536,t=3,p=4$vQy7ru0hjPII2odkHaRYYg"
    "$PhhVdkgG2Xtqweylnf53ppGhMEsKrKasvrC7VqcrhbA"
)
"""`_DUMMY_WORDS` hashed once with PRODUCTION_PARAMETERS, written here so that the kiosk does
not spend one hash (0.15 s, 64 MiB) before its welcome screen (issue 14, cold start). Checking it
costs what checking any account's hash costs; a test fails when the parameters change and this
is not hashed again."""


@cache
def _dummy_for(parameters: Argon2Parameters) -> str:
    """The dummy hash for `parameters`: the written one for production, else hashed once."""
    if parameters == PRODUCTION_PARAMETERS:
        return PRODUCTION_DUMMY
    return parameters.hasher().hash(_DUMMY_WORDS)


@dataclass(frozen=True, slots=True)
class PasswordCheck:
    ok: bool
    needs_rehash: bool


class PasswordHashing:
    """Hash and check passwords with one parameter set; the seam tests turn down."""

    def __init__(self, parameters: Argon2Parameters = PRODUCTION_PARAMETERS) -> None:
        self.parameters = parameters
        self._hasher = parameters.hasher()
        # Checked when the username is unknown, so that a wrong username costs
        # the same time as a wrong password and timing tells nothing.
        self._dummy = _dummy_for(parameters)

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def check(self, stored_hash: str, password: str) -> PasswordCheck:
        """Whether `password` matches; a text that cannot be UTF-8 (a lone surrogate) never does.

        Never raises for what was typed, so that every refused sign-in is
        counted and audited by the caller.
        """
        try:
            self._hasher.verify(stored_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError, UnicodeEncodeError):
            return PasswordCheck(ok=False, needs_rehash=False)
        return PasswordCheck(ok=True, needs_rehash=self._hasher.check_needs_rehash(stored_hash))

    def burn(self, password: str) -> None:
        """Spend the time of one check without any account (unknown user, locked, disabled)."""
        self.check(self._dummy, password)
