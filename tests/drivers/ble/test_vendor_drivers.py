"""BloodPressureDriver and BerryMedOximeterDriver over bleak + the simulated air, every behaviour."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from drivers.base import Driver
from drivers.ble import blood_pressure as bp
from drivers.ble.berrymed_driver import BerryMedOximeterDriver
from drivers.ble.blood_pressure_driver import BloodPressureDriver
from drivers.ble.sim_air import BleFault, SimulatedAir
from drivers.ble.sim_berrymed import BerryMedBehaviour, SimulatedBerryMed
from drivers.ble.sim_blood_pressure import BpBehaviour, SimulatedBloodPressureMonitor
from drivers.events import (
    Connecting,
    CuffPressure,
    DeviceEvent,
    Failed,
    FailureReason,
    PlethWave,
    Reading,
    ReadingValue,
)
from vocabulary.devices import DeviceKind

BP = "C0:FF:EE:00:00:10"
BM = "C0:FF:EE:00:00:11"


def kwargs(air: SimulatedAir, **over: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "client_backend": air.client_backend(),
        "scanner_backend": air.scanner_backend(),
        "connect_timeout_s": 0.5,
        "measure_timeout_s": 1.0,
        "retry_delay_s": 0.01,
    }
    base.update(over)
    return base


async def run(driver: Driver) -> list[DeviceEvent]:
    await driver.start()
    try:
        return [e async for e in driver.events()]
    finally:
        await driver.stop()


def names(events: list[DeviceEvent], *, progress: bool = False) -> list[str]:
    skip = () if progress else (Connecting, CuffPressure, PlethWave)
    return [type(e).__name__ for e in events if not isinstance(e, skip)]


def failure(events: list[DeviceEvent]) -> tuple[FailureReason, str]:
    failed = [e for e in events if isinstance(e, Failed)]
    assert len(failed) == 1, names(events)
    return failed[0].reason, failed[0].message


def bp_sim(air: SimulatedAir, behaviour: BpBehaviour = BpBehaviour.NORMAL) -> Any:
    sim = SimulatedBloodPressureMonitor(BP, measure_delay_s=0.02)
    sim.behaviour = behaviour
    return air.add(sim)


# -- blood pressure ---------------------------------------------------------------------
async def test_bp_normal_sets_clock_shows_cuff_skips_stored_record(air: SimulatedAir) -> None:
    sim = bp_sim(air)
    driver = BloodPressureDriver("bp-ble", BP, **kwargs(air))
    events = await run(driver)
    assert names(events) == ["Connected", "Measuring", "Reading", "Disconnected"]
    cuff = [e for e in events if isinstance(e, CuffPressure)]
    assert [e.pressure for e in cuff] == [Decimal(p) for p in (26, 53, 79, 105, 132, 158)]
    assert all(e.unit == "mm[Hg]" and e.kind is DeviceKind.TENSIOMETER for e in cuff)
    reading = next(e for e in events if isinstance(e, Reading))
    assert reading.values == (
        ReadingValue("systolic", Decimal(128), "mm[Hg]"),
        ReadingValue("diastolic", Decimal(82), "mm[Hg]"),
        ReadingValue("mean", Decimal(97), "mm[Hg]"),
        ReadingValue("heart-rate", Decimal(71), "/min"),
    )
    assert reading.flags == ()
    assert reading.device_time is not None
    assert driver.stale_records == 1  # yesterday's unsent record was skipped
    # The clock was written, and nothing else: never the Record Access Control Point.
    assert sim.writes == [(bp.DATE_TIME_UUID, 7)]
    assert sim.erase_requests == 0
    assert sim.pair_requests == 1  # it bonds first, as the A&D UA-651BLE requires
    assert not sim.connected  # it hung up by itself: not an error


async def test_bp_cuff_error_bits_are_flags(air: SimulatedAir) -> None:
    bp_sim(air, BpBehaviour.CUFF_ERROR)
    events = await run(BloodPressureDriver("bp-ble", BP, **kwargs(air)))
    reading = next(e for e in events if isinstance(e, Reading))
    assert reading.flags == ("body-movement", "cuff-too-loose")
    assert set(reading.flags) & bp.MEASURE_AGAIN_FLAGS


async def test_bp_only_an_old_record_is_refused(air: SimulatedAir) -> None:
    bp_sim(air, BpBehaviour.OLD_RECORD_ONLY)
    events = await run(BloodPressureDriver("bp-ble", BP, **kwargs(air)))
    assert names(events) == ["Connected", "Measuring", "Failed", "Disconnected"]
    assert failure(events) == (
        FailureReason.STALE_READING,
        "The blood-pressure monitor sent only 1 stored reading(s) taken before this session, "
        "and no new one.",
    )


async def test_bp_disconnect_mid_measure(air: SimulatedAir) -> None:
    bp_sim(air, BpBehaviour.DISCONNECT_MID_MEASURE)
    events = await run(BloodPressureDriver("bp-ble", BP, **kwargs(air)))
    assert any(isinstance(e, CuffPressure) for e in events)
    assert failure(events) == (
        FailureReason.DISCONNECTED,
        "The blood-pressure monitor's Bluetooth link was lost during the measurement.",
    )


async def test_bp_needs_clock_reads_only_once_the_clock_is_set(air: SimulatedAir) -> None:
    sim = bp_sim(air, BpBehaviour.NEEDS_CLOCK)
    sim.stored_records = 0
    unset = await run(BloodPressureDriver("bp-ble", BP, **kwargs(air, set_device_clock=False)))
    assert failure(unset)[0] is FailureReason.STALE_READING  # its 2000-01-01 stamp is refused
    assert sim.writes == []
    events = await run(BloodPressureDriver("bp-ble", BP, **kwargs(air)))
    assert names(events) == ["Connected", "Measuring", "Reading", "Disconnected"]
    assert sim.clock_writes == 1


async def test_bp_session_window_uses_the_injected_clock(air: SimulatedAir) -> None:
    """A kiosk clock a day ahead makes today's reading an old one: refused, never guessed."""
    bp_sim(air)
    ahead = dt.datetime.now().replace(microsecond=0) + dt.timedelta(days=1)
    driver = BloodPressureDriver(
        "bp-ble", BP, clock=lambda: ahead, **kwargs(air, set_device_clock=False)
    )
    events = await run(driver)
    assert failure(events)[0] is FailureReason.STALE_READING
    assert driver.stale_records == 2


