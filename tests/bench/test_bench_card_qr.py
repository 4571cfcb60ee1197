"""Card and QR figures: how far the drivers are from their transport's floor.

Run:  .venv/bin/python -m pytest tests/bench/test_bench_card_qr.py --benchmark-enable -s

- card: time from the virtual card's insertion to CardRead through the real
  pcscd + vpcd, split into pcscd's detection (insert -> CardInserted, bounded
  by pcscd's 400 ms presence poll) and the read (CardInserted -> CardRead). The read's floor is the number of APDUs
  the profile sends times the measured round trip of a trivial APDU.
- QR: decode time of one 640x480 frame, with a code and without, and both
  decoders side by side in one run (zxing-cpp, the product's, and OpenCV's
  ArUco-based detector, the previous one): median time per frame on the
  project's simulated frames, and how many of ten dim frames each reads.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import statistics
import time
from collections.abc import Iterator
from typing import Any

import pytest

from drivers.card.apdu import CommandApdu
from drivers.card.driver import CardReaderDriver
from drivers.card.errors import CardTransportError
from drivers.card.sim_pcscd import PcscEndpoint, shared_pcscd
from drivers.card.sim_vpcd import MIN_SWAP_S, VirtualCardSlot, wait_until_seen
from drivers.card.transport import PcscTransport
from drivers.card.worker import SerialWorker
from drivers.events import CardInserted, CardRead, CardRemoved, Connected
from drivers.qr.apcv_standin import encode_payload
from drivers.qr.detector import decode_qr, decode_qr_opencv, decode_qr_zxing
from drivers.qr.sim_frames import scene
from kiosk_demo import cards as patients
from kiosk_demo.keys import signing_key
from kiosk_demo.qr_codes import demo_identity
from tests.drivers.card.real_parts import missing_real_part

READER = "Virtual PCD 00 00"


@pytest.fixture(scope="module")
def pcscd() -> Iterator[PcscEndpoint]:
    # Never the system's virtual reader: another test run or a demo may be using it.
    manager = shared_pcscd(prefer_system=False)
    try:
        endpoint = manager.__enter__()
    except CardTransportError as exc:
        missing_real_part(f"pcscd with the vpcd driver cannot start here: {exc.message}")
    try:
        yield endpoint
    finally:
        manager.__exit__(None, None, None)


def _trivial_apdu_rtt(slot: VirtualCardSlot, rounds: int = 20) -> float:
    """Median round trip of a one-header APDU answered 6E00: the transport's floor."""
    slot.insert(patients.SINGLE_ADULT)
    assert wait_until_seen(READER, True)

    async def measure() -> float:
        worker = SerialWorker("bench-rtt")
        transport = PcscTransport(READER, worker)
        await transport.connect()
        times = []
        try:
            for _ in range(rounds):
                started = time.perf_counter()
                await transport.transmit(CommandApdu(0x80, 0xCA, 0, 0, le=1))
                times.append(time.perf_counter() - started)
        finally:
            await transport.disconnect()
            worker.close()
        return statistics.median(times)

    try:
        return asyncio.run(measure())
    finally:
        slot.remove()
        assert wait_until_seen(READER, False)


