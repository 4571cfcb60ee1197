"""The demo world can enrol its cabin: anonymous kiosks refused, the configured secret works."""

from __future__ import annotations

import stat
from pathlib import Path

import aiohttp
import pytest

from app.sync.transport import CabinAuth, PlatformClient
from kiosk_config import EXAMPLES, load_config
from kiosk_demo.world import demo_world

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90)]


async def test_an_enrolled_demo_refuses_an_anonymous_kiosk_and_accepts_its_cabin(
    tmp_path: Path,
) -> None:
    config = load_config(EXAMPLES / "demo.toml")
    data = tmp_path / "data"
    async with demo_world(config, data_dir=data, port=0, turn=False, enrol_cabin=True) as world:
        secret = world.config.platform.cabin_key_file
        assert secret is not None and stat.S_IMODE(secret.stat().st_mode) == 0o600
        auth = CabinAuth.for_config(world.config)
        assert auth is not None
        async with aiohttp.ClientSession() as http:
            assert (await PlatformClient(http, world.base_url).post_bundle(b"{}")).status == 401
            proven = PlatformClient(http, world.base_url, auth=auth)
            assert (await proven.post_bundle(b"{}")).status != 401
