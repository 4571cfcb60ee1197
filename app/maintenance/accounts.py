"""What a professional account is, the port that stores it, and the rules of a sign-in.

Why a port (`AccountRepository`) rather than SQL here: accounts live in the
encrypted store, which owns its schema; this package only needs five calls.
Why `decide_attempt` is a function of values: the order of the checks (lock
first, then password, then code, then replay) and what each failure does to
the counters is the heart of the security, and it is tested without a clock
or a database.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from app.maintenance import totp
from app.maintenance.errors import AccountError, AccountErrorReason, AuthFailure
from app.maintenance.hashing import PasswordHashing
from app.maintenance.lockout import LockoutPolicy, after_failure, is_locked
from app.maintenance.roles import Permission, Role, allows

USERNAME_PATTERN = re.compile(r"^[a-z][a-z0-9._-]{2,31}$")
MAX_NAME_LENGTH = 80


@dataclass(frozen=True, slots=True)
class SecurityState:
    """The mutable part of an account: counters the sign-in rules change."""

    failed_attempts: int = 0
    locked_until: datetime | None = None
    last_totp_step: int | None = None


@dataclass(frozen=True, slots=True)
class AccountRecord:
    """One professional's account as stored (secrets kept out of repr)."""

    username: str
    display_name: str
    role: Role
    rpps: str | None
    password_hash: str = field(repr=False)
    totp_secret: str = field(repr=False)
    created_at: datetime
    security: SecurityState = SecurityState()
    disabled: bool = False


@dataclass(frozen=True, slots=True)
class AccountSummary:
    """What `kiosk accounts list` shows: no secret, no hash."""

    username: str
    display_name: str
    role: Role
    rpps: str | None
    created_at: datetime
    failed_attempts: int
    locked_until: datetime | None
    disabled: bool


@dataclass(frozen=True, slots=True)
class Professional:
    """A professional who has just signed in with both factors.

    The controller keeps this for the assisted act it was asked for, and
    records every act with `username` (one identifier per person).
    """

    username: str
    display_name: str
    role: Role
    rpps: str | None
    authenticated_at: datetime

    def may(self, permission: Permission) -> bool:
        return allows(self.role, permission)


class AccountRepository(Protocol):
    """The calls the store offers for accounts (implemented in `app.store`)."""

    async def add_account(self, record: AccountRecord) -> None:
        """Insert; raise `AccountError(DUPLICATE_USERNAME)` if the username exists."""

    async def get_account(self, username: str) -> AccountRecord | None: ...

    async def update_account_security(self, username: str, security: SecurityState) -> None: ...

    async def update_password_hash(self, username: str, password_hash: str) -> None: ...

    async def set_account_disabled(self, username: str, disabled: bool) -> None: ...

    async def list_accounts(self) -> list[AccountRecord]: ...


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One row of the audit log: who did what, never a health datum."""

    at: datetime
    actor: str  # account username, "cli:<os user>", or UNKNOWN_ACTOR
    action: str  # e.g. "auth.sign-in", "account.created", "assisted.manual-measurement"
    outcome: str  # "ok" | "refused" | "failed"
    subject: str = "-"  # what the act was about: an account, a session id, a measurement id
    detail: str = ""  # reason code or counts; never a health datum


UNKNOWN_ACTOR = "unknown"
"""Actor of a refused sign-in with an unknown username (the typed text is not kept)."""


class AuditSink(Protocol):
    async def append_audit(self, entry: AuditEntry) -> None: ...


def normalise_username(username: str) -> str:
    return unicodedata.normalize("NFKC", username).strip().casefold()


def validate_username(username: str) -> str:
    name = normalise_username(username)
    if not USERNAME_PATTERN.fullmatch(name):
        raise AccountError(
            AccountErrorReason.INVALID_USERNAME,
            "A username has 3 to 32 characters: a letter first, then letters, digits, "
            "'.', '-' or '_' (for example 'marie.dupont').",
        )
    return name


def validate_display_name(name: str) -> str:
    cleaned = " ".join(name.split())
    if not cleaned or len(cleaned) > MAX_NAME_LENGTH or not cleaned.isprintable():
        raise AccountError(
            AccountErrorReason.INVALID_NAME,
            f"The display name must have 1 to {MAX_NAME_LENGTH} printable characters.",
        )
    return cleaned


def _luhn_ok(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def validate_rpps(rpps: str | None, role: Role) -> str | None:
    """An RPPS number has 11 digits, the last a Luhn key; only health professionals have one."""
    if rpps is None or rpps.strip() == "":
        return None
    cleaned = rpps.replace(" ", "")
    if role is not Role.ASSISTANT:
        raise AccountError(
            AccountErrorReason.RPPS_NOT_FOR_ROLE,
            "Only an assistant (pharmacist or nurse) has an RPPS number; a technician or "
            "on-site staff account has none.",
        )
    if len(cleaned) != 11 or not cleaned.isdigit() or not _luhn_ok(cleaned):
        raise AccountError(
            AccountErrorReason.INVALID_RPPS,
            "An RPPS number has 11 digits and its last digit is a Luhn check key; "
            "this one does not check out.",
        )
    return cleaned


@dataclass(frozen=True, slots=True)
class AttemptDecision:
    """What one sign-in attempt decided, and the counters to store (None: unchanged)."""

    failure: AuthFailure | None
    security: SecurityState | None
    rehash: bool = False


def decide_attempt(
    account: AccountRecord | None,
    password: str,
    code: str,
    now: datetime,
    hashing: PasswordHashing,
    policy: LockoutPolicy,
) -> AttemptDecision:
    """The rules of one sign-in. Order matters; see docs/accounts.md."""
    if account is None:
        hashing.burn(password)
        return AttemptDecision(AuthFailure.UNKNOWN_USER, None)
    if account.disabled:
        hashing.burn(password)
        return AttemptDecision(AuthFailure.DISABLED, None)
    state = account.security
    if is_locked(state.locked_until, now):
        hashing.burn(password)
        return AttemptDecision(AuthFailure.LOCKED, None)
    checked = hashing.check(account.password_hash, password)
    step = totp.matching_step(account.totp_secret, code, now)
    failure: AuthFailure | None
    if not checked.ok:
        failure = AuthFailure.BAD_PASSWORD
    elif step is None:
        failure = AuthFailure.BAD_CODE
    elif state.last_totp_step is not None and step <= state.last_totp_step:
        failure = AuthFailure.REPLAY
    else:
        failure = None
    if failure is not None:
        count, locked_until = after_failure(policy, state.failed_attempts, now)
        return AttemptDecision(
            failure,
            SecurityState(count, locked_until, state.last_totp_step),
        )
    return AttemptDecision(None, SecurityState(0, None, step), rehash=checked.needs_rehash)
