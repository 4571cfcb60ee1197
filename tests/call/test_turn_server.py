"""coturn for the demo and the tests: instances side by side never share a port."""

from __future__ import annotations

import pytest

from devtools.turn import BLOCK_HIGH, BLOCK_LOW, TURNSERVER, TurnServer
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
