"""TensiometerDriver over pyserial on a real pty, the simulated Accutorr at the other end."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from drivers.base import Driver
from drivers.events import (
    Connected,
    DeviceEvent,
    Disconnected,
    Failed,
    FailureReason,
    Reading,
    ReadingValue,
)
from drivers.serial.sim_accutorr import SerialFault, SimulatedAccutorr
from drivers.serial.tensiometer import TensiometerDriver
from vocabulary.devices import DeviceKind

BP = DeviceKind.TENSIOMETER


@pytest.fixture
async def monitor(tmp_path: Path) -> AsyncIterator[SimulatedAccutorr]:
    sim = SimulatedAccutorr(
        baud_rate=115200, link_dir=tmp_path, measure_duration_s=0.03, slow_delay_s=0.15
    )
    await sim.start()
    yield sim
    await sim.stop()


def driver(sim: SimulatedAccutorr, **over: Any) -> TensiometerDriver:
    kwargs: dict[str, Any] = {
        "baud_rate": sim.baud_rate,
        "connect_timeout_s": 0.5,
        "measure_timeout_s": 1.0,
        "poll_interval_s": 0.01,
        "answer_timeout_s": 0.1,
    }
    kwargs.update(over)
    return TensiometerDriver("bp-1", sim.port, **kwargs)


async def run(drv: Driver) -> list[DeviceEvent]:
    await drv.start()
    events: list[DeviceEvent] = []
    try:
        while True:
            event = await drv.next_event(3)
            assert event is not None
            events.append(event)
            if isinstance(event, Disconnected):
                break
            if isinstance(event, Failed) and not any(isinstance(e, Connected) for e in events):
                break
    finally:
        await drv.stop()
    return events


def names(events: list[DeviceEvent]) -> list[str]:
    return [type(e).__name__ for e in events]


async def test_port_is_a_real_tty(monitor: SimulatedAccutorr) -> None:
    assert os.path.islink(monitor.port)
    assert os.readlink(monitor.port).startswith("/dev/pts/")


async def test_reading(monitor: SimulatedAccutorr) -> None:
    monitor.next_systolic, monitor.next_diastolic, monitor.next_mean = 142, 91, 108
    monitor.next_pulse = 77
    events = await run(driver(monitor))
    assert names(events) == ["Connected", "Measuring", "Reading", "Disconnected"]
    assert events[2] == Reading(
        "bp-1",
        BP,
        (
            ReadingValue("systolic", Decimal(142), "mm[Hg]"),
            ReadingValue("diastolic", Decimal(91), "mm[Hg]"),
            ReadingValue("mean", Decimal(108), "mm[Hg]"),
            ReadingValue("heart-rate", Decimal(77), "/min"),
        ),
    )


async def test_an_old_result_on_the_monitor_is_not_taken(monitor: SimulatedAccutorr) -> None:
    monitor.auto_measure = False  # nobody presses start: only the previous patient's result
    events = await run(driver(monitor, measure_timeout_s=0.3))
    assert events[2] == Failed(
        "bp-1",
        BP,
        FailureReason.TIMEOUT,
        "The blood-pressure monitor gave no new measurement within 0.3 seconds.",
    )


async def test_cuff_error(monitor: SimulatedAccutorr) -> None:
    monitor.fault = SerialFault.CUFF_ERROR
    events = await run(driver(monitor))
    assert events[2] == Failed(
        "bp-1",
        BP,
        FailureReason.DEVICE_ERROR,
        "The blood-pressure monitor reports an error (cuff-error): check the cuff and measure again.",
    )
    # a second cuff error within the minute is the same record: still a device error at timeout
    events = await run(driver(monitor, measure_timeout_s=0.3))
    assert isinstance(events[2], Failed) and events[2].reason is FailureReason.DEVICE_ERROR


async def test_no_answer(monitor: SimulatedAccutorr) -> None:
    monitor.fault = SerialFault.NO_ANSWER
    events = await run(driver(monitor, connect_timeout_s=0.3))
    assert events == [
        Failed(
            "bp-1",
            BP,
            FailureReason.TIMEOUT,
            f"The blood-pressure monitor on {monitor.port} did not answer within 0.3 seconds.",
        )
    ]


async def test_stops_answering_mid_measurement(monitor: SimulatedAccutorr) -> None:
    monitor.auto_measure = False
    drv = driver(monitor)
    await drv.start()
    assert isinstance(await drv.next_event(1), Connected)
    await drv.next_event(1)  # Measuring
    monitor.fault = SerialFault.NO_ANSWER
    failed = await drv.next_event(2)
    await drv.stop()
    assert failed == Failed(
        "bp-1",
        BP,
        FailureReason.TIMEOUT,
        "The blood-pressure monitor stopped answering (3 polls without an answer).",
    )


async def test_garbage_bytes_are_skipped(monitor: SimulatedAccutorr) -> None:
    monitor.fault = SerialFault.GARBAGE
    events = await run(driver(monitor))
    assert names(events) == ["Connected", "Measuring", "Reading", "Disconnected"]


async def test_record_cut_in_the_middle_is_skipped(monitor: SimulatedAccutorr) -> None:
    monitor.fault = SerialFault.CUT_RECORD
    events = await run(driver(monitor))
    assert names(events) == ["Connected", "Measuring", "Reading", "Disconnected"]
    reading = events[2]
    assert isinstance(reading, Reading) and reading.values[0].value == Decimal(121)


async def test_cable_pulled(monitor: SimulatedAccutorr) -> None:
    monitor.fault = SerialFault.CABLE_PULLED
    events = await run(driver(monitor))
    assert names(events) == ["Connected", "Measuring", "Failed", "Disconnected"]
    assert events[2] == Failed(
        "bp-1",
        BP,
        FailureReason.DISCONNECTED,
        f"The blood-pressure monitor's cable was disconnected ({monitor.port} went away).",
    )
    assert not os.path.exists(monitor.port)
    events = await run(driver(monitor))
    assert events == [
        Failed(
            "bp-1", BP, FailureReason.NOT_FOUND, f"The serial port {monitor.port} does not exist."
        )
    ]


async def test_slow_device(monitor: SimulatedAccutorr) -> None:
    monitor.fault = SerialFault.SLOW  # every answer 0.15 s late
    monitor.measure_duration_s = 0.5  # the result must appear after the driver's baseline poll
    events = await run(driver(monitor, answer_timeout_s=0.5, measure_timeout_s=2.0))
    assert names(events) == ["Connected", "Measuring", "Reading", "Disconnected"]
    events = await run(driver(monitor, answer_timeout_s=0.05, connect_timeout_s=0.1))
    assert isinstance(events[0], Failed) and events[0].reason is FailureReason.TIMEOUT


async def test_check_asks_alive_only(monitor: SimulatedAccutorr) -> None:
    monitor.auto_measure = False
    result = await driver(monitor).check()
    assert result.ok
    assert result.detail == f"{monitor.port} at 115200 baud answers the accutorr alive check"
    assert monitor.commands_received == 1  # one 'C', no 'P'


def test_unknown_protocol_is_refused_at_build_time() -> None:
    with pytest.raises(ValueError, match="Unknown monitor protocol 'omron'; known: accutorr."):
        TensiometerDriver("bp-1", "/dev/null", protocol="omron")
