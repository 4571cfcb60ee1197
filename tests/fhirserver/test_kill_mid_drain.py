"""A kiosk killed (SIGKILL, a real process) in the middle of a drain, then restarted.

The kiosk's sender runs in its own process (tests/fhirserver/kill_child.py)
over the real SQLCipher store and drains generated sessions (documents as
Binary, bundles split to the server's limits) into the independent engine. It
is killed twice: once right after the engine answered a request whose answer
the kiosk never read (the engine stored it, the store still says in flight),
once while a request is leaving. A third process drains the rest. Every
session ends acknowledged once, in order, and no business identifier exists
twice on the engine.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import aiohttp
import pytest

from app.store import AsyncStore, FileKeySource, OutboxState
from tests.fhirserver.conftest import ROOT, running_engine
from tests.fhirserver.corpus import SEED, corpus
from tests.fhirserver.test_engine_corpus import (
    assert_no_duplicates,
    engine_tokens,
    expected_tokens,
)
from tests.sync.conftest import put_sessions
from tests.sync.sessions import TEST_SITE

COUNT = 24


async def run_child(store_dir: Path, url: str, strategy: str, mode: str, k: int) -> list[str]:
    """The child's lines; killed (SIGKILL) as soon as it reaches request `k` in `mode`."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.fhirserver.kill_child",
        str(store_dir),
        url,
        strategy,
        mode,
        str(k),
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    lines: list[str] = []
    try:
        async with asyncio.timeout(240):
            while line := (await process.stdout.readline()).decode().strip():
                lines.append(line)
                if line.startswith(("sending ", "replied ")):
                    process.kill()
                    break
            await process.wait()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    return lines


@pytest.mark.parametrize("strategy", ["update-create", "conditional-create"])
async def test_a_kill_mid_drain_then_a_restart_sends_the_rest_exactly_once(
    tmp_path: Path, strategy: str
) -> None:
    print(f"corpus seed: {SEED}")
    sessions = corpus(COUNT)
    store_dir = tmp_path / "store"
    store = await AsyncStore.open(store_dir, FileKeySource(store_dir))
    try:
        await put_sessions(store, TEST_SITE.cabin_id, sessions)
    finally:
        await store.close()

    async with running_engine(transactions=True) as url:
        first = await run_child(store_dir, url, strategy, "replied", 9)
        assert first[-1] == "replied 9", first
        second = await run_child(store_dir, url, strategy, "sending", 7)
        assert second[-1] == "sending 7", second
        third = await run_child(store_dir, url, strategy, "none", 0)
        print(f"{strategy}: first {first}\nsecond {second}\nthird {third}")
        assert third[-1].startswith("drained "), third
        _, acknowledged, quarantined, retry = third[-1].split()
        assert (quarantined, retry) == ("0", "None")

        acks = [line.split()[1] for line in (*first, *second, *third) if line.startswith("ack ")]
        # Each session acknowledged once, in order, across the kills.
        assert acks == [s.session_id for s in sessions]
        assert int(acknowledged) == COUNT - len(first) - len(second) + 2
        # The session whose answer was never read was sent again (not lost, not doubled).
        tokens = await engine_tokens_of(url)
        assert_no_duplicates(tokens)
        assert expected_tokens(sessions) <= set(tokens)

    store = await AsyncStore.open(store_dir, FileKeySource(store_dir))
    try:
        items = [await store.outbox_item(i + 1) for i in range(COUNT)]
    finally:
        await store.close()
    assert [i.state for i in items] == [OutboxState.ACKNOWLEDGED] * COUNT
    assert max(i.attempts for i in items) >= 2  # the killed sessions were tried again


async def engine_tokens_of(url: str) -> list[tuple[str, ...]]:
    async with aiohttp.ClientSession() as http:
        return await engine_tokens(http, url)
