"""The network page's TURN test against a real coturn on loopback (devtools/turn), as the
call tests run it: an allocation, a round trip and a throughput through the relay."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.maintenance.roles import Role
from app.maintenance.turn import check_site_turn, check_turn, parse_turn_url
from app.store import AsyncStore, FileKeySource
from devtools.turn import TURNSERVER, TurnServer
from drivers.simulators import SimulatorHub
from kiosk_config.schema import IceServer
from tests.drivers.card.real_parts import missing_real_part
from tests.maintenance.conftest import GOOD_PASSWORD, FakeClock, audit_rows
from tests.maintenance.world import (
    accounts_on,
    code,
    enrol,
    fill_with_canaries,
    load,
    service_for,
    write_site,
)

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def turn() -> Iterator[TurnServer]:
    if shutil.which("turnserver") is None and not Path(TURNSERVER).is_file():
        missing_real_part("coturn's turnserver is not installed here (apt coturn).")
    with TurnServer() as server:
        yield server


def test_turn_urls_are_read_as_webrtc_writes_them() -> None:
    t = parse_turn_url("turn:turn.example.net:3478?transport=udp")
    assert t is not None and (t.host, t.port, t.transport, t.tls) == (
        "turn.example.net",
        3478,
        "udp",
        False,
    )
    t = parse_turn_url("turns:turn.example.net")
    assert t is not None and (t.port, t.transport, t.tls) == (5349, "tcp", True)
    t = parse_turn_url("turn:[2001:db8::1]:3479?transport=tcp")
    assert t is not None and (t.host, t.port, t.transport) == ("2001:db8::1", 3479, "tcp")
    for not_turn in ("stun:stun.example.net:3478", "turn:", "turn:host:99999", "turn:h:x"):
        assert parse_turn_url(not_turn) is None


@given(st.text(max_size=60))
def test_any_text_is_read_or_refused_never_raises(url: str) -> None:
    parsed = parse_turn_url(url)
    assert parsed is None or (parsed.host and 0 < parsed.port < 65536)


@given(
    st.from_regex(r"[a-z][a-z0-9-]{0,20}(\.[a-z0-9-]{1,10}){0,3}", fullmatch=True),
    st.integers(1, 65535),
    st.sampled_from(["udp", "tcp"]),
)
def test_a_written_url_reads_back(host: str, port: int, transport: str) -> None:
    parsed = parse_turn_url(f"turn:{host}:{port}?transport={transport}")
    assert parsed is not None and (parsed.host, parsed.port, parsed.transport) == (
        host,
        port,
        transport,
    )


async def test_allocation_round_trip_and_throughput_through_the_relay(turn: TurnServer) -> None:
    steps = await check_turn(turn.ice_server())
    assert [s.ok for s in steps] == [True, True, True], steps
    allocate, rtt, throughput = steps
    assert allocate.name == f"turn 127.0.0.1:{turn.port}/udp allocate"
    assert allocate.detail == "relayed=127.0.0.1"
    assert rtt.detail.startswith("echoes=5/5 median=") and rtt.ms is not None and rtt.ms < 200
    rate, lost = throughput.detail.split()
    assert int(rate.removeprefix("kbit/s=")) > 1000  # loopback: megabits at least
    assert int(lost.removeprefix("lost=").removesuffix("%")) < 50  # of BURST datagrams
    for step in steps:
        assert turn.password not in repr(step)


async def test_a_wrong_credential_is_refused_by_the_server(turn: TurnServer) -> None:
    wrong = IceServer(urls=(turn.url,), username=turn.user, credential="not-the-password")
    [step] = await check_turn(wrong)
    assert not step.ok and step.detail == "refused-401"
    assert "not-the-password" not in repr(step)


async def test_nobody_listening_times_out_and_stun_only_is_not_tested() -> None:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as quiet:
        quiet.bind(("127.0.0.1", 0))  # bound, never answering
        port = quiet.getsockname()[1]
        silent = IceServer(urls=(f"turn:127.0.0.1:{port}",), username="a", credential="b")
        [step] = await check_turn(silent, timeout_s=1.0)
    assert not step.ok and step.detail == "timeout"
    assert await check_turn(IceServer(urls=("stun:127.0.0.1:3478",))) == ()


async def test_the_network_page_runs_the_turn_test_audited(
    tmp_path: Path, turn: TurnServer
) -> None:
    clock = FakeClock()
    site = write_site(tmp_path)
    site.write_text(
        site.read_text()
        .replace("turn:turn.example.net:3478", turn.url)
        .replace("turn-user-SECRET", turn.user)
        .replace("turn-credential-SECRET", turn.password)
    )
    config = load(site)
    store = await AsyncStore.open(tmp_path / "data", FileKeySource(tmp_path / "data"), clock)
    try:
        canary = await fill_with_canaries(store, clock)
        accounts = accounts_on(store, clock)
        secret = await enrol(accounts, "paul.tech", Role.TECHNICIAN)
        service = service_for(accounts, store, config, SimulatorHub([], fast=True), clock)
        session = await service.enter("paul.tech", GOOD_PASSWORD, code(secret, clock))
        report = await service.network(session)
        rows = await audit_rows(store)
    finally:
        await store.close()
    names = [s.name for s in report.steps]
    assert names[0] == "dns" and names[-3:] == [
        f"turn 127.0.0.1:{turn.port}/udp allocate",
        "turn rtt",
        "turn throughput",
    ]
    assert all(s.ok for s in report.steps[-3:])
    [row] = [r for r in rows if r[1] == "maintenance.network"]
    assert row[2] == "failed" and row[4] == "failed=tcp"  # no platform listens at :9
    for word in (turn.password, *canary.words()):
        assert word not in repr(report) + repr(rows)


def _url_only(site: Path, url: str, *, cabin_key: Path | None = None) -> Path:
    """The site's TURN entry as on a TURN REST site: the URL alone, no credential."""
    text = (
        site.read_text()
        .replace("turn:turn.example.net:3478", url)
        .replace('username = "turn-user-SECRET"\n', "")
        .replace('credential = "turn-credential-SECRET"\n', "")
    )
    if cabin_key is not None:
        text = text.replace("[platform]\n", f'[platform]\ncabin_key_file = "{cabin_key}"\n', 1)
    site.write_text(text)
    return site


