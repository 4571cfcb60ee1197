"""A real pcscd with the vpcd virtual reader for the card tests.

We always start our own pcscd on a private socket and a free vpcd port
(drivers/card/sim_pcscd.py) for the whole session and stop it at the end; the
system's virtual reader may be in use by a demo or another run. Tests skip
only when pcscd truly cannot start, and say why; under CI they fail instead.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator

import pytest

from drivers.card.driver import CardReaderDriver
from drivers.card.errors import CardTransportError
from drivers.card.sim_pcscd import PcscEndpoint, shared_pcscd
from drivers.card.sim_vpcd import VirtualCardSlot, wait_until_seen
from tests.drivers.card.real_parts import missing_real_part

READER = "Virtual PCD 00 00"


@pytest.fixture(scope="session")
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


@pytest.fixture
def slot(pcscd: PcscEndpoint) -> Iterator[VirtualCardSlot]:
    card_slot = VirtualCardSlot(port=pcscd.vpcd_port)
    try:
        yield card_slot
    finally:
        card_slot.close()
        # the next test must start with pcscd agreeing that the reader is empty
        assert wait_until_seen(READER, present=False)


@pytest.fixture
async def make_driver(
    pcscd: PcscEndpoint,
) -> AsyncIterator[Callable[..., CardReaderDriver]]:
    made: list[CardReaderDriver] = []

    def make(**kwargs: object) -> CardReaderDriver:
        kwargs.setdefault("reader_name", READER)
        driver = CardReaderDriver("reader-1", **kwargs)  # type: ignore[arg-type]
        made.append(driver)
        return driver

    yield make
    for driver in made:
        await driver.stop()
