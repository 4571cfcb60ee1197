"""100 SIGKILLs at random points; nothing acknowledged is lost, nothing is half-written."""

from __future__ import annotations

import os
import random
from pathlib import Path

from tests.store.crash_harness import run_kills


def test_a_hundred_kills_lose_nothing_acknowledged(tmp_path: Path) -> None:
    seed = int(os.environ.get("STORE_CRASH_SEED", random.randrange(1 << 30)))
    print(f"crash test seed: {seed} (set STORE_CRASH_SEED to replay)")
    acked = run_kills(tmp_path / "data", kills=100, seed=seed)
    assert len(acked.measurements) > 100  # the children really wrote
