from __future__ import annotations

from datetime import timedelta

from app.maintenance.lockout import LockoutPolicy, after_failure, is_locked
from tests.maintenance.conftest import T0


def test_lock_grows_from_the_fifth_failure_and_is_capped() -> None:
    policy = LockoutPolicy()
    assert [policy.lock_duration(n) for n in range(1, 5)] == [None] * 4
    assert [policy.lock_duration(n) for n in range(5, 12)] == [
        timedelta(seconds=s) for s in (60, 120, 240, 480, 960, 1920, 3600)
    ]
    assert policy.lock_duration(500) == timedelta(seconds=3600)


def test_after_failure_counts_and_locks() -> None:
    policy = LockoutPolicy()
    assert after_failure(policy, 3, T0) == (4, None)
    assert after_failure(policy, 4, T0) == (5, T0 + timedelta(seconds=60))


def test_is_locked_until_the_instant() -> None:
    until = T0 + timedelta(seconds=60)
    assert is_locked(until, T0 + timedelta(seconds=59))
    assert not is_locked(until, until)
    assert not is_locked(None, T0)
