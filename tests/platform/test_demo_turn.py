"""Issue 18 in the demo configuration: no fixed TURN password anywhere, the platform mints.

The demo runs the real coturn in its TURN REST mode (`use-auth-secret`) with a secret
made at start; the site's `ice_servers` lists the relay's URL alone. The old static
user is refused by that coturn, the technician's TURN test gets a credential minted
for it only (cabin token required, traced, its sessions cut once the test is over) and
passes against the real relay. Each test fails on the demo before the change (static
`kiosk`/`demo-turn` user served in the site's configuration, no test-credential route).
"""

from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from app.call import messages as m
from app.call.ice import rtc_configuration
from app.call.signalling import WebSocketSignalling
from app.maintenance.turn import TEST_CREDENTIAL_PATH, check_site_turn
from app.sync.transport import CabinAuth
from devtools.platform.signalling import HUB_KEY, TURN_TEST_TTL_S, Hub
from devtools.turn import TURNSERVER
from kiosk_config import EXAMPLES, load_config
from kiosk_config.schema import IceServer
from kiosk_demo.world import DemoWorld, demo_world
from tests.drivers.card.real_parts import missing_real_part
from tests.platform.test_turn_revocation import Allocation, allocates

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90)]

OLD_STATIC = ("kiosk", "demo-turn")  # what the demo's coturn and site used to have


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[DemoWorld]:
    if shutil.which("turnserver") is None and not Path(TURNSERVER).is_file():
        missing_real_part("coturn's turnserver is not installed here (apt coturn).")
    config = load_config(EXAMPLES / "demo.toml")
    async with demo_world(config, data_dir=tmp_path / "data", port=0, turn=True) as running:
        assert running.turn is not None, "coturn did not start for the demo"
        yield running


def hub_of(world: DemoWorld) -> Hub:
    return world.platform.app[HUB_KEY]


async def test_the_demo_site_serves_no_turn_password_and_its_coturn_refuses_the_old_user(
    world: DemoWorld,
) -> None:
    servers = world.config.platform.ice_servers
    assert [str(u) for s in servers for u in s.urls] == [world.turn.url]
    assert all(s.username is None and s.credential is None for s in servers)
    assert "--use-auth-secret" in world.turn.command()
    assert not any(arg.startswith("--user=") for arg in world.turn.command())
    assert not await allocates(world.turn.port, *OLD_STATIC)
    async with aiohttp.ClientSession() as http:  # the console's page is given none either
        async with http.get(f"{world.base_url}/console/api/config") as r:
            assert r.status == 401


async def test_the_technicians_turn_test_passes_with_a_credential_minted_for_it(
    world: DemoWorld,
) -> None:
    hub = hub_of(world)
    steps = await check_site_turn(world.config)
    assert [s.ok for s in steps] == [True, True, True], steps
    assert steps[0].name == f"turn 127.0.0.1:{world.turn.port}/udp allocate"
    [traced] = hub.turn_test_trace
    assert (traced.cabin, traced.outcome) == (world.config.site.cabin_id, "minted")
    [(tag, cut_at)] = hub.turn_tests.items()
    assert tag.startswith("maint-") and cut_at <= time.time() + 2 * TURN_TEST_TTL_S + 1
    admin = world.turn.admin
    assert admin is not None
    for _ in range(30):  # the test closed its allocations (Refresh 0); coturn drops them
        if not await admin.sessions(tag):
            break
        await asyncio.sleep(0.1)
    assert await admin.sessions(tag) == []


async def test_a_test_credential_needs_the_cabin_token_and_ends_with_the_test(
    world: DemoWorld,
) -> None:
    hub = hub_of(world)
    url = world.base_url + TEST_CREDENTIAL_PATH
    async with aiohttp.ClientSession() as http:
        async with http.post(url) as anonymous:
            assert anonymous.status == 401
        auth = CabinAuth.for_config(world.config)
        assert auth is not None
        async with http.post(url, headers=await auth.headers(http)) as r:
            assert r.status == 200
            entry = (await r.json())["iceServers"][0]
    # the anonymous ask stopped at the platform's cabin-token gate, before the handler
    assert [t.outcome for t in hub.turn_test_trace] == ["minted"]
    assert world.config.site.cabin_id in entry["username"]
    # Someone keeps the minted credential and holds an allocation open past the test:
    held = await Allocation.open(world.turn.port, entry["username"], entry["credential"])
    try:
        assert await held.refresh() is None
        [tag] = hub.turn_tests
        hub.turn_tests[tag] = time.time() - 1  # the test's run is over
        assert await hub.end_turn_sessions() >= 1
        for _ in range(50):
            if await held.refresh() is not None:
                break
            await asyncio.sleep(0.1)
        assert await held.refresh() == 437  # coturn: no such allocation any more
    finally:
        held.close()


async def test_the_demo_kiosks_call_gets_a_credential_minted_for_it_that_relays(
    world: DemoWorld,
) -> None:
    """What `CallSession._negotiate` asks at each negotiation, in the demo: the relay's
    credential for this call, tagged with it, that allocates on the demo's coturn; the
    site's URL-only entry is never what the call uses while the platform answers."""
    auth = CabinAuth.for_config(world.config)
    signalling = WebSocketSignalling(world.base_url, auth=auth)
    cabin = world.config.site.cabin_id
    await signalling.connect(m.Hello("0123456789abcdef0123456789abcdef", cabin))
    try:
        minted = await signalling.call_ice_servers()
        assert minted is not None
        [server] = minted
        assert [str(u) for u in server.urls] == [world.turn.url]
        assert server.username is not None and server.credential is not None
        assert server.username.split(":", 1)[1].startswith(f"{cabin}.")
        assert await allocates(world.turn.port, server.username, server.credential)
    finally:
        await signalling.close()


def test_the_kiosks_call_leaves_out_a_turn_url_that_has_no_credential() -> None:
    """The site's URL-only entry is only a fallback: without the platform's minted answer
    an Allocate with no credential would be refused, so aiortc is not given it."""
    site = (
        IceServer(urls=("turn:127.0.0.1:3478?transport=udp", "stun:127.0.0.1:3478")),
        IceServer(urls=("turns:relay.example.net",)),
    )
    [stun_only] = rtc_configuration(site).iceServers or []
    assert stun_only.urls == ["stun:127.0.0.1:3478"]
    minted = IceServer(urls=("turn:127.0.0.1:3478",), username="1:CAB.ref", credential="x")
    [kept] = rtc_configuration((minted,)).iceServers or []
    assert (kept.urls, kept.username) == (["turn:127.0.0.1:3478"], "1:CAB.ref")
