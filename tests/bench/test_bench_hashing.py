"""Cost of one password check with the production argon2id parameters (pytest-benchmark).

Run the figures with: .venv/bin/python -m pytest tests/bench/test_bench_hashing.py --benchmark-enable
"""

from __future__ import annotations

from typing import Any

from app.maintenance.hashing import PRODUCTION_PARAMETERS, PasswordHashing
from tests.maintenance.conftest import GOOD_PASSWORD


def test_bench_production_password_check(benchmark: Any) -> None:
    hashing = PasswordHashing(PRODUCTION_PARAMETERS)
    stored = hashing.hash(GOOD_PASSWORD)
    result = benchmark.pedantic(hashing.check, args=(stored, GOOD_PASSWORD), rounds=5, iterations=1)
    assert result.ok and not result.needs_rehash
