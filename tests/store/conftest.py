from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.store import FileKeySource, RetentionPolicy, Store
from tests.store.factories import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def store(data_dir: Path, clock: FakeClock) -> Iterator[Store]:
    s = Store.open(data_dir, FileKeySource(data_dir), clock, policy=RetentionPolicy())
    yield s
    s.close()


def raw_connection(data_dir: Path):  # type: ignore[no-untyped-def]
    """A plain SQLCipher connection to the store, as an attacker holding the key would have."""
    from app.store.connection import connect

    return connect(data_dir / "store.db", FileKeySource(data_dir, create=False).load())


def die_with_open_wal(data_dir: Path, sessions: int = 2) -> None:
    """A child process writes and exits without closing: the WAL stays, as after a crash."""
    import multiprocessing
    import os

    from tests.store.factories import FakeClock, temperature

    def child() -> None:
        s = Store.open(data_dir, FileKeySource(data_dir), FakeClock())
        for n in range(sessions):
            s.begin_session(f"w-{n}", "CAB-01")
            s.record_measurement(f"w-{n}", temperature(f"wm-{n}"))
        os._exit(0)

    proc = multiprocessing.get_context("fork").Process(target=child)
    proc.start()
    proc.join(timeout=30)
    assert proc.exitcode == 0
