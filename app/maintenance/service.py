"""The async edge of professional accounts: create, sign in, authorise, audit.

Why one service: every sign-in and every assisted act must leave an audit
row naming the professional, and every change to the counters must be
stored before the answer is given; doing it in one place makes that hard
to forget. The clock is a callable passed in (tests pass a fake one); the
argon2 work runs in a thread so the event loop (and the screen) never
stalls. Sign-ins are serialised by a lock so that two quick attempts cannot
both use the same code.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from app.maintenance import totp
from app.maintenance.accounts import (
    UNKNOWN_ACTOR,
    USERNAME_PATTERN,
    AccountRecord,
    AccountRepository,
    AccountSummary,
    AuditEntry,
    AuditSink,
    Professional,
    SecurityState,
    decide_attempt,
    normalise_username,
    validate_display_name,
    validate_rpps,
    validate_username,
)
from app.maintenance.errors import (
    AccountError,
    AccountErrorReason,
    AuthError,
    AuthFailure,
    PermissionDenied,
)
from app.maintenance.hashing import PasswordHashing
from app.maintenance.lockout import DEFAULT_POLICY, LockoutPolicy
from app.maintenance.password_policy import check_password
from app.maintenance.roles import Permission, Role

UNLOCK_ADVICE = (
    "The person signs in with a code their app shows from now on (at most 30 s to wait); "
    "the codes shown before the unlock are refused."
)
"""What the technician tells the person after `unlock` (see `AccountService.unlock`)."""


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Enrolment:
    """What the new professional needs once: the TOTP secret and its otpauth:// URI."""

    account: AccountSummary
    totp_secret: str
    provisioning_uri: str


def summary_of(record: AccountRecord) -> AccountSummary:
    return AccountSummary(
        username=record.username,
        display_name=record.display_name,
        role=record.role,
        rpps=record.rpps,
        created_at=record.created_at,
        failed_attempts=record.security.failed_attempts,
        locked_until=record.security.locked_until,
        disabled=record.disabled,
    )