async def test_bp_session_start_given_by_the_controller_widens_the_window(
    air: SimulatedAir,
) -> None:
    """The patient pressed Start before the kiosk reached the step: still this session's."""
    sim = bp_sim(air)
    sim.stored_records = 0
    later = dt.datetime.now().replace(microsecond=0) + dt.timedelta(minutes=10)
    driver = BloodPressureDriver(
        "bp-ble", BP, clock=lambda: later, **kwargs(air, set_device_clock=False)
    )
    assert failure(await run(driver))[0] is FailureReason.STALE_READING
    driver.session_start = later - dt.timedelta(minutes=15)
    assert names(await run(driver)) == ["Connected", "Measuring", "Reading", "Disconnected"]


async def test_bp_special_value_and_absent(air: SimulatedAir) -> None:
    sim = bp_sim(air)
    sim.fault = BleFault.SPECIAL_VALUE
    sim.stored_records = 0
    events = await run(BloodPressureDriver("bp-ble", BP, **kwargs(air)))
    assert failure(events)[0] is FailureReason.NO_VALID_READING
    sim.fault = BleFault.ABSENT
    events = await run(BloodPressureDriver("bp-ble", BP, **kwargs(air, connect_timeout_s=0.2)))
    assert failure(events)[0] is FailureReason.NOT_FOUND


async def test_bp_kpa_is_converted_and_flagged(air: SimulatedAir) -> None:
    sim = bp_sim(air)
    sim.unit, sim.stored_records = "kPa", 0
    sim.next_systolic, sim.next_diastolic, sim.next_mean = (
        Decimal("16.1"),
        Decimal("10.8"),
        Decimal("12.6"),
    )
    events = await run(BloodPressureDriver("bp-ble", BP, **kwargs(air)))
    reading = next(e for e in events if isinstance(e, Reading))
    assert [v.value for v in reading.values[:3]] == [Decimal(121), Decimal(81), Decimal(95)]
    assert reading.flags == ("converted-from-kPa",)


