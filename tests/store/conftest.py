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
