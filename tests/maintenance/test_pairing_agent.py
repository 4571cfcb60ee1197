"""The BlueZ passkey agent on a real, private D-Bus daemon (no BlueZ on the test machine).

A second connection plays BlueZ's part: it calls `org.bluez.Agent1.RequestPasskey`
exactly as bluetoothd does when a device asks for a passkey, and serves a small
`org.bluez.AgentManager1` that records what the agent's registration asked.
"""

# No `from __future__ import annotations`: dbus-fast refuses a postponed `-> None`.

import asyncio
import shutil
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from dbus_fast import BusType, DBusError, Message, MessageType
from dbus_fast.aio import MessageBus
from dbus_fast.annotations import DBusObjectPath, DBusStr
from dbus_fast.service import ServiceInterface, dbus_method
from hypothesis import given
from hypothesis import strategies as st

from app.maintenance.pairing import BondFailure, BondRefused, system_passkey_agent
from drivers.ble.bluez_agent import AGENT_PATH, PasskeyAgent, register
from drivers.ble.sim_blood_pressure import SIMULATED_PASSKEY
from tests.maintenance import test_pairing_service
from tests.maintenance.conftest import GOOD_PASSWORD
from tests.maintenance.test_pairing_service import NEW_BP, Cabin
from tests.maintenance.world import code

cabin = test_pairing_service.cabin  # the service's fixture: a cabin whose monitor bonds

pytestmark = pytest.mark.skipif(shutil.which("dbus-daemon") is None, reason="no dbus-daemon")

CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""


@pytest.fixture
async def bus_address(tmp_path: Path) -> AsyncIterator[str]:
    socket = tmp_path / "bus"
    conf = tmp_path / "bus.conf"
    conf.write_text(CONFIG.format(socket=socket), encoding="utf-8")
    daemon = subprocess.Popen(  # noqa: S603 - a fixed program, our own config
        ["dbus-daemon", f"--config-file={conf}", "--nofork", "--print-address"],  # noqa: S607
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert daemon.stdout is not None
        ready = await asyncio.to_thread(daemon.stdout.readline)  # printed once it listens
        assert ready.startswith(f"unix:path={socket}"), ready
        yield f"unix:path={socket}"
    finally:
        daemon.terminate()
        daemon.wait(5)
        if daemon.stdout is not None:
            daemon.stdout.close()


async def _connect(address: str) -> MessageBus:
    return await MessageBus(bus_address=address, bus_type=BusType.SESSION).connect()


async def _request_passkey(bluez: MessageBus, agent_bus: MessageBus) -> Message:
    reply = await bluez.call(
        Message(
            destination=agent_bus.unique_name,
            path=AGENT_PATH,
            interface="org.bluez.Agent1",
            member="RequestPasskey",
            signature="o",
            body=["/org/bluez/hci0/dev_C4_00_00_00_0B_01"],
        )
    )
    assert reply is not None
    return reply


async def test_the_typed_passkey_is_answered_once_then_canceled(bus_address: str) -> None:
    agent_bus, bluez = await _connect(bus_address), await _connect(bus_address)
    try:
        agent = PasskeyAgent()
        agent_bus.export(AGENT_PATH, agent)
        agent.offer("246810")
        answered = await _request_passkey(bluez, agent_bus)
        assert answered.message_type is MessageType.METHOD_RETURN
        assert (answered.signature, answered.body) == ("u", [246810])
        again = await _request_passkey(bluez, agent_bus)  # the code is not kept
        assert again.message_type is MessageType.ERROR
        assert again.error_name == "org.bluez.Error.Canceled"
        assert agent.requests == 2
    finally:
        agent_bus.disconnect()
        bluez.disconnect()


class _AgentManager(ServiceInterface):
    def __init__(self) -> None:
        super().__init__("org.bluez.AgentManager1")
        self.calls: list[tuple[str, ...]] = []

    @dbus_method()
    def RegisterAgent(self, agent: DBusObjectPath, capability: DBusStr) -> None:  # noqa: N802
        self.calls.append(("RegisterAgent", agent, capability))

    @dbus_method()
    def RequestDefaultAgent(self, agent: DBusObjectPath) -> None:  # noqa: N802
        self.calls.append(("RequestDefaultAgent", agent))


async def test_registration_asks_keyboard_only_and_default(bus_address: str) -> None:
    agent_bus, bluez = await _connect(bus_address), await _connect(bus_address)
    try:
        manager = _AgentManager()
        bluez.export("/org/bluez", manager)
        await bluez.request_name("org.bluez")
        await register(agent_bus, PasskeyAgent())
        assert manager.calls == [
            ("RegisterAgent", AGENT_PATH, "KeyboardOnly"),
            ("RequestDefaultAgent", AGENT_PATH),
        ]
    finally:
        agent_bus.disconnect()
        bluez.disconnect()


async def test_registration_without_bluez_is_an_error(bus_address: str) -> None:
    agent_bus = await _connect(bus_address)
    try:
        with pytest.raises(DBusError):
            await register(agent_bus, PasskeyAgent())
    finally:
        agent_bus.disconnect()


@given(st.text(max_size=8))
def test_only_six_digits_are_offered(typed: str) -> None:
    agent = PasskeyAgent()
    if len(typed) == 6 and all(c in "0123456789" for c in typed):
        agent.offer(typed)
    else:
        with pytest.raises(ValueError, match="six digits"):
            agent.offer(typed)


async def test_the_service_registers_the_kiosk_s_agent_before_a_passkey_bond_on_bluez(
    bus_address: str, cabin: Cabin, monkeypatch: pytest.MonkeyPatch
) -> None:
    """bleak's BlueZ backend registers no agent: before a passkey bond the service registers
    the kiosk's own as BlueZ's default, on the system bus (here a private bus with a stand-in
    AgentManager1 under the name org.bluez; no BlueZ devices behind it, so the bond itself is
    then refused plainly and nothing is written)."""
    monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", bus_address)
    bluez = await _connect(bus_address)
    try:
        manager = _AgentManager()
        bluez.export("/org/bluez", manager)
        await bluez.request_name("org.bluez")
        cabin.service._ble_client = None  # noqa: SLF001 - the cabin's path: bleak's BlueZ backend
        cabin.service._bond_timeout_s = 3.0  # noqa: SLF001 - nothing answers behind the stand-in
        session = await cabin.service.enter(
            "paul.tech", GOOD_PASSWORD, code(cabin.secret, cabin.clock)
        )
        before = cabin.site.read_bytes()
        with pytest.raises(BondRefused):
            await cabin.service.pair(session, "bp-ble", NEW_BP, SIMULATED_PASSKEY)
        assert manager.calls == [
            ("RegisterAgent", AGENT_PATH, "KeyboardOnly"),
            ("RequestDefaultAgent", AGENT_PATH),
        ]
        assert cabin.site.read_bytes() == before
    finally:
        bluez.disconnect()


async def test_no_system_bus_refuses_a_passkey_bond_plainly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", f"unix:path={tmp_path / 'no-bus'}")
    with pytest.raises(BondRefused) as caught:
        await system_passkey_agent()
    assert caught.value.failure is BondFailure.FAILED
