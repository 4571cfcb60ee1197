"""The store behind `app.maintenance`'s ports (`AccountRepository`, `AuditSink`).

Why an adapter module: the store keeps its own account record (it must not
depend on the maintenance rules), and the maintenance package speaks its own
types and errors. This is the one place that translates between them; the
store core never imports it.
"""

from __future__ import annotations

from app.maintenance.accounts import AccountRecord, AuditEntry, SecurityState
from app.maintenance.errors import AccountError, AccountErrorReason
from app.maintenance.roles import Role
from app.store.async_store import AsyncStore
from app.store.errors import AccountExists, UnknownAccount
from app.store.records import AccountRole, StoredAccount

MAINTENANCE_ACTOR = "maintenance"


def _to_record(a: StoredAccount) -> AccountRecord:
    return AccountRecord(
        username=a.username,
        display_name=a.display_name,
        role=Role(a.role.value),
        rpps=a.rpps,
        password_hash=a.password_hash,
        totp_secret=a.totp_secret,
        created_at=a.created_at,
        security=SecurityState(
            failed_attempts=a.failed_attempts,
            locked_until=a.locked_until,
            last_totp_step=a.last_totp_step,
        ),
        disabled=a.disabled,
    )


def _unknown(exc: UnknownAccount) -> AccountError:
    return AccountError(AccountErrorReason.UNKNOWN_ACCOUNT, str(exc))


class StoreAccountRepository:
    """`AccountRepository` and `AuditSink` on the encrypted store."""

    def __init__(self, store: AsyncStore) -> None:
        self._store = store

    async def add_account(self, record: AccountRecord) -> None:
        account = StoredAccount(
            username=record.username,
            display_name=record.display_name,
            role=AccountRole(record.role.value),
            rpps=record.rpps,
            password_hash=record.password_hash,
            totp_secret=record.totp_secret,
            created_at=record.created_at,
            failed_attempts=record.security.failed_attempts,
            locked_until=record.security.locked_until,
            last_totp_step=record.security.last_totp_step,
            disabled=record.disabled,
        )
        try:
            await self._store.add_account(account, actor=MAINTENANCE_ACTOR)
        except AccountExists as exc:
            raise AccountError(AccountErrorReason.DUPLICATE_USERNAME, str(exc)) from exc

    async def get_account(self, username: str) -> AccountRecord | None:
        account = await self._store.get_account(username)
        return None if account is None else _to_record(account)

    async def update_account_security(self, username: str, security: SecurityState) -> None:
        try:
            await self._store.update_account_security(
                username,
                security.failed_attempts,
                security.locked_until,
                last_totp_step=security.last_totp_step,
            )
        except UnknownAccount as exc:
            raise _unknown(exc) from exc

    async def update_password_hash(self, username: str, password_hash: str) -> None:
        try:
            await self._store.update_password_hash(username, password_hash, actor=MAINTENANCE_ACTOR)
        except UnknownAccount as exc:
            raise _unknown(exc) from exc

    async def set_account_disabled(self, username: str, disabled: bool) -> None:
        try:
            await self._store.set_account_disabled(username, disabled, actor=MAINTENANCE_ACTOR)
        except UnknownAccount as exc:
            raise _unknown(exc) from exc

    async def list_accounts(self) -> list[AccountRecord]:
        return [_to_record(a) for a in await self._store.all_accounts()]

    async def append_audit(self, entry: AuditEntry) -> None:
        await self._store.append_audit(
            entry.actor or "unknown",
            entry.action,
            outcome=entry.outcome,
            subject=getattr(entry, "subject", "-") or "-",
            detail=entry.detail,
            at=entry.at,
        )
