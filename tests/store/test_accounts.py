"""Professional accounts kept in the store, and the maintenance service running on it."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from app.maintenance.accounts import SecurityState
from app.maintenance.errors import AccountError, AccountErrorReason
from app.maintenance.hashing import Argon2Parameters, PasswordHashing
from app.maintenance.roles import Role
from app.maintenance.service import AccountService
from app.maintenance.store_binding import StoreAccountRepository, StoreAuditSink
from app.store import (
    AccountExists,
    AccountRole,
    AsyncStore,
    FileKeySource,
    Store,
    StoredAccount,
    UnknownAccount,
)
from tests.store import factories as f


def _account(name: str = "claire.inf") -> StoredAccount:
    return StoredAccount(
        username=name,
        display_name="Claire Martin",
        role=AccountRole.ASSISTANT,
        password_hash="$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA",
        totp_secret="JBSWY3DPEHPK3PXP",
        created_at=f.T0,
        adeli="751234567",
    )


def test_accounts_round_trip_and_lists_keep_secrets_out(store: Store, clock: f.FakeClock) -> None:
    store.add_account(_account(), actor="cli:root")
    assert store.get_account("claire.inf") == _account()
    assert store.get_account("nobody") is None
    [listed] = store.list_accounts()
    assert "password_hash" not in type(listed).__dataclass_fields__
    assert "totp_secret" not in type(listed).__dataclass_fields__
    assert (listed.username, listed.role, listed.adeli, listed.disabled) == (
        "claire.inf",
        AccountRole.ASSISTANT,
        "751234567",
        False,
    )
    assert "JBSWY3DP" not in repr(store.get_account("claire.inf"))
    assert "argon2" not in repr(store.get_account("claire.inf"))
    with pytest.raises(AccountExists):
        store.add_account(_account(), actor="cli:root")


def test_security_counters_and_audit(store: Store, clock: f.FakeClock) -> None:
    store.add_account(_account(), actor="cli:root")
    until = clock.now + timedelta(minutes=15)
    store.update_account_security("claire.inf", 5, until, last_totp_step=1234)
    store.update_account_security("claire.inf", 0, None)
    a = store.get_account("claire.inf")
    assert a is not None and (a.failed_attempts, a.locked_until, a.last_totp_step) == (
        0,
        None,
        1234,
    )
    store.set_account_disabled("claire.inf", True, actor="account:tech.one")
    assert store.list_accounts()[0].disabled is True
    with pytest.raises(UnknownAccount):
        store.update_account_security("nobody", 1, None)
    actions = [(r.actor, r.action, r.subject, r.detail) for r in store.audit_rows()][1:]
    assert actions == [
        ("cli:root", "account.add", "claire.inf", "role=assistant"),
        ("kiosk", "account.security", "claire.inf", "failed=5 locked=yes"),
        ("kiosk", "account.security", "claire.inf", "failed=0 locked=no"),
        ("account:tech.one", "account.disable", "claire.inf", ""),
    ]


async def test_the_maintenance_service_runs_on_the_store(
    data_dir: Path, clock: f.FakeClock
) -> None:
    s = await AsyncStore.open(data_dir, FileKeySource(data_dir), clock)
    repo = StoreAccountRepository(s)
    service = AccountService(
        repo,
        StoreAuditSink(s),
        hashing=PasswordHashing(Argon2Parameters(time_cost=1, memory_cost_kib=8, parallelism=1)),
        clock=clock,
    )
    enrolment = await service.create_account(
        "marie.ph",
        "Marie Pharmacienne",
        Role.ASSISTANT,
        "Correct-Horse-Battery-9",
        actor="cli:root",
    )
    assert enrolment.account.username == "marie.ph"
    stored = await repo.get_account("marie.ph")
    assert stored is not None and stored.password_hash.startswith("$argon2id$")
    await repo.update_account_security("marie.ph", SecurityState(2, None, 99))
    assert (await repo.get_account("marie.ph")).security == SecurityState(2, None, 99)  # type: ignore[union-attr]
    with pytest.raises(AccountError) as exc:
        await repo.add_account(stored)
    assert exc.value.reason is AccountErrorReason.DUPLICATE_USERNAME
    with pytest.raises(AccountError) as unknown:
        await repo.set_account_disabled("nobody", True)
    assert unknown.value.reason is AccountErrorReason.UNKNOWN_ACCOUNT
    await s.close()
    with Store.open(data_dir, FileKeySource(data_dir), clock) as again:
        assert again.verify_audit_chain().ok
        # The service's own audit rows went into the same chain.
        assert ("cli:root", "account.created", "ok") in [
            (r.actor, r.action, r.outcome) for r in again.audit_rows()
        ]
