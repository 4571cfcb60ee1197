"""The `CardProfile` seam: which commands to send to a card and what the answers mean.

The driver knows how to reach a card (PC/SC) and when it is inserted or
removed; a profile knows a card's layout. The shipped `Vitale2PublicProfile`
implements the publicly described Vitale 2 facts. A licensed SESAM-Vitale
reading library replaces it by implementing `CardProfile.read` (it may
ignore `transmit` and call its own API), without touching the driver.

A profile only sees a `transmit` coroutine: commands in, responses out. It
never blocks, never logs values, and raises `CardError` subclasses only.
"""

from __future__ import annotations

import dataclasses
import logging
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable

from drivers.card import apdu
from drivers.card.apdu import CommandApdu, ResponseApdu
from drivers.card.errors import CardErrorReason, CardProtocolError
from drivers.card.vitale import (
    AID_MF_VITALE,
    AID_VITALE,
    parse_beneficiaries,
    parse_validity,
)
from drivers.events import CardRead

log = logging.getLogger(__name__)

Transmit = Callable[[CommandApdu], Awaitable[ResponseApdu]]

# Profile convention (the real file identifiers are not public): the card-level
# data object 66 sits in this EF of the D2500000024D465F564954414C45 application,
# the 65 groups in this EF of the D250000002564954414C45 ("VITALE") application.
FID_CARD_DATA = 0x0102
FID_BENEFICIARIES = 0x0101

MAX_FILE_SIZE = 4096
MAX_GET_RESPONSE_ROUNDS = 32


class CardProfile(ABC):
    """Reads one inserted card into a `CardRead`, or raises a `CardError`."""

    name: str = "abstract"

    @abstractmethod
    async def read(self, transmit: Transmit, device_id: str) -> CardRead:
        """Talk to the card through `transmit` only; raise CardError on any failure."""


async def exchange(transmit: Transmit, command: CommandApdu) -> ResponseApdu:
    """One command with the T=0 habits handled: 6Cxx (wrong Le) and 61xx (GET RESPONSE)."""
    response = await transmit(command)
    if response.sw1 == 0x6C:
        response = await transmit(dataclasses.replace(command, le=response.sw2 or 256))
    data = response.data
    rounds = 0
    while response.sw1 == 0x61:
        rounds += 1
        if rounds > MAX_GET_RESPONSE_ROUNDS:
            raise CardProtocolError(
                CardErrorReason.MALFORMED,
                f"The card asked for more than {MAX_GET_RESPONSE_ROUNDS} GET RESPONSE rounds.",
                status_word=response.sw,
            )
        response = await transmit(apdu.get_response(response.sw2 or 256))
        data += response.data
    return ResponseApdu(data, response.sw)


async def read_whole_file(transmit: Transmit, what: str) -> bytes:
    """READ BINARY of the current EF in 256-byte chunks until it ends."""
    content = b""
    while True:
        if len(content) > MAX_FILE_SIZE:
            raise CardProtocolError(
                CardErrorReason.MALFORMED,
                f"The card's {what} file is longer than {MAX_FILE_SIZE} bytes.",
            )
        response = await exchange(transmit, apdu.read_binary(len(content)))
        if response.sw == apdu.SW_WRONG_OFFSET and content:
            return content  # the file ended exactly on a chunk boundary
        if response.sw not in (apdu.SW_OK, apdu.SW_END_OF_FILE):
            raise _refused("read", what, response)
        content += response.data
        if response.sw == apdu.SW_END_OF_FILE or len(response.data) < 256:
            return content


async def select_file(transmit: Transmit, file_id: int, what: str) -> None:
    response = await exchange(transmit, apdu.select_file(file_id))
    if not response.ok:
        raise _refused("select", what, response)


def _refused(verb: str, what: str, response: ResponseApdu) -> CardProtocolError:
    return CardProtocolError(
        CardErrorReason.STATUS_WORD,
        f"The card refused to {verb} its {what} file: {response.describe()}.",
        status_word=response.sw,
    )


class Vitale2PublicProfile(CardProfile):
    """The publicly described Vitale 2 layout; see drivers/card/vitale.py for conventions."""

    name = "vitale2-public"

    async def read(self, transmit: Transmit, device_id: str) -> CardRead:
        await self._select_application(transmit, AID_MF_VITALE)
        await select_file(transmit, FID_CARD_DATA, "card data")
        card_data = await read_whole_file(transmit, "card data")
        validity = parse_validity(card_data)

        await self._select_application(transmit, AID_VITALE)
        await select_file(transmit, FID_BENEFICIARIES, "beneficiaries")
        people = await read_whole_file(transmit, "beneficiaries")
        beneficiaries = parse_beneficiaries(people)
        log.info(
            "card read: %d beneficiaries, %d + %d bytes",
            len(beneficiaries),
            len(card_data),
            len(people),
        )
        return CardRead(
            device_id=device_id,
            beneficiaries=beneficiaries,
            valid_until=None if validity.valid_until is None else validity.valid_until.isoformat(),
        )

    @staticmethod
    async def _select_application(transmit: Transmit, aid: bytes) -> None:
        response = await exchange(transmit, apdu.select_by_aid(aid))
        if response.sw == apdu.SW_FILE_NOT_FOUND:
            raise CardProtocolError(
                CardErrorReason.NOT_SUPPORTED,
                f"The card has no application {aid.hex().upper()}: it is not a Carte Vitale "
                "this profile can read.",
                status_word=response.sw,
            )
        if not response.ok:
            raise CardProtocolError(
                CardErrorReason.STATUS_WORD,
                f"The card refused to select application {aid.hex().upper()}: "
                f"{response.describe()}.",
                status_word=response.sw,
            )
