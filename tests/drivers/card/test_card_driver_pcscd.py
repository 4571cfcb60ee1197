"""The card reader driver against the real pcscd, the vpcd driver and our virtual card."""

from __future__ import annotations

import asyncio
import datetime as dt
import gc
import sys
import time
from collections.abc import Callable

import pytest

from drivers.card.apdu import CommandApdu, ResponseApdu, select_by_aid
from drivers.card.driver import CardReaderDriver
from drivers.card.errors import CardErrorReason, CardTransportError
from drivers.card.sim_card import SIMULATED_ATR
from drivers.card.sim_vpcd import VirtualCardSlot, wait_until_seen
from drivers.card.transport import PcscTransport
from drivers.card.vitale import AID_VITALE
from drivers.card.worker import SerialWorker
from drivers.events import (
    Beneficiary,
    CardInserted,
    CardRead,
    CardRemoved,
    Connected,
    DeviceEvent,
    Failed,
    FailureReason,
)
from kiosk_demo import cards as patients
from vocabulary.devices import DeviceKind

pytestmark = pytest.mark.integration

READER = "Virtual PCD 00 00"

TODAY = dt.date(2026, 11, 23)
MakeDriver = Callable[..., CardReaderDriver]


async def started(make_driver: MakeDriver, **kwargs: object) -> CardReaderDriver:
    kwargs.setdefault("today", lambda: TODAY)
    driver = make_driver(**kwargs)
    await driver.start()
    assert await driver.next_event(5) == Connected("reader-1", DeviceKind.CARD_READER)
    return driver


async def event(driver: CardReaderDriver, timeout: float = 5.0) -> DeviceEvent | None:
    return await driver.next_event(timeout)


async def test_single_adult_born_overseas_is_read(
    make_driver: MakeDriver, slot: VirtualCardSlot
) -> None:
    driver = await started(make_driver)
    slot.insert(patients.SINGLE_ADULT)
    assert await event(driver) == CardInserted("reader-1", atr=SIMULATED_ATR)
    assert await event(driver) == CardRead(
        "reader-1",
        beneficiaries=(
            Beneficiary("HOARAU", "MARIE JOSEE", "1990-05-14", "290059741112392", rank=1),
        ),
        valid_until="2099-12-31",
    )


async def test_family_card_gives_every_beneficiary_in_order(
    make_driver: MakeDriver, slot: VirtualCardSlot
) -> None:
    driver = await started(make_driver)
    slot.insert(patients.FAMILY)
    assert isinstance(await event(driver), CardInserted)
    read = await event(driver)
    assert isinstance(read, CardRead)
    assert read.valid_until is None
    assert [(b.rank, b.first_name, b.birth_date, b.nir) for b in read.beneficiaries] == [
        (1, "PAUL", "1979-11-05", "179112A00401272"),
        (2, "LEA", "2012-06-23", "212067505603137"),
        (3, "TOM", "2015-09-02", "115092B03304272"),
    ]
    assert {b.surname for b in read.beneficiaries} == {"BERNARD"}


async def test_expired_card_fails_with_card_expired(
    make_driver: MakeDriver, slot: VirtualCardSlot
) -> None:
    driver = await started(make_driver)
    slot.insert(patients.EXPIRED)
    assert isinstance(await event(driver), CardInserted)
    assert await event(driver) == Failed(
        "reader-1",
        DeviceKind.CARD_READER,
        FailureReason.CARD_EXPIRED,
        "The card is no longer valid: its validity ended before today.",
    )


async def test_expiry_uses_the_injected_clock(
    make_driver: MakeDriver, slot: VirtualCardSlot
) -> None:
    driver = await started(make_driver, today=lambda: dt.date(2020, 12, 31))
    slot.insert(patients.EXPIRED)
    assert isinstance(await event(driver), CardInserted)
    read = await event(driver)
    assert isinstance(read, CardRead)  # still valid on its last day
    assert read.valid_until == "2020-12-31"


async def test_error_status_word_fails_with_card_error(
    make_driver: MakeDriver, slot: VirtualCardSlot
) -> None:
    driver = await started(make_driver)
    slot.insert(patients.REFUSES_READ)
    assert isinstance(await event(driver), CardInserted)
    assert await event(driver) == Failed(
        "reader-1",
        DeviceKind.CARD_READER,
        FailureReason.CARD_ERROR,
        "The card refused to read its beneficiaries file: security status not satisfied (6982).",
    )


