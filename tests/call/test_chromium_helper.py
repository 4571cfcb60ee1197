"""The test browser cleans up after itself even when it fails to start."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from tests.call.chromium import Chromium


async def _group_is_gone(pgid: int, within_s: float = 5.0) -> bool:
    """True once no process is left in the group (killed children take a moment to be reaped)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within_s
    while loop.time() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        await asyncio.sleep(0.05)
    return False


async def test_a_start_that_times_out_leaves_no_process_and_no_profile() -> None:
    chromium = Chromium()
    profile = Path(chromium._profile.name)
    assert profile.is_dir()
    with pytest.raises(TimeoutError):
        await chromium.start(timeout=0.001)  # too short for Chromium to print its port
    assert chromium.process is not None
    assert chromium.process.returncode is not None
    assert not profile.exists()
    assert await _group_is_gone(chromium.process.pid)


async def test_close_ends_the_whole_process_group() -> None:
    chromium = await Chromium().start()
    assert chromium.process is not None
    pgid = chromium.process.pid
    assert os.getpgid(pgid) == pgid  # the browser leads its own group
    page = await chromium.new_page("data:text/html,<p>hi</p>")
    assert await page.evaluate("document.querySelector('p').textContent") == "hi"
    await chromium.close()
    assert await _group_is_gone(pgid)
