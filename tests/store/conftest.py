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
