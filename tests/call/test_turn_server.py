"""coturn for the demo and the tests: instances side by side never share a port."""

from __future__ import annotations

import pytest

from devtools.turn import BLOCK_HIGH, BLOCK_LOW, TURNSERVER, TurnServer, rest_credential
from tests.call.conftest import require_program

pytestmark = pytest.mark.integration


def test_two_servers_run_side_by_side_on_their_own_ports() -> None:
    require_program(TURNSERVER, "coturn")
    with TurnServer() as first, TurnServer() as second:
        assert first._answers_stun() and second._answers_stun()
        assert first.port != second.port
        assert first.port not in (3478, 3479) and second.port not in (3478, 3479)
        for server in (first, second):
            assert BLOCK_LOW <= server.port < server.min_port < server.max_port < BLOCK_HIGH
            assert f"--listening-port={server.port}" in server.command()
            assert f"--min-port={server.min_port}" in server.command()
            assert f"--max-port={server.max_port}" in server.command()
        ranges = sorted([(first.min_port, first.max_port), (second.min_port, second.max_port)])
        assert ranges[0][1] < ranges[1][0]  # relay ranges do not overlap
        assert second.port not in range(first.min_port, first.max_port + 1)
        assert first.port not in range(second.min_port, second.max_port + 1)


def test_an_explicit_port_and_range_are_kept() -> None:
    server = TurnServer(port=23478, min_port=23500, max_port=23510)
    assert (server.port, server.min_port, server.max_port) == (23478, 23500, 23510)
    assert server.url == "turn:127.0.0.1:23478?transport=udp"


async def _allocates(port: int, username: str, password: str) -> bool:
    """A real TURN Allocate (aioice's client, long-term credentials) with this credential."""
    import asyncio

    from aioice import stun
    from aioice.turn import create_turn_endpoint

    try:
        transport, _ = await create_turn_endpoint(
            asyncio.DatagramProtocol, ("127.0.0.1", port), username, password
        )
    except (stun.TransactionFailed, stun.TransactionTimeout, ConnectionError):
        return False
    transport.close()
    return True


async def test_a_rest_credential_works_until_its_expiry_and_not_after() -> None:
    import time

    require_program(TURNSERVER, "coturn")
    with TurnServer(auth_secret="s3cret-of-the-platform") as turn:  # noqa: S106 - test secret
        assert "--use-auth-secret" in turn.command()
        assert not any(arg.startswith("--user=") for arg in turn.command())
        now = int(time.time())
        username, password = turn.mint("CAB-TEST-A1", now + 3)
        assert username == f"{now + 3}:CAB-TEST-A1"
        assert rest_credential("s3cret-of-the-platform", "CAB-TEST-A1", now + 3) == (
            username,
            password,
        )
        assert await _allocates(turn.port, username, password)
        assert not await _allocates(turn.port, username, password[:-4] + "AAA=")  # forged
        wrong_secret = rest_credential("guessed", "CAB-TEST-A1", now + 3)
        assert not await _allocates(turn.port, *wrong_secret)
        expired = turn.mint("CAB-TEST-A1", now - 1)
        assert not await _allocates(turn.port, *expired)
        time.sleep(max(0.0, now + 5 - time.time()))  # coturn counts whole seconds
        assert not await _allocates(turn.port, username, password)  # its call is over


async def test_a_static_user_is_refused_by_a_rest_server() -> None:
    require_program(TURNSERVER, "coturn")
    with TurnServer(auth_secret="another-secret") as turn:  # noqa: S106 - test secret
        assert not await _allocates(turn.port, "kiosk", "demo-turn")
