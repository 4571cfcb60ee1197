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
from collections.abc import Callable
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


LOCKOUT_AFTER = 5  # failures in a row before a login (or an address) is locked
LOCKOUT_BASE_S = 30.0  # first lock; each further failure while counted doubles it
LOCKOUT_MAX_S = 15 * 60.0


@dataclass(frozen=True)
class LoginAttempt:
    """One line of the login trace: who tried, from where, what happened (never the password)."""

    at: float
    login: str
    address: str
    outcome: str  # "accepted", "refused", "locked"


@dataclass
class LoginGuard:
    """Lockout with a growing delay per login and per address, and the trace of every attempt.

    As the kiosk's own accounts do (app/maintenance): after `LOCKOUT_AFTER`
    failures in a row a login is locked for `LOCKOUT_BASE_S`, doubled at each
    further failure up to `LOCKOUT_MAX_S`; while locked even the right
    password is refused (and not checked), so guessing gains nothing. An
    address that fails across many logins is locked the same way.
    """

    now: Callable[[], float] = time.monotonic
    trace: list[LoginAttempt] = field(default_factory=list)
    _failures: dict[str, int] = field(default_factory=dict)
    _locked_until: dict[str, float] = field(default_factory=dict)

    def _keys(self, login: str, address: str) -> tuple[str, str]:
        return f"login:{login}", f"address:{address}"

    def retry_after(self, login: str, address: str) -> float:
        """Seconds before this login may be tried again from there (0: now)."""
        now = self.now()
        return max(
            (self._locked_until.get(k, 0.0) - now for k in self._keys(login, address)),
            default=0.0,
        )

    def record(self, login: str, address: str, outcome: str) -> None:
        self.trace.append(LoginAttempt(time.time(), login[:64], address, outcome))
        if len(self.trace) > 10_000:
            del self.trace[:1000]
        for key in self._keys(login, address):
            if outcome == "accepted":
                if key.startswith("login:"):
                    self._failures.pop(key, None)
                    self._locked_until.pop(key, None)
                continue
            if outcome != "refused":
                continue
            count = self._failures.get(key, 0) + 1
            self._failures[key] = count
            # An address (a pharmacy's NAT, a hospital) is shared: it locks later than a login.
            after = LOCKOUT_AFTER if key.startswith("login:") else 4 * LOCKOUT_AFTER
            if count >= after:
                delay = min(LOCKOUT_BASE_S * 2 ** (count - after), LOCKOUT_MAX_S)
                self._locked_until[key] = self.now() + delay


@dataclass
class StaffLogin:
    """The platform's one login for its people (doctors, and the staff who watch the fleet).

    The doctor's console (`POST /console/api/login`) and the fleet page
    (`POST /fleet/login`) both go through `attempt`: the same accounts, the same
    `LoginGuard` (lockout with a growing delay, every attempt traced) and the same
    session tokens, so guessing on one door counts on the other.
    """

    directory: DoctorDirectory
    guard: LoginGuard
    sessions: LoginSessions

    def attempt(
        self, login: str, password: str, address: str
    ) -> tuple[str, DoctorAccount | None, float]:
        """(outcome, the account when accepted, seconds left when locked).

        While locked the password is not even checked: guessing gains nothing."""
        wait = self.guard.retry_after(login, address)
        if wait > 0:
            self.guard.record(login, address, "locked")
            return "locked", None, wait
        account = self.directory.verify(login, password)
        outcome = "accepted" if account is not None else "refused"
        self.guard.record(login, address, outcome)
        return outcome, account, 0.0

    def account_of(self, token: str) -> DoctorAccount | None:
        login = self.sessions.login_of(token) if token else None
        return self.directory.get(login) if login else None
