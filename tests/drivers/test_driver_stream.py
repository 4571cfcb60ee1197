"""The Driver base: one run is one event stream, and `async for` ends with the run."""

from __future__ import annotations

import asyncio

from drivers.base import CheckResult, Driver
from drivers.events import Connected, Disconnected, Failed, FailureReason
from vocabulary.devices import DeviceKind


class ScriptedDriver(Driver):
    """Emits Connected, then ends, fails, or waits to be stopped, as told."""

    def __init__(self, ending: str) -> None:
        super().__init__("dev-1", DeviceKind.THERMOMETER)
        self.ending = ending
        self.runs = 0
        self.closed = 0

    async def _run(self) -> None:
        self.runs += 1
        self.emit(Connected(f"run-{self.runs}", self.kind))  # which run said it
        if self.ending == "fails":
            raise RuntimeError("a bug")
        if self.ending == "waits":
            await asyncio.Event().wait()
        self.emit(Disconnected(self.device_id, self.kind))

    async def _close(self) -> None:
        self.closed += 1

    async def check(self) -> CheckResult:
        return CheckResult(self.device_id, self.kind, True, "scripted")


async def collect(driver: Driver) -> list[object]:
    return [event async for event in driver.events()]


async def test_the_stream_ends_when_the_run_ends() -> None:
    driver = ScriptedDriver("ends")
    await driver.start()
    events = await asyncio.wait_for(collect(driver), 2)
    assert events == [
        Connected("run-1", DeviceKind.THERMOMETER),
        Disconnected("dev-1", DeviceKind.THERMOMETER),
    ]
    assert await driver.next_event(0.1) is None  # ended, for every later reader too
    assert await asyncio.wait_for(collect(driver), 1) == []


async def test_the_stream_ends_after_the_failure_of_a_driver_bug() -> None:
    driver = ScriptedDriver("fails")
    await driver.start()
    events = await asyncio.wait_for(collect(driver), 2)
    assert events == [
        Connected("run-1", DeviceKind.THERMOMETER),
        Failed(
            "dev-1",
            DeviceKind.THERMOMETER,
            FailureReason.PROTOCOL_ERROR,
            "unexpected driver error (RuntimeError)",
        ),
    ]


async def test_stop_ends_the_stream_of_a_consumer_already_waiting() -> None:
    driver = ScriptedDriver("waits")
    await driver.start()
    consumer = asyncio.create_task(collect(driver))
    await asyncio.sleep(0.05)
    assert not consumer.done()
    await driver.stop()
    assert await asyncio.wait_for(consumer, 2) == [Connected("run-1", DeviceKind.THERMOMETER)]
    assert driver.closed == 1


async def test_stop_before_the_run_took_its_first_step_still_ends_the_stream() -> None:
    driver = ScriptedDriver("waits")
    await driver.start()
    await driver.stop()  # the task was cancelled before it ran
    assert driver.runs == 0
    assert await asyncio.wait_for(collect(driver), 1) == []


async def test_a_restart_opens_a_fresh_stream() -> None:
    driver = ScriptedDriver("ends")
    await driver.start()
    await asyncio.sleep(0.05)  # run 1 ends; nobody reads its events
    assert not driver.running
    await driver.start()
    events = await asyncio.wait_for(collect(driver), 2)
    assert events == [
        Connected("run-2", DeviceKind.THERMOMETER),
        Disconnected("dev-1", DeviceKind.THERMOMETER),
    ]
    driver.ending = "waits"
    await driver.start()
    assert await driver.next_event(1) == Connected("run-3", DeviceKind.THERMOMETER)
    await driver.stop()
    assert await driver.next_event(1) is None
