"""Accounts and the audit log on the real encrypted store (`app.store.AsyncStore`).

Why an adapter and not the store's types directly: the sign-in rules work on
`AccountRecord`/`SecurityState`, which know the account's meaning (role
enum, counters); the store keeps rows. The mapping is here, in one place.
The store also writes its own audit rows for each change it makes to an
account (`account.add`, `account.security` …); the rows written here say
why (a sign-in refused for a bad code, an unlock by a technician).
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from app.maintenance.accounts import AccountRecord, AuditEntry, SecurityState
from app.maintenance.errors import AccountError, AccountErrorReason
from app.maintenance.roles import Role
from app.maintenance.service import AccountService
from app.store import (
    AccountExists,
    AccountRole,
    AsyncStore,
    KeySource,
    StoredAccount,
    UnknownAccount,
)
from app.store.keys import SealedCredentialKeySource, ensure_private_dir, resolve_key_source

log = logging.getLogger(__name__)

KIOSK_USER = "telecabine"  # the package's system user (packaging/debian/postinst)


def _record(stored: StoredAccount) -> AccountRecord:
    return AccountRecord(
        username=stored.username,
        display_name=stored.display_name,
        role=Role(stored.role.value),
        rpps=stored.rpps,
        password_hash=stored.password_hash,
        totp_secret=stored.totp_secret,
        created_at=stored.created_at,
        security=SecurityState(
            failed_attempts=stored.failed_attempts,
            locked_until=stored.locked_until,
            last_totp_step=stored.last_totp_step,
        ),
        disabled=stored.disabled,
    )


def _unknown(username: str) -> AccountError:
    return AccountError(AccountErrorReason.UNKNOWN_ACCOUNT, f"No account is named '{username}'.")


class StoreAccountRepository:
    """`AccountRepository` on the store; `actor` names who changes accounts (audit)."""

    def __init__(self, store: AsyncStore, *, actor: str = "kiosk") -> None:
        self._store = store
        self._actor = actor

    async def add_account(self, record: AccountRecord) -> None:
        stored = StoredAccount(
            username=record.username,
            display_name=record.display_name,
            role=AccountRole(record.role.value),
            password_hash=record.password_hash,
            totp_secret=record.totp_secret,
            created_at=record.created_at,
            rpps=record.rpps,
            failed_attempts=record.security.failed_attempts,
            locked_until=record.security.locked_until,
            last_totp_step=record.security.last_totp_step,
            disabled=record.disabled,
        )
        try:
            await self._store.add_account(stored, actor=self._actor)
        except AccountExists as exc:
            raise AccountError(
                AccountErrorReason.DUPLICATE_USERNAME,
                f"An account named '{record.username}' already exists; each person has one account.",
            ) from exc

    async def get_account(self, username: str) -> AccountRecord | None:
        stored = await self._store.get_account(username)
        return None if stored is None else _record(stored)

    async def update_account_security(self, username: str, security: SecurityState) -> None:
        try:
            await self._store.update_account_security(
                username,
                security.failed_attempts,
                security.locked_until,
                last_totp_step=security.last_totp_step,
            )
        except UnknownAccount as exc:
            raise _unknown(username) from exc

    async def update_password_hash(self, username: str, password_hash: str) -> None:
        try:
            await self._store.update_password_hash(username, password_hash, actor=self._actor)
        except UnknownAccount as exc:
            raise _unknown(username) from exc

    async def set_account_disabled(self, username: str, disabled: bool) -> None:
        try:
            await self._store.set_account_disabled(username, disabled, actor=self._actor)
        except UnknownAccount as exc:
            raise _unknown(username) from exc

    async def list_accounts(self) -> list[AccountRecord]:
        return [_record(s) for s in await self._store.all_accounts()]


class StoreAuditSink:
    """`AuditSink` on the store's hash-chained audit log."""

    def __init__(self, store: AsyncStore) -> None:
        self._store = store

    async def append_audit(self, entry: AuditEntry) -> None:
        await self._store.append_audit(
            entry.actor,
            entry.action,
            outcome=entry.outcome,
            subject=entry.subject,
            detail=entry.detail,
            at=entry.at,
        )


def _log_new_key_file(path: Path) -> None:
    log.warning(
        "store: a new clear key file was made at %s (demo and development only; a cabin "
        "uses its sealed key)",
        path,
    )


def key_source_for(data_dir: Path, *, production: bool = False) -> KeySource:
    """The kiosk's key: systemd's credential, the sealed key, or (demo, tests) the key file.

    On a cabin (production, or the packaged data folder, or a sealed key on
    the machine) this never makes a clear key file: see `resolve_key_source`.
    """
    return resolve_key_source(data_dir, production=production, on_create=_log_new_key_file)


def command_key_source(
    data_dir: Path,
    *,
    production: bool = False,
    create_file: bool = True,
    announce: Callable[[str], None] | None = None,
) -> KeySource:
    """The key for a technician's command (`kiosk accounts`, `kiosk store`), ready to use.

    Resolved like the kiosk's (`resolve_key_source`). A sealed key is unsealed
    now (root), and then, when the command runs as root on a store owned by
    the kiosk's user, the process becomes that user before it touches any
    file: a WAL or lock file left owned by root would stop the service.
    A new key file (demo, development) is announced, never made silently.
    """

    def created(path: Path) -> None:
        if announce is not None:
            announce(
                f"a new store key file was made at {path} (demo and development only; a "
                "cabin uses its sealed key)"
            )

    source = resolve_key_source(
        data_dir, production=production, create_file=create_file, on_create=created
    )
    if isinstance(source, SealedCredentialKeySource):
        source.load()
    become_store_owner(data_dir)
    return source


def become_store_owner(data_dir: Path, *, user: str = KIOSK_USER) -> None:
    """Run as root on the kiosk's store → continue as the user that owns it (never as root).

    The owner is the data folder's; a folder not made yet is made for `user`
    (the package's system user) when that user exists. No-op when not root.
    """
    if os.geteuid() != 0:
        return
    data_dir = Path(data_dir)
    if data_dir.exists():
        st = data_dir.stat()
        uid, gid = st.st_uid, st.st_gid
    else:
        import pwd

        try:
            entry = pwd.getpwnam(user)
        except KeyError:
            return  # not a cabin (no kiosk user): root's own store, as asked
        uid, gid = entry.pw_uid, entry.pw_gid
        ensure_private_dir(data_dir)
        os.chown(data_dir, uid, gid)
    if uid == 0:
        return
    os.setgroups([])
    os.setgid(gid)
    os.setuid(uid)


def account_service_on(store: AsyncStore, *, actor: str = "kiosk") -> AccountService:
    """The service the kiosk uses, on an already open store (app/main.py)."""
    return AccountService(StoreAccountRepository(store, actor=actor), StoreAuditSink(store))


@asynccontextmanager
async def open_account_service(
    data_dir: Path, *, actor: str = "kiosk", key_source: KeySource | None = None
) -> AsyncIterator[AccountService]:
    """Open the store in `data_dir` for one command-line action, and close it after.

    `key_source`: from `command_key_source` (the command line); by default the
    kiosk's own resolution.
    """
    source = key_source if key_source is not None else key_source_for(Path(data_dir))
    store = await AsyncStore.open(Path(data_dir), source)
    try:
        yield account_service_on(store, actor=actor)
    finally:
        await store.close()
