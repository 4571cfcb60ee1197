"""Lockout after repeated failures, growing with each further failure.

Why growing and capped: five failures in a row lock the account for one
minute, and each failure after that (once the lock has expired) doubles the
lock, up to one hour. Guessing becomes hopeless (a few dozen tries a day)
while a professional who mistyped is back within a minute; a technician can
unlock at once (`kiosk accounts unlock`). Attempts made while locked are not
checked at all, so they neither extend the lock nor tell anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True, slots=True)
class LockoutPolicy:
    max_failures: int = 5
    base_lock_s: int = 60
    max_lock_s: int = 3600

    def lock_duration(self, failed_attempts: int) -> timedelta | None:
        """How long the account locks after its `failed_attempts`-th failure in a row."""
        if failed_attempts < self.max_failures:
            return None
        exponent = min(failed_attempts - self.max_failures, 32)
        seconds = min(self.base_lock_s * (2**exponent), self.max_lock_s)
        return timedelta(seconds=seconds)


DEFAULT_POLICY = LockoutPolicy()


def is_locked(locked_until: datetime | None, now: datetime) -> bool:
    return locked_until is not None and now < locked_until


def after_failure(
    policy: LockoutPolicy, failed_attempts: int, now: datetime
) -> tuple[int, datetime | None]:
    """(failed attempts, locked until) once one more failure is counted at `now`."""
    count = failed_attempts + 1
    duration = policy.lock_duration(count)
    return count, (now + duration if duration is not None else None)
