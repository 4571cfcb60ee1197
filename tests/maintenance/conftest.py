"""Fixtures of the accounts tests: a cheap argon2 parameter set and fixed times.

The production parameters cost ~0.13 s a hash; tests that are not about the
parameters use the cheapest legal set so the suite stays fast. A dedicated
test checks the production numbers.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.maintenance.hashing import Argon2Parameters, PasswordHashing

CHEAP = Argon2Parameters(time_cost=1, memory_cost_kib=8, parallelism=1)
T0 = datetime(2026, 11, 23, 9, 0, 0, tzinfo=UTC)
GOOD_PASSWORD = "Tilleul-Orange-42"  # noqa: S105 - a test password


@pytest.fixture
def hashing() -> PasswordHashing:
    return PasswordHashing(CHEAP)