async def test_a_site_with_a_credential_is_tested_with_it(tmp_path: Path, turn: TurnServer) -> None:
    site = write_site(tmp_path)
    site.write_text(
        site.read_text()
        .replace("turn:turn.example.net:3478", turn.url)
        .replace("turn-user-SECRET", turn.user)
        .replace("turn-credential-SECRET", turn.password)
    )
    steps = await check_site_turn(load(site))
    assert [s.ok for s in steps] == [True, True, True], steps


async def test_a_url_only_site_without_a_cabin_secret_says_so_and_allocates_nothing(
    tmp_path: Path, turn: TurnServer
) -> None:
    config = load(_url_only(write_site(tmp_path), turn.url))
    assert config.platform.ice_servers[0].credential is None
    [step] = await check_site_turn(config)
    assert (step.name, step.ok, step.detail) == ("turn credential", False, "no-cabin-secret")


async def test_a_platform_that_mints_nothing_is_a_failed_credential_step(tmp_path: Path) -> None:
    """A cabin whose platform does not answer: the step says how, no allocation is tried."""
    key = tmp_path / "cabin-secret"
    key.write_text(bytes(range(32)).hex())
    key.chmod(0o600)
    config = load(_url_only(write_site(tmp_path), "turn:127.0.0.1:3478", cabin_key=key))
    [step] = await check_site_turn(config, timeout_s=1.0)
    assert step.name == "turn credential" and not step.ok  # nothing listens at :9
    assert bytes(range(32)).hex() not in repr(step)
