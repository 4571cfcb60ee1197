"""Demo doctor accounts of the reference platform, with salted password hashes.

Even in the demo a password is never stored in clear: argon2id (argon2-cffi)
with the OWASP minimum parameters, so a login costs a few milliseconds on the
test machine. The identity a doctor logs in with (name, RPPS, specialty) is
what the platform asserts to the kiosk; in production it comes from the
national directory (RPPS / Pro Santé Connect), never from the doctor's own
typing.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from app.call.messages import DoctorIdentity

_HASHER = PasswordHasher(time_cost=2, memory_cost=19_456, parallelism=1)

DEMO_PASSWORD = "password"  # noqa: S105 - the demo's documented password


@dataclass(frozen=True)
class DoctorAccount:
    login: str
    identity: DoctorIdentity
    password_hash: str

    @classmethod
    def create(cls, login: str, password: str, identity: DoctorIdentity) -> DoctorAccount:
        return cls(login=login, identity=identity, password_hash=_HASHER.hash(password))


class DoctorDirectory:
    def __init__(self, accounts: list[DoctorAccount]) -> None:
        self._accounts = {a.login: a for a in accounts}

    @classmethod
    def demo(cls) -> DoctorDirectory:
        return cls(
            [
                DoctorAccount.create(
                    "dr-martin",
                    DEMO_PASSWORD,
                    DoctorIdentity("Dr Claire Martin", "10003456789", "Médecine générale"),
                ),
                DoctorAccount.create(
                    "dr-diallo",
                    DEMO_PASSWORD,
                    DoctorIdentity("Dr Amadou Diallo", "10009876543", "Médecine générale"),
                ),
            ]
        )

    def get(self, login: str) -> DoctorAccount | None:
        return self._accounts.get(login)

    def verify(self, login: str, password: str) -> DoctorAccount | None:
        account = self._accounts.get(login)
        if account is None:
            # Same cost whether or not the login exists.
            _HASHER.hash(password)
            return None
        try:
            _HASHER.verify(account.password_hash, password)
        except (VerificationError, InvalidHashError):
            return None
        return account


@dataclass
class LoginSessions:
    """Bearer tokens of logged-in doctors (in memory: the demo platform restarts clean)."""

    ttl_s: float = 12 * 3600
    _tokens: dict[str, tuple[str, float]] = field(default_factory=dict)

    def open(self, login: str) -> str:
        token = secrets.token_urlsafe(24)
        self._tokens[token] = (login, time.monotonic() + self.ttl_s)
        return token

    def login_of(self, token: str) -> str | None:
        entry = self._tokens.get(token)
        if entry is None or entry[1] < time.monotonic():
            self._tokens.pop(token, None)
            return None
        return entry[0]

    def close(self, token: str) -> None:
        self._tokens.pop(token, None)
