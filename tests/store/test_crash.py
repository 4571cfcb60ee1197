"""100 SIGKILLs at random points; nothing acknowledged is lost, nothing is half-written."""

from __future__ import annotations

import os
import random
from pathlib import Path

from app.store import FileKeySource
from app.store.inspection import open_for_inspection
from tests.store.crash_harness import run_kills


def test_a_hundred_kills_lose_nothing_acknowledged(tmp_path: Path) -> None:
    seed = int(os.environ.get("STORE_CRASH_SEED", random.randrange(1 << 30)))
    print(f"crash test seed: {seed} (set STORE_CRASH_SEED to replay)")
    data_dir = tmp_path / "data"
    acked = run_kills(data_dir, kills=100, seed=seed)
    assert len(acked.measurements) > 100  # the children really wrote
    conn, _ = open_for_inspection(data_dir, FileKeySource(data_dir, create=False))
    try:
        (interrupted,) = conn.execute(
            "SELECT count(*) FROM sessions WHERE end_reason = 'interrupted'"
        ).fetchone()
    finally:
        conn.close()
    # Kills landed mid-session, and the restart trace check above really ran on those.
    assert interrupted > 10
