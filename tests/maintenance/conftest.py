"""Fixtures of the accounts tests: a cheap argon2 parameter set and fixed times.

The production parameters cost ~0.13 s a hash; tests that are not about the
parameters use the cheapest legal set so the suite stays fast. A dedicated
test checks the production numbers.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.maintenance.hashing import Argon2Parameters, PasswordHashing
from app.store import AsyncStore

CHEAP = Argon2Parameters(time_cost=1, memory_cost_kib=8, parallelism=1)
T0 = datetime(2026, 11, 23, 9, 0, 0, tzinfo=UTC)
GOOD_PASSWORD = "Tilleul-Orange-42"  # noqa: S105 - a test password


@pytest.fixture
def hashing() -> PasswordHashing:
    return PasswordHashing(CHEAP)


class FakeClock:
    """The one clock of a test: the store and the service both read it."""

    def __init__(self, start: datetime = T0) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        from datetime import timedelta

        self.now += timedelta(seconds=seconds)


def luhn_complete(first_ten: str) -> str:
    """An 11-digit RPPS-shaped number whose last digit is the Luhn key."""
    for last in "0123456789":
        candidate = first_ten + last
        total = 0
        for index, char in enumerate(reversed(candidate)):
            value = int(char) * (2 if index % 2 else 1)
            total += value - 9 if value > 9 else value
        if total % 10 == 0:
            return candidate
    raise AssertionError("unreachable")


async def audit_rows(store: AsyncStore, limit: int = 500) -> list[tuple[str, str, str, str, str]]:
    """The audit log's rows, as the store's public reader gives them."""
    rows = await store.audit_rows(limit)
    return [(r.actor, r.action, r.outcome, r.subject, r.detail) for r in rows]