class AccountService:
    def __init__(
        self,
        repository: AccountRepository,
        audit: AuditSink,
        *,
        hashing: PasswordHashing | None = None,
        policy: LockoutPolicy = DEFAULT_POLICY,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._repo = repository
        self._audit = audit
        self._hashing = hashing if hashing is not None else PasswordHashing()
        self._policy = policy
        self._clock = clock
        self._lock = asyncio.Lock()

    async def _log(
        self, actor: str, action: str, outcome: str, subject: str = "-", detail: str = ""
    ) -> None:
        entry = AuditEntry(self._clock(), actor, action, outcome, subject, detail)
        await self._audit.append_audit(entry)

    async def create_account(
        self,
        username: str,
        display_name: str,
        role: Role,
        password: str,
        *,
        rpps: str | None = None,
        actor: str,
    ) -> Enrolment:
        name = validate_username(username)
        shown = validate_display_name(display_name)
        rpps_number = validate_rpps(rpps, role)
        # zxcvbn takes up to ~0.2 s on a long password: not on the event loop
        await asyncio.to_thread(check_password, password, username=name, display_name=shown)
        existing = await self._repo.list_accounts()
        if any(a.username == name for a in existing):
            raise AccountError(
                AccountErrorReason.DUPLICATE_USERNAME,
                f"An account named '{name}' already exists; each person has one account.",
            )
        if rpps_number is not None and any(a.rpps == rpps_number for a in existing):
            raise AccountError(
                AccountErrorReason.DUPLICATE_RPPS,
                "An account with this RPPS number already exists; each person has one account.",
            )
        secret = totp.new_secret()
        password_hash = await asyncio.to_thread(self._hashing.hash, password)
        record = AccountRecord(
            username=name,
            display_name=shown,
            role=role,
            rpps=rpps_number,
            password_hash=password_hash,
            totp_secret=secret,
            created_at=self._clock(),
        )
        await self._repo.add_account(record)
        await self._log(actor, "account.created", "ok", name, f"role={role}")
        return Enrolment(summary_of(record), secret, totp.provisioning_uri(secret, name))

    async def authenticate(
        self, username: str, password: str, code: str, *, permission: Permission | None = None
    ) -> Professional:
        """Both factors, then (if given) the permission the act needs; audited either way.

        Raises `AuthError` (show only its `person_message`) or `PermissionDenied`.
        """
        name = normalise_username(username)
        async with self._lock:
            now = self._clock()
            # No account has a name outside the pattern (checked at creation), and such
            # text (a lone surrogate, a megabyte) is never sent to the store.
            account = (
                await self._repo.get_account(name) if USERNAME_PATTERN.fullmatch(name) else None
            )
            decision = await asyncio.to_thread(
                decide_attempt, account, password, code, now, self._hashing, self._policy
            )
            if decision.security is not None and account is not None:
                await self._repo.update_account_security(account.username, decision.security)
            if decision.failure is not None:
                actor = account.username if account is not None else UNKNOWN_ACTOR
                locked_until = decision.security.locked_until if decision.security else None
                if decision.failure is AuthFailure.LOCKED and account is not None:
                    locked_until = account.security.locked_until
                detail = str(decision.failure)
                if decision.security is not None and locked_until is not None:
                    detail += f" locked-until={locked_until.isoformat()}"
                await self._log(actor, "auth.sign-in", "refused", actor, detail)
                raise AuthError(
                    decision.failure, account.username if account else None, locked_until
                )
            assert account is not None  # a success always has an account
            if decision.rehash:
                new_hash = await asyncio.to_thread(self._hashing.hash, password)
                await self._repo.update_password_hash(account.username, new_hash)
                await self._log(account.username, "account.rehashed", "ok", account.username)
            await self._log(
                account.username, "auth.sign-in", "ok", account.username, f"role={account.role}"
            )
        professional = Professional(
            username=account.username,
            display_name=account.display_name,
            role=account.role,
            rpps=account.rpps,
            authenticated_at=now,
        )
        if permission is not None:
            await self.authorise(professional, permission)
        return professional

    async def authorise(self, professional: Professional, permission: Permission) -> None:
        """Raise `PermissionDenied` (and audit it) if the role does not allow `permission`."""
        if not professional.may(permission):
            await self._log(
                professional.username,
                "authorise",
                "refused",
                professional.username,
                f"permission={permission}",
            )
            raise PermissionDenied(professional.username, professional.role, permission)

    async def record_act(
        self,
        professional: Professional,
        action: str,
        outcome: str,
        subject: str = "-",
        detail: str = "",
    ) -> None:
        """Audit an act done under a professional's account (ids only, no health datum)."""
        await self._log(professional.username, action, outcome, subject, detail)

    async def list_accounts(self) -> list[AccountSummary]:
        records = await self._repo.list_accounts()
        return sorted((summary_of(r) for r in records), key=lambda s: s.username)

    async def _existing(self, username: str) -> AccountRecord:
        record = await self._repo.get_account(normalise_username(username))
        if record is None:
            raise AccountError(
                AccountErrorReason.UNKNOWN_ACCOUNT, f"No account is named '{username}'."
            )
        return record

    async def unlock(self, username: str, *, actor: str) -> None:
        """Clear the failure counter and the lock; burn every code shown until now.

        Unlock lifts the lock, it does not reopen the codes: the replay floor
        (`last_totp_step`) only ever rises, to the present step at least. Why:
        a lock follows failures, often typed where someone could watch, and
        a code typed with a wrong password was not used up; after the unlock
        the person signs in with a code their app shows from now on (at most
        30 s to wait). A code already accepted is never accepted again,
        whoever unlocks. Serialised with sign-ins (the same lock).
        """
        record = await self._existing(username)
        async with self._lock:
            record = await self._existing(record.username)  # as it is now, not before the wait
            now_step = totp.step_at(self._clock())
            floor = record.security.last_totp_step
            security = SecurityState(
                failed_attempts=0,
                locked_until=None,
                last_totp_step=now_step if floor is None else max(floor, now_step),
            )
            await self._repo.update_account_security(record.username, security)
            await self._log(actor, "account.unlocked", "ok", record.username)

    async def set_disabled(self, username: str, disabled: bool, *, actor: str) -> None:
        record = await self._existing(username)
        await self._repo.set_account_disabled(record.username, disabled)
        action = "account.disabled" if disabled else "account.enabled"
        await self._log(actor, action, "ok", record.username)


__all__ = [
    "UNLOCK_ADVICE",
    "AccountService",
    "Enrolment",
    "SecurityState",
    "summary_of",
    "utc_now",
]