async def test_bp_check_names_the_service(air: SimulatedAir) -> None:
    bp_sim(air)
    result = await BloodPressureDriver("bp-ble", BP, **kwargs(air)).check()
    assert result.ok
    assert result.detail == f"{BP} connected, service 1810 with 2 measurement characteristic(s)"


# -- BerryMed ---------------------------------------------------------------------------
def bm_sim(air: SimulatedAir, behaviour: BerryMedBehaviour = BerryMedBehaviour.NORMAL) -> Any:
    sim = SimulatedBerryMed(BM, frame_rate_hz=1000, settling_frames=20, measure_delay_s=0.01)
    sim.behaviour = behaviour
    return air.add(sim)


def bm_driver(air: SimulatedAir, **over: Any) -> BerryMedOximeterDriver:
    return BerryMedOximeterDriver("oxi-bm", BM, frames_per_sample=10, **kwargs(air, **over))


async def test_berrymed_normal_reading_and_pleth_wave(air: SimulatedAir) -> None:
    bm_sim(air)
    driver = bm_driver(air)
    events = await run(driver)
    assert names(events) == ["Connected", "Measuring", "Reading", "Disconnected"]
    reading = next(e for e in events if isinstance(e, Reading))
    assert reading.values == (
        ReadingValue("spo2", Decimal(97), "%"),
        ReadingValue("heart-rate", Decimal(72), "/min"),
    )
    assert reading.flags == ("continuous", "berrymed-bci")
    waves = [e for e in events if isinstance(e, PlethWave)]
    assert waves and all(e.sample_rate_hz == 100 for e in waves)
    assert all(0 <= s <= 100 for e in waves for s in e.samples)
    assert waves[-1].finger_present
    # 20 settling frames, then 3 samples 10 frames apart: the reading comes on frame 41.
    assert 41 <= driver.frames_seen <= 44


async def test_berrymed_probe_unplugged_and_no_finger_say_which(air: SimulatedAir) -> None:
    sim = bm_sim(air, BerryMedBehaviour.PROBE_UNPLUGGED)
    events = await run(bm_driver(air, measure_timeout_s=0.3))
    assert failure(events) == (
        FailureReason.DEVICE_ERROR,
        "The pulse oximeter's probe is unplugged.",
    )
    assert any(isinstance(e, PlethWave) and e.probe_unplugged for e in events)
    sim.behaviour = BerryMedBehaviour.NO_FINGER
    events = await run(bm_driver(air, measure_timeout_s=0.3))
    assert failure(events) == (
        FailureReason.DEVICE_ERROR,
        "The pulse oximeter reports that no finger is in the clip.",
    )
    assert any(isinstance(e, PlethWave) and not e.finger_present for e in events)


async def test_berrymed_garbage_bytes_are_skipped(air: SimulatedAir) -> None:
    bm_sim(air, BerryMedBehaviour.GARBAGE_BYTES)
    driver = bm_driver(air)
    events = await run(driver)
    assert names(events) == ["Connected", "Measuring", "Reading", "Disconnected"]
    assert driver.bytes_skipped > 0


async def test_berrymed_disconnect_mid_measure(air: SimulatedAir) -> None:
    bm_sim(air, BerryMedBehaviour.DISCONNECT_MID_MEASURE)
    events = await run(bm_driver(air))
    assert failure(events) == (
        FailureReason.DISCONNECTED,
        "The pulse oximeter's Bluetooth link was lost during the measurement.",
    )


async def test_berrymed_longer_packets_are_unsupported(air: SimulatedAir) -> None:
    bm_sim(air, BerryMedBehaviour.LONGER_PACKETS)
    events = await run(bm_driver(air))
    reason, message = failure(events)
    assert reason is FailureReason.UNSUPPORTED_FORMAT
    assert message.startswith("The oximeter sends packets of 20 bytes")


async def test_berrymed_check(air: SimulatedAir) -> None:
    bm_sim(air)
    result = await bm_driver(air).check()
    assert result.ok
    assert result.detail == (
        f"{BM} connected, service BerryMed transparent UART with 1 measurement characteristic(s)"
    )