def test_card_insert_to_read_vs_apdu_floor(benchmark: Any, pcscd: PcscEndpoint) -> None:
    slot = VirtualCardSlot(port=pcscd.vpcd_port)
    rtt = _trivial_apdu_rtt(slot)
    loop = asyncio.new_event_loop()
    driver = CardReaderDriver("reader-1", reader_name=READER, today=lambda: dt.date(2026, 1, 1))
    detection: list[float] = []
    reading: list[float] = []
    apdus: list[int] = []

    async def start() -> None:
        await driver.start()
        assert isinstance(await driver.next_event(5), Connected)

    async def one_card() -> None:
        before = slot.apdus_answered
        inserted = time.perf_counter()
        slot.insert(patients.FAMILY)
        assert isinstance(await driver.next_event(5), CardInserted)
        seen = time.perf_counter()
        assert isinstance(await driver.next_event(5), CardRead)
        done = time.perf_counter()
        detection.append(seen - inserted)
        reading.append(done - seen)
        apdus.append(slot.apdus_answered - before)
        slot.remove()
        assert isinstance(await driver.next_event(5), CardRemoved)
        await asyncio.sleep(MIN_SWAP_S)  # so that the next insert() does not wait inside the timing

    loop.run_until_complete(start())
    try:
        benchmark.pedantic(lambda: loop.run_until_complete(one_card()), rounds=5, iterations=1)
    finally:
        loop.run_until_complete(driver.stop())
        loop.close()
        slot.close()
    floor = apdus[0] * rtt
    read = statistics.median(reading)
    benchmark.extra_info.update(
        apdus_per_read=apdus[0],
        trivial_apdu_rtt_ms=round(rtt * 1000, 2),
        read_floor_ms=round(floor * 1000, 1),
        read_median_ms=round(read * 1000, 1),
        detection_median_ms=round(statistics.median(detection) * 1000, 1),
        read_to_floor_ratio=round(read / floor, 2),
    )
    print(f"\ncard: {benchmark.extra_info}")
    assert len(set(apdus)) == 1  # every read sends the same commands


ISSUED = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)
PAYLOAD = encode_payload(demo_identity(ISSUED), signing_key())


def test_qr_decode_one_frame_with_a_code(benchmark: Any) -> None:
    frame = scene(PAYLOAD, seed=1, rotation_deg=8.0)
    assert benchmark(decode_qr, frame) == PAYLOAD


def test_qr_decode_one_frame_without_a_code(benchmark: Any) -> None:
    frame = scene(None, seed=2)
    assert benchmark(decode_qr, frame) is None


def _frames_normal() -> list[Any]:
    return [scene(PAYLOAD, seed=10 + i, rotation_deg=float(i % 3) * 4.0) for i in range(10)]


def _frames_dim() -> list[Any]:
    """A pharmacy corner at dusk: low brightness, more noise, a slight turn."""
    return [
        scene(PAYLOAD, seed=40 + i, brightness=55, noise=16.0, rotation_deg=float(i % 4) * 3.0)
        for i in range(10)
    ]


def _median_ms(decode: Any, frames: list[Any], rounds: int = 3) -> float:
    times = []
    for _ in range(rounds):
        for frame in frames:
            started = time.perf_counter()
            decode(frame)
            times.append(time.perf_counter() - started)
    return round(statistics.median(times) * 1000, 2)


def test_qr_decoders_side_by_side(benchmark: Any) -> None:
    """zxing-cpp against OpenCV on the same frames, in one run (printed with -s)."""
    normal, dim = _frames_normal(), _frames_dim()
    figures: dict[str, dict[str, float | int]] = {}
    for name, decode in (("zxing-cpp", decode_qr_zxing), ("opencv-aruco", decode_qr_opencv)):
        figures[name] = {
            "median_ms": _median_ms(decode, normal),
            "read_normal_of_10": sum(decode(f) == PAYLOAD for f in normal),
            "read_dim_of_10": sum(decode(f) == PAYLOAD for f in dim),
            "dim_median_ms": _median_ms(decode, dim, rounds=1),
        }
    benchmark.pedantic(lambda: decode_qr(normal[0]), rounds=5, iterations=1)
    benchmark.extra_info.update(figures)
    zx, cv = figures["zxing-cpp"], figures["opencv-aruco"]
    speedup = round(float(cv["median_ms"]) / max(float(zx["median_ms"]), 0.01), 1)
    benchmark.extra_info["speedup"] = speedup
    print(f"\nqr decoders: {figures} zxing-cpp is {speedup}x faster")
    assert zx["read_normal_of_10"] == 10
    assert zx["read_dim_of_10"] >= cv["read_dim_of_10"]
