from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from drivers.ble.sim_air import SimulatedAir
from drivers.ble.sim_devices import SimulatedOximeter, SimulatedThermometer

THERMO = "C0:FF:EE:00:00:01"
OXI = "C0:FF:EE:00:00:02"


@pytest.fixture
async def air() -> AsyncIterator[SimulatedAir]:
    air = SimulatedAir(advertising_interval_s=0.005)
    yield air
    air.close()


@pytest.fixture
def thermometer(air: SimulatedAir) -> SimulatedThermometer:
    sim = SimulatedThermometer(THERMO, measure_delay_s=0.02, slow_delay_s=0.3)
    air.add(sim)
    return sim


@pytest.fixture
def oximeter(air: SimulatedAir) -> SimulatedOximeter:
    sim = SimulatedOximeter(OXI, measure_delay_s=0.02, sample_interval_s=0.01, slow_delay_s=0.3)
    air.add(sim)
    return sim
