"""Issue 18: a TURN credential stops working after its call, against the real coturn.

coturn's TURN REST scheme (`use-auth-secret`) checks the username's timestamp only
when a relay session first authenticates (its Allocate): a Refresh on a live
allocation is checked against the key the session keeps, never the timestamp
(coturn 4.6, ns_turn_server.c `check_stun_auth`). So an allocation outlives its
credential unless it is cancelled: the first test shows it, the others show the
platform ending a call's relay sessions through coturn's CLI at hang-up, and a
credential that opens nothing once its short validity is over. Each test fails on
the code before the fix (credentials valid two hours, no cancellation).
"""

from __future__ import annotations

import asyncio
import json
import shutil
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aioice import stun
from aioice.turn import TurnClientUdpProtocol
from hypothesis import given
from hypothesis import strategies as st

from app.call import messages as m
from devtools.platform.cli import EnrolmentError, enrolled_cabins
from devtools.platform.signalling import HUB_KEY, Hub, TurnRest, install
from devtools.platform.testing import running_platform
from devtools.turn import TURNSERVER, TurnAdmin, TurnAdminError, TurnServer, parse_sessions
from tests.drivers.card.real_parts import missing_real_part
from tests.platform.test_security import (
    CAB_A,
    SESSION,
    Clock,
    auth_for,
    bearer,
    doctor_socket,
    kiosk_socket,
    next_of,
    registry,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

SECRET = "shared-by-platform-and-coturn"  # noqa: S105 - test secret
CLI_PASSWORD = "cli-of-the-test"  # noqa: S105 - test secret


@pytest.fixture(scope="module")
def coturn() -> Iterator[TurnServer]:
    if shutil.which("turnserver") is None and not Path(TURNSERVER).is_file():
        missing_real_part("coturn's turnserver is not installed here (apt coturn).")
    with TurnServer(auth_secret=SECRET, cli_password=CLI_PASSWORD) as server:
        yield server


class Allocation:
    """One real TURN allocation (aioice's client, the one aiortc uses) we refresh by hand."""

    def __init__(self, protocol: TurnClientUdpProtocol, transport: Any) -> None:
        self.protocol, self.transport = protocol, transport

    @classmethod
    async def open(cls, port: int, username: str, password: str) -> Allocation:
        loop = asyncio.get_running_loop()
        transport, protocol = await loop.create_datagram_endpoint(
            lambda: TurnClientUdpProtocol(
                ("127.0.0.1", port),
                username=username,
                password=password,
                lifetime=600,
                channel_refresh_time=300,
            ),
            remote_addr=("127.0.0.1", port),
        )
        try:
            await protocol.connect()
        except BaseException:
            transport.close()
            raise
        assert protocol.refresh_task is not None
        protocol.refresh_task.cancel()  # refreshed by the test, when it says
        return cls(protocol, transport)

    async def refresh(self) -> int | None:
        """None when coturn refreshed it, else the STUN error code (437: no allocation)."""
        request = stun.Message(message_method=stun.Method.REFRESH, message_class=stun.Class.REQUEST)
        request.attributes["LIFETIME"] = 600
        try:
            await self.protocol.request_with_retry(request)
        except stun.TransactionFailed as exc:
            code: int = exc.response.attributes["ERROR-CODE"][0]
            return code
        return None

    def close(self) -> None:
        self.transport.close()


async def allocates(port: int, username: str, password: str) -> bool:
    try:
        allocation = await Allocation.open(port, username, password)
    except (stun.TransactionFailed, stun.TransactionTimeout, ConnectionError):
        return False
    allocation.close()
    return True


async def gone(allocation: Allocation, timeout_s: float = 5.0) -> int | None:
    """Refresh until coturn refuses (the cancellation is asynchronous); the refusal code."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        code = await allocation.refresh()
        if code is not None:
            return code
        await asyncio.sleep(0.2)
    return None


def credential(ice: list[dict[str, Any]]) -> tuple[str, str]:
    (server,) = [s for s in ice if "username" in s]
    return server["username"], server["credential"]


async def test_coturn_does_not_check_the_timestamp_on_refresh(coturn: TurnServer) -> None:
    """Why expiry alone is not enough: a live allocation outlives its credential."""
    username, password = coturn.mint("CAB-TEST-A1.expiry-only", int(time.time()) + 2)
    allocation = await Allocation.open(coturn.port, username, password)
    try:
        await asyncio.sleep(max(0.0, int(username.split(":")[0]) - time.time() + 1.5))
        assert not await allocates(coturn.port, username, password)  # no new allocation
        assert await allocation.refresh() is None  # but the old one is refreshed still
    finally:
        allocation.close()


async def test_coturn_s_cli_lists_and_cancels_sessions_and_wants_its_password(
    coturn: TurnServer,
) -> None:
    admin = coturn.admin
    assert admin is not None and CLI_PASSWORD not in repr(admin)
    assert f"--cli-password={CLI_PASSWORD}" in coturn.command()
    assert "--no-cli" not in coturn.command()
    username, password = coturn.mint("CAB-TEST-A1.cli0123456789ab", int(time.time()) + 60)
    allocation = await Allocation.open(coturn.port, username, password)
    try:
        await asyncio.sleep(0.2)
        assert [user for _, user in await admin.sessions("cli0123456789ab")] == [username]
        assert await admin.sessions("nothing-of-that-name") == []
        assert await admin.cancel("cli0123456789ab") == 1
        assert await gone(allocation) == 437  # the credential is valid, the allocation gone
        with pytest.raises(TurnAdminError, match="refused the password"):
            await TurnAdmin("127.0.0.1", admin.port, "guessed").sessions("x")
        with pytest.raises(ValueError, match="one word"):
            await admin.sessions("a b")
    finally:
        allocation.close()
    plain = TurnServer(port=23478, min_port=23500, max_port=23510, auth_secret=SECRET)
    assert plain.admin is None and plain.cli_port is None  # no CLI unless asked


@pytest.fixture
async def platform_with_turn(
    tmp_path: Path, coturn: TurnServer
) -> AsyncIterator[tuple[str, Hub, Clock]]:
    clock = Clock()
    turn = TurnRest((coturn.url,), SECRET, ttl_s=3.0, admin=coturn.admin)

    def extension(app: Any) -> None:
        install(app, clock=clock, turn=turn)

    async with running_platform(tmp_path, cabins=registry(clock), extensions=(extension,)) as (
        base,
        handle,
    ):
        yield base, handle.app[HUB_KEY], clock


async def test_a_call_s_turn_credentials_stop_working_when_it_ends(
    platform_with_turn: tuple[str, Hub, Clock], coturn: TurnServer
) -> None:
    base, hub, clock = platform_with_turn
    async with aiohttp.ClientSession() as http:
        a_headers = await bearer(http, auth_for(base, clock))
        doctor = await doctor_socket(http, base)
        kiosk, _ = await kiosk_socket(http, base, a_headers)
        await doctor.send_str(json.dumps({"type": "take", "session_id": SESSION}))
        doctor_credential = credential((await next_of(doctor, "patient"))["iceServers"])
        async with http.get(f"{base}/cabin/ice/{SESSION}", headers=a_headers) as r:
            kiosk_credential = credential((await r.json())["iceServers"])
        kiosk_relay = await Allocation.open(coturn.port, *kiosk_credential)
        doctor_relay = await Allocation.open(coturn.port, *doctor_credential)
        try:
            assert await kiosk_relay.refresh() is None and await doctor_relay.refresh() is None
            await kiosk.send_str(m.encode(m.Bye("patient")))  # hang-up
            await next_of(doctor, "bye")
            # Both sides' allocations are gone at once, not at the credential's expiry.
            assert await gone(kiosk_relay) in (401, 437)
            assert await gone(doctor_relay) in (401, 437)
            # And the credentials open nothing once their few seconds are over.
            expiry = int(kiosk_credential[0].split(":")[0])
            await asyncio.sleep(max(0.0, expiry - time.time() + 1.5))
            assert not await allocates(coturn.port, *kiosk_credential)
            assert not await allocates(coturn.port, *doctor_credential)
        finally:
            kiosk_relay.close()
            doctor_relay.close()
            await kiosk.close()
            await doctor.close()
    assert CAB_A in kiosk_credential[0] and "dr-martin" in doctor_credential[0]


async def test_an_allocation_opened_after_the_hang_up_is_swept_too(
    platform_with_turn: tuple[str, Hub, Clock], coturn: TurnServer
) -> None:
    """A credential minted just before the end still allocates for a few seconds: the
    platform sweeps the ended call's sessions until its credentials are over."""
    base, hub, clock = platform_with_turn
    async with aiohttp.ClientSession() as http:
        a_headers = await bearer(http, auth_for(base, clock))
        kiosk, _ = await kiosk_socket(http, base, a_headers)
        async with http.get(f"{base}/cabin/ice/{SESSION}", headers=a_headers) as r:
            minted = credential((await r.json())["iceServers"])
        await kiosk.send_str(m.encode(m.Bye("patient")))
        await kiosk.close()
        for _ in range(100):
            if not hub.rooms and not hub.pending:  # the hang-up's own cancellation is done
                break
            await asyncio.sleep(0.05)
        late = await Allocation.open(coturn.port, *minted)  # after the hang-up, in time
        try:
            await asyncio.sleep(0.2)
            assert await hub.end_turn_sessions() == 1  # what the sweeper runs every 5 s
            assert await gone(late) in (401, 437)
        finally:
            late.close()
        async with http.get(f"{base}/cabin/ice/{SESSION}", headers=a_headers) as r:
            assert r.status == 401  # and nothing more is minted for the ended call


async def test_a_room_that_expires_ends_its_relay_sessions_too(
    platform_with_turn: tuple[str, Hub, Clock], coturn: TurnServer
) -> None:
    base, hub, clock = platform_with_turn
    async with aiohttp.ClientSession() as http:
        a_headers = await bearer(http, auth_for(base, clock))
        kiosk, _ = await kiosk_socket(http, base, a_headers)
        async with http.get(f"{base}/cabin/ice/{SESSION}", headers=a_headers) as r:
            minted = credential((await r.json())["iceServers"])
        relay = await Allocation.open(coturn.port, *minted)
        try:
            await kiosk.close()  # the cabin vanished without a bye
            for _ in range(100):
                if hub.rooms[SESSION].kiosk is None:
                    break
                await asyncio.sleep(0.05)
            assert await relay.refresh() is None  # within the grace: the relay stays
            hub.room_grace_s = 0.0
            clock.t += 1
            assert hub.sweep() == [SESSION]
            assert await gone(relay) in (401, 437)
        finally:
            relay.close()


# ---- the parsers: coturn's listing and the command line's enrolment -----------------------------

_LISTING = """
    1) id=001000000000000001, user <1796312957:CAB-A.0123456789abcdef>:
      realm: telecabine.test
      started 1 secs ago
      client addr 127.0.0.1:34829, server addr 127.0.0.1:25579

    2) id=001000000000000002, user <1796312958:dr-martin.0123456789abcdef>:
      realm: telecabine.test

  Total sessions: 2

> """


def test_a_session_listing_is_read_as_coturn_prints_it() -> None:
    assert parse_sessions(_LISTING, "0123456789abcdef") == [
        ("001000000000000001", "1796312957:CAB-A.0123456789abcdef"),
        ("001000000000000002", "1796312958:dr-martin.0123456789abcdef"),
    ]
    assert parse_sessions(_LISTING, "fedcba") == []  # psp matched more than asked: filtered
    assert parse_sessions("\r\n  Total sessions: 0\r\n\r\n> ", "x") == []


@given(st.text(max_size=300), st.text(min_size=1, max_size=20))
def test_any_listing_gives_sessions_holding_the_fragment_never_an_exception(
    listing: str, fragment: str
) -> None:
    for sid, user in parse_sessions(listing, fragment):
        assert sid.isdigit() and fragment in user


@given(st.lists(st.text(max_size=40), max_size=3))
def test_any_cabin_argument_is_enrolled_or_one_sentence(specs: list[str]) -> None:
    try:
        enrolled_cabins(specs)
    except EnrolmentError as exc:
        assert str(exc).startswith("--cabin ")


def test_a_cabin_argument_enrols_the_cabin_with_its_doctors(tmp_path: Path) -> None:
    secret = tmp_path / "s"
    secret.write_text("0f" * 32 + "\n")
    registry = enrolled_cabins([f"CAB-CLI-01:{secret}:dr-martin,dr-diallo"])
    cabin = registry.cabin("CAB-CLI-01")
    assert cabin is not None and cabin.secret == bytes([15] * 32)
    assert cabin.doctors == {"dr-martin", "dr-diallo"}
    for bad, sentence in (
        ("CAB-CLI-01", "CABIN_ID:SECRET_FILE"),
        (f"CAB-CLI-01:{tmp_path / 'none'}", "cannot be read"),
    ):
        with pytest.raises(EnrolmentError, match=sentence):
            enrolled_cabins([bad])
