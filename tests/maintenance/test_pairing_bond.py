"""Bonding with bleak's own `BleakClient.pair()`, over the simulated air (docs/maintenance.md).

The simulated backend answers `pair()` as a BlueZ device would: the A&D-like
blood-pressure monitor asks for the passkey it shows, the thermometer asks for
nothing. Failures come back as BlueZ's D-Bus error names, read by `bond_failure`.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.maintenance.pairing import (
    BondFailure,
    BondRefused,
    bond,
    bond_failure,
    valid_passkey,
)
from drivers.ble.bluez_agent import PasskeyAgent
from drivers.ble.sim_air import SimulatedAir
from drivers.ble.sim_blood_pressure import SIMULATED_PASSKEY, SimulatedBloodPressureMonitor
from drivers.ble.sim_devices import SimulatedThermometer

BP = "C4:00:00:00:0B:01"
THERMO = "C4:00:00:00:0A:01"


@pytest.fixture
def air() -> Iterator[SimulatedAir]:
    air = SimulatedAir()
    air.add(SimulatedBloodPressureMonitor(BP))
    air.add(SimulatedThermometer(THERMO, "SIM-THERMO"))
    yield air
    air.close()


async def test_a_wrong_passkey_is_refused_then_the_right_one_bonds(air: SimulatedAir) -> None:
    monitor = air.get(BP)
    assert monitor is not None and monitor.bonding == "passkey"
    with pytest.raises(BondRefused) as caught:
        await bond(BP, "passkey", "000000", backend=air.client_backend(), timeout_s=2)
    assert caught.value.failure is BondFailure.WRONG_PASSKEY
    assert "000000" not in str(caught.value)
    assert not monitor.bonded and monitor.pair_attempts == 1  # pair() reached the device
    await bond(BP, "passkey", SIMULATED_PASSKEY, backend=air.client_backend(), timeout_s=2)
    assert monitor.bonded and monitor.pair_attempts == 2


async def test_a_passkey_that_is_not_six_digits_never_reaches_the_device(
    air: SimulatedAir,
) -> None:
    monitor = air.get(BP)
    assert monitor is not None
    for typed, failure in (
        (None, BondFailure.PASSKEY_NEEDED),
        ("24681", BondFailure.WRONG_PASSKEY),
    ):
        with pytest.raises(BondRefused) as caught:
            await bond(BP, "passkey", typed, backend=air.client_backend(), timeout_s=2)
        assert caught.value.failure is failure
    assert monitor.pair_attempts == 0


async def test_a_device_that_needs_no_bonding_is_left_as_it_is(air: SimulatedAir) -> None:
    thermo = air.get(THERMO)
    assert thermo is not None
    await bond(THERMO, "none", backend=air.client_backend(), timeout_s=2)
    assert thermo.pair_attempts == 0 and not thermo.bonded


async def test_a_device_that_refuses_is_said_so(air: SimulatedAir) -> None:
    monitor = air.get(BP)
    assert monitor is not None
    monitor.refuses_bonding = True
    with pytest.raises(BondRefused) as caught:
        await bond(BP, "passkey", SIMULATED_PASSKEY, backend=air.client_backend(), timeout_s=2)
    assert caught.value.failure is BondFailure.REFUSED


async def test_a_device_that_does_not_answer_times_out(air: SimulatedAir) -> None:
    monitor = air.get(BP)
    assert monitor is not None
    monitor.pair_delay_s = 5.0
    with pytest.raises(BondRefused) as caught:
        await bond(BP, "passkey", SIMULATED_PASSKEY, backend=air.client_backend(), timeout_s=0.2)
    assert caught.value.failure is BondFailure.TIMEOUT
    assert not monitor.bonded


async def test_a_device_out_of_range_is_not_found(air: SimulatedAir) -> None:
    with pytest.raises(BondRefused) as caught:
        await bond("C4:00:00:00:0F:FF", "just-works", backend=air.client_backend(), timeout_s=2)
    assert caught.value.failure is BondFailure.NOT_FOUND


@given(st.text())
def test_any_dbus_error_name_gives_a_reason(name: str) -> None:
    assert bond_failure(name) in set(BondFailure)


@pytest.mark.parametrize(
    ("name", "failure"),
    [
        ("org.bluez.Error.AuthenticationFailed", BondFailure.WRONG_PASSKEY),
        ("org.bluez.Error.AuthenticationRejected", BondFailure.REFUSED),
        ("org.bluez.Error.AuthenticationTimeout", BondFailure.TIMEOUT),
        ("org.bluez.Error.InProgress", BondFailure.FAILED),
    ],
)
def test_bluez_names(name: str, failure: BondFailure) -> None:
    assert bond_failure(name) is failure


@given(st.text(max_size=8))
def test_a_passkey_is_six_ascii_digits(typed: str) -> None:
    assert valid_passkey(typed) == (len(typed) == 6 and all(c in "0123456789" for c in typed))


class _SpyAgent(PasskeyAgent):
    def __init__(self) -> None:
        super().__init__()
        self.offered: list[str] = []

    def offer(self, passkey: str) -> None:
        super().offer(passkey)
        self.offered.append(passkey)


async def test_the_agent_holds_the_code_for_one_pair_only(air: SimulatedAir) -> None:
    agent = _SpyAgent()
    with pytest.raises(BondRefused):
        await bond(BP, "passkey", "000000", backend=air.client_backend(), agent=agent)
    await bond(BP, "passkey", SIMULATED_PASSKEY, backend=air.client_backend(), agent=agent)
    assert agent.offered == ["000000", SIMULATED_PASSKEY]
    assert agent._passkey is None  # withdrawn after each, refused or bonded