async def test_mute_card_times_out_then_its_removal_is_still_reported(
    make_driver: MakeDriver, slot: VirtualCardSlot
) -> None:
    driver = await started(make_driver, read_timeout_s=1.0)
    slot.insert(patients.MUTE)
    assert isinstance(await event(driver), CardInserted)
    assert await event(driver) == Failed(
        "reader-1",
        DeviceKind.CARD_READER,
        FailureReason.TIMEOUT,
        "The card did not answer within 1 seconds.",
    )
    slot.remove()
    assert await event(driver, 2.0) == CardRemoved("reader-1")
    # the reader works again for the next patient
    slot.insert(patients.SINGLE_ADULT)
    assert isinstance(await event(driver), CardInserted)
    assert isinstance(await event(driver), CardRead)


async def test_removal_reaches_the_stream_within_one_second(
    make_driver: MakeDriver, slot: VirtualCardSlot
) -> None:
    # The one timed requirement: from the moment the card leaves the
    # reader (the simulator's socket closes, on the monotonic clock) to the
    # moment CardRemoved comes out of the driver's stream.
    driver = await started(make_driver)
    slot.insert(patients.FAMILY)
    assert isinstance(await event(driver), CardInserted)
    assert isinstance(await event(driver), CardRead)
    delays: list[float] = []
    for _ in range(3):
        await asyncio.sleep(0.3)  # land anywhere in pcscd's 400 ms presence poll
        remover = asyncio.create_task(asyncio.to_thread(slot.remove))
        removed = await event(driver, 5.0)  # a generous wait; the bound is checked below
        arrived = time.monotonic()
        await remover
        assert removed == CardRemoved("reader-1")
        assert slot.removed_at is not None and slot.removed_at <= arrived
        delays.append(arrived - slot.removed_at)
        slot.insert(patients.FAMILY)
        assert isinstance(await event(driver), CardInserted)
        assert isinstance(await event(driver), CardRead)
    print(f"card removal -> CardRemoved: {', '.join(f'{d * 1000:.0f} ms' for d in delays)}")
    assert max(delays) < 1.0, delays


async def test_removal_during_a_read_abandons_it_without_a_failure(
    make_driver: MakeDriver, slot: VirtualCardSlot
) -> None:
    driver = await started(make_driver, read_timeout_s=10.0)
    slot.insert(patients.MUTE)
    assert isinstance(await event(driver), CardInserted)
    await asyncio.sleep(0.2)  # the read is now stuck on the mute card
    slot.remove()
    # Well before the 10 s read timeout: the stuck read is abandoned by the removal.
    assert await event(driver, 5.0) == CardRemoved("reader-1")
    assert slot.removed_at is not None
    print(f"removal during a read -> CardRemoved: {time.monotonic() - slot.removed_at:.3f} s")
    with pytest.raises(TimeoutError):
        await driver.next_event(0.5)  # no Failed after the removal


async def test_card_already_in_the_reader_at_start_is_read(
    make_driver: MakeDriver, slot: VirtualCardSlot
) -> None:
    slot.insert(patients.SINGLE_ADULT)
    assert await asyncio.to_thread(wait_until_seen, READER, True)
    driver = await started(make_driver)
    assert isinstance(await event(driver), CardInserted)
    assert isinstance(await event(driver), CardRead)


async def test_absent_reader_fails_fast_with_not_found(make_driver: MakeDriver) -> None:
    driver = make_driver(reader_name="Acme USB Reader")
    await driver.start()
    assert await event(driver, 2.0) == Failed(
        "reader-1",
        DeviceKind.CARD_READER,
        FailureReason.NOT_FOUND,
        "PC/SC does not see a reader named 'Acme USB Reader' (2 reader(s) connected).",
    )


