"""AccountService on the real SQCipher store: creation, sign-in, lockout, replay, audit."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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
from app.maintenance.lockout import LockoutPolicy
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
    clock.advance(30)  # unlock burns the codes shown until then (see the unlock tests)
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


# Issue 18, part 4: codes in other digits, the lockout they feed, and unlock.

FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


async def test_a_code_typed_in_fullwidth_or_arabic_indic_digits_signs_in(
    service: AccountService, clock: FakeClock
) -> None:
    secret = await _enrol(service)
    for table in (FULLWIDTH, ARABIC_INDIC):
        who = await service.authenticate(
            "marie.dupont", GOOD_PASSWORD, totp.code_at(secret, clock.now).translate(table)
        )
        assert who.username == "marie.dupont"
        clock.advance(30)


async def test_twenty_wrong_codes_in_other_digits_are_refused_counted_audited_and_lock(
    service: AccountService, store: AsyncStore, clock: FakeClock
) -> None:
    """The attack run: 20 tries raised TypeError, left 0 audit rows and counted nothing."""
    secret = await _enrol(service)
    code = totp.code_at(secret, clock.now)
    wrong = f"{(int(code) + 500_000) % 1_000_000:06d}"
    tries = [wrong.translate(FULLWIDTH), wrong.translate(ARABIC_INDIC), "²³⁴⁵⁶⁷", "١٢٣", "x" * 9]
    reasons = []
    for index in range(20):
        with pytest.raises(AuthError) as info:
            await service.authenticate("marie.dupont", GOOD_PASSWORD, tries[index % len(tries)])
        assert info.value.person_message == PERSON_MESSAGE
        reasons.append(info.value.reason)
    assert reasons == [AuthFailure.BAD_CODE] * 5 + [AuthFailure.LOCKED] * 15
    stored = await store.get_account("marie.dupont")
    assert stored is not None and stored.failed_attempts == 5
    assert stored.locked_until == clock.now.replace(minute=1)
    refused = [r for r in await _audit(store) if r[1:3] == ("auth.sign-in", "refused")]
    assert len(refused) == 20
    assert [r[4].split()[0] for r in refused] == ["bad-code"] * 5 + ["locked"] * 15


async def test_unlock_clears_the_lock_and_burns_the_codes_shown_until_now(
    service: AccountService, store: AsyncStore, clock: FakeClock
) -> None:
    """A code typed with a wrong password was not used up, and someone may have watched it:
    after the unlock it is refused; the next one works."""
    secret = await _enrol(service)
    watched = totp.code_at(secret, clock.now)
    for _ in range(5):
        with pytest.raises(AuthError):
            await service.authenticate("marie.dupont", "Wrong-Password-77", watched)
    clock.advance(5)
    await service.unlock("marie.dupont", actor="cli:root")
    stored = await store.get_account("marie.dupont")
    assert stored is not None
    assert (stored.failed_attempts, stored.locked_until) == (0, None)
    assert stored.last_totp_step == totp.step_at(clock.now)
    with pytest.raises(AuthError) as info:
        await service.authenticate("marie.dupont", GOOD_PASSWORD, watched)
    assert info.value.reason is AuthFailure.REPLAY
    clock.advance(30)
    who = await service.authenticate("marie.dupont", GOOD_PASSWORD, totp.code_at(secret, clock.now))
    assert who.username == "marie.dupont"
    assert ("cli:root", "account.unlocked", "ok", "marie.dupont", "") in await _audit(store)


async def test_unlock_never_lowers_the_replay_floor(
    service: AccountService, store: AsyncStore, clock: FakeClock
) -> None:
    """A code already accepted stays refused after an unlock, even if the clock went back."""
    secret = await _enrol(service)
    clock.advance(90)
    used = totp.code_at(secret, clock.now)
    await service.authenticate("marie.dupont", GOOD_PASSWORD, used)
    used_step = totp.step_at(clock.now)
    clock.advance(-90)  # the kiosk's clock is set back (a wrong NTP answer, an RTC reset)
    await service.unlock("marie.dupont", actor="cli:root")
    stored = await store.get_account("marie.dupont")
    assert stored is not None and stored.last_totp_step == used_step
    clock.advance(90)  # back where the code was accepted: still refused
    with pytest.raises(AuthError) as info:
        await service.authenticate("marie.dupont", GOOD_PASSWORD, used)
    assert info.value.reason is AuthFailure.REPLAY


async def test_usernames_no_account_can_have_are_unknown_without_asking_the_store(
    service: AccountService, store: AsyncStore
) -> None:
    await _enrol(service)
    for typed in ("\ud800marie", "m" * 100_000, "", "marie dupont", "ma\x00rie"):
        with pytest.raises(AuthError) as info:
            await service.authenticate(typed, "\udcff" + GOOD_PASSWORD, "１２３４５６")
        assert info.value.reason is AuthFailure.UNKNOWN_USER
    refused = [r for r in await _audit(store) if r[1:3] == ("auth.sign-in", "refused")]
    assert [r[4] for r in refused] == ["unknown-user"] * 5


async def test_a_password_that_is_not_utf8_is_a_bad_password(
    service: AccountService, store: AsyncStore, clock: FakeClock
) -> None:
    secret = await _enrol(service)
    with pytest.raises(AuthError) as info:
        await service.authenticate(
            "marie.dupont", GOOD_PASSWORD + "\ud800", totp.code_at(secret, clock.now)
        )
    assert info.value.reason is AuthFailure.BAD_PASSWORD
    stored = await store.get_account("marie.dupont")
    assert stored is not None and stored.failed_attempts == 1


_UNICODE_DIGITS = st.text(
    alphabet=st.characters(categories=["Nd", "No", "Nl"]) | st.sampled_from(" \u00a0\u3000"),
    max_size=10,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_UNICODE_DIGITS, min_size=1, max_size=6))
def test_unicode_digit_codes_are_refused_uniformly_and_counted_on_the_real_store(
    codes: list[str],
) -> None:
    """Property (real SQLCipher store, real argon2id, real TOTP): any string of Unicode
    digits is either the current code (signed in) or refused with the one sentence, counted
    and audited; nothing else ever comes out."""

    async def scenario(folder: Path) -> None:
        clock = FakeClock()
        store = await AsyncStore.open(folder / "data", FileKeySource(folder / "data"), clock)
        try:
            service = AccountService(
                StoreAccountRepository(store, actor="cli:test"),
                StoreAuditSink(store),
                hashing=PasswordHashing(CHEAP),
                policy=LockoutPolicy(max_failures=1_000),  # count, never lock, here
                clock=clock,
            )
            secret = await _enrol(service)
            failures = 0
            for typed in codes:
                window = {
                    totp.code_at(secret, clock.now + timedelta(seconds=d)) for d in (-30, 0, 30)
                }
                if totp.normalise_code(typed) in window:
                    await service.authenticate("marie.dupont", GOOD_PASSWORD, typed)
                    failures = 0
                else:
                    with pytest.raises(AuthError) as info:
                        await service.authenticate("marie.dupont", GOOD_PASSWORD, typed)
                    assert info.value.person_message == PERSON_MESSAGE
                    assert info.value.reason in {AuthFailure.BAD_CODE, AuthFailure.REPLAY}
                    failures += 1
                    stored = await store.get_account("marie.dupont")
                    assert stored is not None and stored.failed_attempts == failures
                clock.advance(31)
            rows = await _audit(store)
            refused = [r for r in rows if r[1:3] == ("auth.sign-in", "refused")]
            signed = [r for r in rows if r[1:3] == ("auth.sign-in", "ok")]
            assert len(refused) + len(signed) == len(codes)
        finally:
            await store.close()

    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(scenario(Path(folder)))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=40), st.text(max_size=40), st.text(max_size=20))
def test_any_text_in_the_three_fields_is_a_sign_in_or_an_audited_refusal(
    username: str, password: str, code: str
) -> None:
    """Property (real store): whatever is typed, the answer is a Professional or an
    AuthError with the one sentence, and every attempt leaves exactly one audit row."""

    async def scenario(folder: Path) -> None:
        clock = FakeClock()
        store = await AsyncStore.open(folder / "data", FileKeySource(folder / "data"), clock)
        try:
            service = _service(store, clock)
            await _enrol(service)
            before = len(await _audit(store))
            for name in (username, "marie.dupont"):
                try:
                    await service.authenticate(name, password, code)
                except AuthError as exc:
                    assert exc.person_message == PERSON_MESSAGE
            rows = (await _audit(store))[before:]
            assert [r[1] for r in rows if r[1] == "auth.sign-in"] == ["auth.sign-in"] * 2
        finally:
            await store.close()

    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(scenario(Path(folder)))
