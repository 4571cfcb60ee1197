"""Start of measurement -> Reading, for each simulator, next to its transport's floor.

Run with figures:  .venv/bin/python -m pytest tests/bench/test_bench_ble_serial.py -s --benchmark-enable
(In the normal run benchmarks are disabled: each test runs once and still prints its figures.)

Floors:
- BLE (simulated air): the fake backend's notification latency (a real link adds
  its connection interval, 7.5-50 ms, which the simulator does not model).
- oximeter, continuous: latency + the device's own sample period times the
  samples the driver waits for (settling + stable - 1).
- blood pressure over BLE (simulated air): the final indication -> Reading;
  floor = the notification latency (the stored record before it is skipped).
- BerryMed (BCI frames at 100 Hz): Measuring -> Reading; floor = the first valid
  frame + (stable samples - 1) x one second of frames, the stable-reading rule.
- serial: line time of the `P` command plus the record at the configured baud
  rate (10 bits a byte, 8N1). The driver adds on average half a poll interval.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from drivers.base import Driver
from drivers.ble.berrymed_driver import BerryMedOximeterDriver
from drivers.ble.blood_pressure_driver import BloodPressureDriver
from drivers.ble.oximeter import OximeterDriver
from drivers.ble.sim_air import SimulatedAir
from drivers.ble.sim_berrymed import SimulatedBerryMed
from drivers.ble.sim_blood_pressure import SimulatedBloodPressureMonitor
from drivers.ble.sim_devices import SimulatedOximeter, SimulatedThermometer
from drivers.ble.thermometer import ThermometerDriver
from drivers.events import Measuring, Reading
from drivers.serial.monitor_protocol import AccutorrProtocol
from drivers.serial.sim_accutorr import SimulatedAccutorr
from drivers.serial.tensiometer import TensiometerDriver

SAMPLES = 8


async def _time_to_reading(driver: Driver, start_mark: Callable[[], float | None]) -> float:
    """Seconds from the start mark to the Reading event reaching the consumer."""
    loop = asyncio.get_running_loop()
    await driver.start()
    try:
        while True:
            event = await driver.next_event(5)
            if isinstance(event, Reading):
                t1 = loop.time()
                t0 = start_mark()
                assert t0 is not None
                return t1 - t0
            progress = ("Connecting", "Connected", "Measuring", "CuffPressure", "PlethWave")
            assert type(event).__name__ in progress, event
    finally:
        await driver.stop()


def _report(name: str, samples: list[float], floor: float, benchmark: Any) -> None:
    median = statistics.median(samples)
    figures = {
        "median_ms": round(median * 1000, 2),
        "min_ms": round(min(samples) * 1000, 2),
        "max_ms": round(max(samples) * 1000, 2),
        "floor_ms": round(floor * 1000, 2),
        "ratio": round(median / floor, 2),
    }
    benchmark.extra_info.update(figures)
    print(f"\n{name}: {figures}")
    assert all(s > 0 for s in samples)


def _bench(benchmark: Any, body: Callable[[], Coroutine[Any, Any, list[float]]]) -> list[float]:
    out: list[float] = []

    def once() -> None:
        out[:] = asyncio.run(body())

    benchmark.pedantic(once, rounds=1, iterations=1)
    return out


def test_bench_thermometer(benchmark: Any) -> None:
    latency = 0.001

    async def body() -> list[float]:
        air = SimulatedAir(advertising_interval_s=0.005)
        sim = SimulatedThermometer(
            "C0:FF:EE:00:00:01", measure_delay_s=0.0, notification_latency_s=latency
        )
        air.add(sim)

        def driver() -> ThermometerDriver:
            return ThermometerDriver(
                "thermo-1",
                sim.address,
                client_backend=air.client_backend(),
                scanner_backend=air.scanner_backend(),
            )

        return [
            await _time_to_reading(driver(), lambda: sim.last_notify_at) for _ in range(SAMPLES)
        ]

    _report("thermometer (indication -> Reading)", _bench(benchmark, body), latency, benchmark)


def test_bench_oximeter_continuous(benchmark: Any) -> None:
    latency, interval = 0.001, 0.02

    async def body() -> list[float]:
        air = SimulatedAir(advertising_interval_s=0.005)
        sim = SimulatedOximeter(
            "C0:FF:EE:00:00:02",
            measure_delay_s=0.0,
            sample_interval_s=interval,
            settling_samples=2,
            notification_latency_s=latency,
        )
        air.add(sim)
        drv = OximeterDriver(
            "oxi-1",
            sim.address,
            client_backend=air.client_backend(),
            scanner_backend=air.scanner_backend(),
        )
        loop = asyncio.get_running_loop()
        samples = []
        for _ in range(SAMPLES):
            t_measuring: list[float] = []
            await drv.start()
            try:
                while True:
                    event = await drv.next_event(5)
                    if isinstance(event, Measuring):
                        t_measuring.append(loop.time())
                    if isinstance(event, Reading):
                        samples.append(loop.time() - t_measuring[0])
                        break
            finally:
                await drv.stop()
        return samples

    floor = latency + (2 + 3 - 1) * interval
    _report("oximeter continuous (Measuring -> Reading)", _bench(benchmark, body), floor, benchmark)


def test_bench_tensiometer_9600_baud(benchmark: Any) -> None:
    baud, poll = 9600, 0.02
    line_bytes = AccutorrProtocol().request_bytes()  # 'P' + the 39-byte record
    floor = line_bytes * 10 / baud

    async def body() -> list[float]:
        with tempfile.TemporaryDirectory() as tmp:
            sim = SimulatedAccutorr(baud_rate=baud, link_dir=Path(tmp), measure_duration_s=0.1)
            await sim.start()
            try:
                samples = []
                for _ in range(SAMPLES):
                    drv = TensiometerDriver(
                        "bp-1", sim.port, baud_rate=baud, poll_interval_s=poll, answer_timeout_s=0.5
                    )
                    sim.next_systolic += 1  # a new result each time, as a new patient
                    samples.append(await _time_to_reading(drv, lambda: sim.measurement_done_at))
                return samples
            finally:
                await sim.stop()

    samples = _bench(benchmark, body)
    benchmark.extra_info["poll_interval_ms"] = poll * 1000
    _report(
        f"tensiometer @ {baud} baud (result on monitor -> Reading, poll {poll * 1000:g} ms)",
        samples,
        floor,
        benchmark,
    )


def test_bench_blood_pressure_ble(benchmark: Any) -> None:
    latency = 0.001

    async def body() -> list[float]:
        air = SimulatedAir(advertising_interval_s=0.005)
        sim = SimulatedBloodPressureMonitor(
            "C0:FF:EE:00:00:03", measure_delay_s=0.01, notification_latency_s=latency
        )
        air.add(sim)

        def driver() -> BloodPressureDriver:
            return BloodPressureDriver(
                "bp-ble",
                sim.address,
                client_backend=air.client_backend(),
                scanner_backend=air.scanner_backend(),
            )

        return [
            await _time_to_reading(driver(), lambda: sim.last_notify_at) for _ in range(SAMPLES)
        ]

    _report(
        "blood pressure BLE (indication -> Reading)", _bench(benchmark, body), latency, benchmark
    )


def test_bench_berrymed(benchmark: Any) -> None:
    settling, stable = 20, 3

    async def body() -> list[float]:
        air = SimulatedAir(advertising_interval_s=0.005)
        sim = SimulatedBerryMed(
            "C0:FF:EE:00:00:04",
            frame_rate_hz=100,
            settling_frames=settling,
            measure_delay_s=0.0,
            notification_latency_s=0.001,
        )
        air.add(sim)
        drv = BerryMedOximeterDriver(
            "oxi-bm",
            sim.address,
            client_backend=air.client_backend(),
            scanner_backend=air.scanner_backend(),
            measure_timeout_s=10,
        )
        loop = asyncio.get_running_loop()
        samples = []
        for _ in range(3):
            t_measuring: list[float] = []
            await drv.start()
            try:
                while True:
                    event = await drv.next_event(10)
                    if isinstance(event, Measuring):
                        t_measuring.append(loop.time())
                    if isinstance(event, Reading):
                        samples.append(loop.time() - t_measuring[0])
                        break
            finally:
                await drv.stop()
        return samples

    floor = (settling + 1 + (stable - 1) * 100) / 100
    _report("berrymed 100 Hz (Measuring -> Reading)", _bench(benchmark, body), floor, benchmark)