async def test_check_reports_reader_and_card_presence(
    make_driver: MakeDriver, slot: VirtualCardSlot
) -> None:
    driver = make_driver()
    result = await driver.check()
    assert (result.ok, result.detail) == (
        True,
        "Reader 'Virtual PCD 00 00' is connected; no card is inserted; profile vitale2-public.",
    )
    slot.insert(patients.FAMILY)
    assert await asyncio.to_thread(wait_until_seen, READER, True)
    result = await driver.check()
    assert result.detail == (
        "Reader 'Virtual PCD 00 00' is connected; a card is inserted; profile vitale2-public."
    )
    missing = await make_driver(reader_name="Nope").check()
    assert (missing.ok, missing.detail) == (
        False,
        "PC/SC does not see a reader named 'Nope' (2 reader(s) connected).",
    )


async def test_transport_exchanges_raw_apdus_through_pcscd(slot: VirtualCardSlot) -> None:
    slot.insert(patients.SINGLE_ADULT)
    assert await asyncio.to_thread(wait_until_seen, READER, True)
    worker = SerialWorker("test-transport")
    transport = PcscTransport("Virtual PCD 00 00", worker)
    try:
        assert await transport.connect() == SIMULATED_ATR
        response = await transport.transmit(select_by_aid(AID_VITALE))
        assert response == ResponseApdu(bytes.fromhex("6F0D840B") + AID_VITALE, 0x9000)
        assert await transport.transmit(CommandApdu(0x80, 0xCA, 0, 0, le=1)) == ResponseApdu(
            b"", 0x6E00
        )
        assert transport.transmitted == 2
    finally:
        await transport.disconnect()
        worker.close()


async def test_transport_releases_each_handle_exactly_once(slot: VirtualCardSlot) -> None:
    slot.insert(patients.SINGLE_ADULT)
    assert await asyncio.to_thread(wait_until_seen, READER, True)
    worker = SerialWorker("test-transport-release")
    transport = PcscTransport(READER, worker)
    try:
        assert await transport.connect() == SIMULATED_ATR
        await transport.disconnect()
        assert transport.released == 2  # the card handle, then the context
        await transport.disconnect()  # a second disconnect (cleanup behind a cancel) is a no-op
        assert transport.released == 2
        with pytest.raises(CardTransportError) as gone:
            await transport.transmit(select_by_aid(AID_VITALE))
        assert gone.value.message == "No card is connected."
    finally:
        worker.close()


async def test_failed_connect_releases_its_context_before_it_raises(pcscd: object) -> None:
    assert await asyncio.to_thread(wait_until_seen, READER, False)
    worker = SerialWorker("test-transport-empty")
    transport = PcscTransport(READER, worker)
    try:
        with pytest.raises(CardTransportError) as empty:
            await transport.connect()  # no card in the reader
        assert empty.value.reason is CardErrorReason.NO_CARD
        assert empty.value.message == (
            "The card was removed or is not answering while connecting to the card."
        )
        assert transport.released == 1  # the context it had established, and nothing more
        await transport.disconnect()
        assert transport.released == 1
        with pytest.raises(CardTransportError) as unknown:
            await PcscTransport("Acme USB Reader", worker).connect()
        assert unknown.value.message == "The reader 'Acme USB Reader' is not connected."
    finally:
        worker.close()


async def test_reinserted_and_pulled_cards_leave_nothing_for_the_garbage_collector(
    make_driver: MakeDriver, slot: VirtualCardSlot
) -> None:
    """A colleague once saw pyscard's 'Failed to release context' from a finaliser at teardown."""
    unraisable: list[str] = []
    previous = sys.unraisablehook
    sys.unraisablehook = lambda info: unraisable.append(f"{info.exc_type}: {info.exc_value}")
    try:
        driver = await started(make_driver, read_timeout_s=10.0)
        for card in (patients.SINGLE_ADULT, patients.FAMILY):
            slot.insert(card)
            assert isinstance(await event(driver), CardInserted)
            assert isinstance(await event(driver), CardRead)
            slot.remove()
            assert await event(driver, 2.0) == CardRemoved("reader-1")
        slot.insert(patients.SINGLE_ADULT)  # pulled at once, maybe in the middle of the read
        assert isinstance(await event(driver), CardInserted)
        slot.remove()
        while (ev := await event(driver, 3.0)) != CardRemoved("reader-1"):
            assert isinstance(ev, CardRead | Failed)
        await driver.stop()
        await asyncio.sleep(0.2)  # let the workers finish their posted cleanups
        gc.collect()
    finally:
        sys.unraisablehook = previous
    assert unraisable == []
