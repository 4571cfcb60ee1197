"""AccountService on the real SQCipher store: creation, sign-in, lockout, replay, audit."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from app.maintenance import totp
from app.maintenance.errors import (
    PERSON_MESSAGE,
    AccountError,
    AccountErrorReason,
    AuthError,
    AuthFailure,
    PasswordRule,
    PermissionDenied,
    WeakPassword,
)
from app.maintenance.hashing import Argon2Parameters, PasswordHashing
from app.maintenance.roles import Permission, Role
from app.maintenance.service import AccountService
from app.maintenance.store_binding import StoreAccountRepository, StoreAuditSink
from app.store import AsyncStore, FileKeySource
from tests.maintenance.conftest import CHEAP, GOOD_PASSWORD, FakeClock, audit_rows, luhn_complete

RPPS = luhn_complete("1000123456")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def store(tmp_path: Path, clock: FakeClock) -> AsyncIterator[AsyncStore]:
    opened = await AsyncStore.open(tmp_path / "data", FileKeySource(tmp_path / "data"), clock)
    try:
        yield opened
    finally:
        await opened.close()


def _service(
    store: AsyncStore, clock: FakeClock, params: Argon2Parameters = CHEAP
) -> AccountService:
    return AccountService(
        StoreAccountRepository(store, actor="cli:test"),
        StoreAuditSink(store),
        hashing=PasswordHashing(params),
        clock=clock,
    )


@pytest.fixture
def service(store: AsyncStore, clock: FakeClock) -> AccountService:
    return _service(store, clock)


async def _enrol(
    service: AccountService, username: str = "marie.dupont", role: Role = Role.ASSISTANT
) -> str:
    enrolment = await service.create_account(
        username,
        "Marie Dupont",
        role,
        GOOD_PASSWORD,
        rpps=RPPS if role is Role.ASSISTANT else None,
        actor="cli:test",
    )
    return enrolment.totp_secret


async def _audit(store: AsyncStore) -> list[tuple[str, str, str, str, str]]:
    return await audit_rows(store)


async def test_created_account_is_listed_without_secrets(
    service: AccountService, store: AsyncStore
) -> None:
    enrolment = await service.create_account(
        "Marie.Dupont",
        "  Marie   Dupont ",
        Role.ASSISTANT,
        GOOD_PASSWORD,
        rpps=RPPS,
        actor="cli:test",
    )
    assert enrolment.account.username == "marie.dupont"
    assert enrolment.provisioning_uri.startswith(
        "otpauth://totp/T%C3%A9l%C3%A9cabine:marie.dupont?secret="
    )
    [listed] = await service.list_accounts()
    assert (listed.username, listed.display_name, listed.role, listed.rpps) == (
        "marie.dupont",
        "Marie Dupont",
        Role.ASSISTANT,
        RPPS,
    )
    stored = await store.get_account("marie.dupont")
    assert stored is not None and stored.password_hash.startswith("$argon2id$")
    assert GOOD_PASSWORD not in stored.password_hash
    assert ("cli:test", "account.created", "ok", "marie.dupont", "role=assistant") in await _audit(
        store
    )


async def test_one_account_per_person(service: AccountService) -> None:
    await _enrol(service)
    with pytest.raises(AccountError) as same_name:
        await service.create_account(
            "MARIE.DUPONT", "Marie D", Role.ASSISTANT, "Autre-Mot-de-passe-9", actor="cli:test"
        )
    assert same_name.value.reason is AccountErrorReason.DUPLICATE_USERNAME
    assert (
        str(same_name.value)
        == "An account named 'marie.dupont' already exists; each person has one account."
    )
    with pytest.raises(AccountError) as same_rpps:
        await service.create_account(
            "mdupont2",
            "Marie D",
            Role.ASSISTANT,
            "Autre-Mot-de-passe-9",
            rpps=RPPS,
            actor="cli:test",
        )
    assert same_rpps.value.reason is AccountErrorReason.DUPLICATE_RPPS


@pytest.mark.parametrize(
    ("username", "role", "rpps", "reason"),
    [
        ("ab", Role.ASSISTANT, None, AccountErrorReason.INVALID_USERNAME),
        ("1abc", Role.ASSISTANT, None, AccountErrorReason.INVALID_USERNAME),
        ("paul.tech", Role.TECHNICIAN, RPPS, AccountErrorReason.RPPS_NOT_FOR_ROLE),
        ("paul.nurse", Role.ASSISTANT, "10001234567", AccountErrorReason.INVALID_RPPS),
    ],
)
async def test_invalid_accounts_are_refused(
    service: AccountService, username: str, role: Role, rpps: str | None, reason: AccountErrorReason
) -> None:
    with pytest.raises(AccountError) as info:
        await service.create_account(
            username, "Paul Martin", role, GOOD_PASSWORD, rpps=rpps, actor="cli:test"
        )
    assert info.value.reason is reason
    assert await service.list_accounts() == []


async def test_weak_password_creates_nothing(service: AccountService) -> None:
    with pytest.raises(WeakPassword) as info:
        await service.create_account(
            "marie.dupont", "Marie Dupont", Role.ASSISTANT, "short", actor="cli:test"
        )
    assert info.value.rule is PasswordRule.TOO_SHORT
    assert await service.list_accounts() == []


async def test_sign_in_with_both_factors(
    service: AccountService, store: AsyncStore, clock: FakeClock
) -> None:
    secret = await _enrol(service)
    who = await service.authenticate(
        "Marie.Dupont",
        GOOD_PASSWORD,
        totp.code_at(secret, clock.now),
        permission=Permission.MANUAL_MEASUREMENT,
    )
    assert (who.username, who.role, who.rpps, who.authenticated_at) == (
        "marie.dupont",
        Role.ASSISTANT,
        RPPS,
        clock.now,
    )
    stored = await store.get_account("marie.dupont")
    assert stored is not None and stored.last_totp_step == totp.step_at(clock.now)
    assert ("marie.dupont", "auth.sign-in", "ok", "marie.dupont", "role=assistant") in await _audit(
        store
    )


async def test_every_refusal_shows_the_same_sentence(
    service: AccountService, store: AsyncStore, clock: FakeClock
) -> None:
    secret = await _enrol(service)
    code = totp.code_at(secret, clock.now)
    wrong_code = f"{(int(code) + 500_000) % 1_000_000:06d}"
    attempts = [
        ("nobody", GOOD_PASSWORD, code, AuthFailure.UNKNOWN_USER),
        ("marie.dupont", "Wrong-Password-77", code, AuthFailure.BAD_PASSWORD),
        ("marie.dupont", GOOD_PASSWORD, wrong_code, AuthFailure.BAD_CODE),
    ]
    for username, password, typed, reason in attempts:
        with pytest.raises(AuthError) as info:
            await service.authenticate(username, password, typed)
        assert info.value.reason is reason
        assert info.value.person_message == PERSON_MESSAGE
    rows = await _audit(store)
    assert ("unknown", "auth.sign-in", "refused", "unknown", "unknown-user") in rows
    assert ("marie.dupont", "auth.sign-in", "refused", "marie.dupont", "bad-password") in rows
    assert ("marie.dupont", "auth.sign-in", "refused", "marie.dupont", "bad-code") in rows
    assert not any("nobody" in field for row in rows for field in row)  # the typed name is not kept


async def test_a_code_is_accepted_once(service: AccountService, clock: FakeClock) -> None:
    secret = await _enrol(service)
    code = totp.code_at(secret, clock.now)
    await service.authenticate("marie.dupont", GOOD_PASSWORD, code)
    clock.advance(10)
    with pytest.raises(AuthError) as info:
        await service.authenticate("marie.dupont", GOOD_PASSWORD, code)
    assert info.value.reason is AuthFailure.REPLAY
    clock.advance(30)  # the next step's code works
    await service.authenticate("marie.dupont", GOOD_PASSWORD, totp.code_at(secret, clock.now))


async def test_five_failures_lock_then_the_lock_expires(
    service: AccountService, store: AsyncStore, clock: FakeClock
) -> None:
    secret = await _enrol(service)
    for _ in range(5):
        with pytest.raises(AuthError):
            await service.authenticate("marie.dupont", "Wrong-Password-77", "000000")
    stored = await store.get_account("marie.dupont")
    assert stored is not None and stored.failed_attempts == 5
    locked_until = clock.now.replace(minute=1)
    assert stored.locked_until == locked_until
    clock.advance(59)
    with pytest.raises(AuthError) as info:  # right factors, still locked: not even checked
        await service.authenticate("marie.dupont", GOOD_PASSWORD, totp.code_at(secret, clock.now))
    assert info.value.reason is AuthFailure.LOCKED
    assert info.value.locked_until == locked_until
    assert info.value.person_message == PERSON_MESSAGE
    clock.advance(1)
    who = await service.authenticate("marie.dupont", GOOD_PASSWORD, totp.code_at(secret, clock.now))
    assert who.username == "marie.dupont"
    stored = await store.get_account("marie.dupont")
    assert stored is not None and (stored.failed_attempts, stored.locked_until) == (0, None)


async def test_technician_cannot_enter_health_data(
    service: AccountService, store: AsyncStore, clock: FakeClock
) -> None:
    secret = await _enrol(service, "paul.tech", Role.TECHNICIAN)
    with pytest.raises(PermissionDenied) as info:
        await service.authenticate(
            "paul.tech",
            GOOD_PASSWORD,
            totp.code_at(secret, clock.now),
            permission=Permission.MANUAL_MEASUREMENT,
        )
    assert (
        str(info.value)
        == "The technician account 'paul.tech' is not allowed to manual measurement."
    )
    assert (
        "paul.tech",
        "authorise",
        "refused",
        "paul.tech",
        "permission=manual-measurement",
    ) in await _audit(store)


async def test_disable_unlock_and_enable(
    service: AccountService, store: AsyncStore, clock: FakeClock
) -> None:
    secret = await _enrol(service)
    for _ in range(5):
        with pytest.raises(AuthError):
            await service.authenticate("marie.dupont", "Wrong-Password-77", "000000")
    await service.unlock("marie.dupont", actor="cli:root")
    await service.set_disabled("marie.dupont", True, actor="cli:root")
    with pytest.raises(AuthError) as info:
        await service.authenticate("marie.dupont", GOOD_PASSWORD, totp.code_at(secret, clock.now))
    assert info.value.reason is AuthFailure.DISABLED
    await service.set_disabled("marie.dupont", False, actor="cli:root")
    await service.authenticate("marie.dupont", GOOD_PASSWORD, totp.code_at(secret, clock.now))
    rows = await _audit(store)
    assert ("cli:root", "account.unlocked", "ok", "marie.dupont", "") in rows
    assert ("cli:root", "account.disabled", "ok", "marie.dupont", "") in rows
    with pytest.raises(AccountError) as unknown:
        await service.unlock("nobody", actor="cli:root")
    assert unknown.value.reason is AccountErrorReason.UNKNOWN_ACCOUNT


async def test_changed_parameters_rehash_on_the_next_sign_in(
    store: AsyncStore, clock: FakeClock
) -> None:
    old = _service(store, clock, Argon2Parameters(time_cost=2, memory_cost_kib=8, parallelism=1))
    secret = await _enrol(old)
    new = _service(store, clock, CHEAP)
    await new.authenticate("marie.dupont", GOOD_PASSWORD, totp.code_at(secret, clock.now))
    stored = await store.get_account("marie.dupont")
    assert stored is not None and stored.password_hash.startswith("$argon2id$v=19$m=8,t=1,p=1$")
    assert ("marie.dupont", "account.rehashed", "ok", "marie.dupont", "") in await _audit(store)
    clock.advance(30)
    await new.authenticate("marie.dupont", GOOD_PASSWORD, totp.code_at(secret, clock.now))


async def test_audit_chain_holds_after_all_of_it(
    service: AccountService, store: AsyncStore, clock: FakeClock
) -> None:
    secret = await _enrol(service)
    with pytest.raises(AuthError):
        await service.authenticate("marie.dupont", "Wrong-Password-77", "000000")
    await service.authenticate("marie.dupont", GOOD_PASSWORD, totp.code_at(secret, clock.now))
    verdict = await store.verify_audit_chain()
    assert verdict.ok
