"""The dummy hash an unknown username is checked against (app/maintenance/hashing.py): the
written production one is a real hash of the production parameters, so that a wrong username
still costs a full check (issue 14 took its computation out of the kiosk's start)."""

from __future__ import annotations

from app.maintenance.hashing import (
    _DUMMY_WORDS,
    PRODUCTION_DUMMY,
    PRODUCTION_PARAMETERS,
    Argon2Parameters,
    PasswordHashing,
)


def test_the_written_dummy_is_a_hash_of_the_production_parameters() -> None:
    hasher = PRODUCTION_PARAMETERS.hasher()
    assert hasher.verify(PRODUCTION_DUMMY, _DUMMY_WORDS)
    assert not hasher.check_needs_rehash(PRODUCTION_DUMMY)  # same t, m, p, lengths


def test_other_parameters_get_their_own_dummy_hashed_once() -> None:
    cheap = Argon2Parameters(time_cost=1, memory_cost_kib=8, parallelism=1)
    first, second = PasswordHashing(cheap), PasswordHashing(cheap)
    assert first._dummy is second._dummy  # hashed once for both
    assert not cheap.hasher().check_needs_rehash(first._dummy)
    assert first.check(first._dummy, _DUMMY_WORDS).ok
    assert not first.check(first._dummy, "something else").ok
