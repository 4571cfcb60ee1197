"""Soak: 1000 SIGKILLs of a process writing sessions to the encrypted store.

Not in CI (tests/soak is ignored by pytest's configuration). Run:

    .venv/bin/python tests/soak/soak_store_crash.py [--kills 1000] [--seed N] [--dir PATH]

Exit code 0 when every kill left a clean, complete store; the seed is printed
so a failure can be replayed.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.store.crash_harness import run_kills  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=random.randrange(1 << 30))
    parser.add_argument("--dir", type=Path, default=None, help="keep the store here")
    parser.add_argument("--max-acks", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="store-soak-") as tmp:
        data_dir = (args.dir or Path(tmp)) / "data"
        print(f"seed {args.seed}, {args.kills} kills, store in {data_dir}", flush=True)
        started = time.monotonic()
        try:
            acked = run_kills(data_dir, args.kills, args.seed, max_acks=args.max_acks)
        except AssertionError as exc:
            print(f"FAILED: {exc}", file=sys.stderr)
            return 1
        elapsed = time.monotonic() - started
    print(
        f"ok: {args.kills} kills in {elapsed:.1f} s; {len(acked.sessions)} sessions and "
        f"{len(acked.measurements)} measurements acknowledged, all present and consistent"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
