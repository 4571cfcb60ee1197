"""The Vitale 2 profile against the simulated card's applet, joined in memory.

The applet is the same code that answers behind pcscd; here the transmit is
an in-memory function (a fake transport, no mock), so that every profile
branch runs fast and under hypothesis.
"""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.card.apdu import CommandApdu, ResponseApdu
from drivers.card.errors import CardErrorReason, CardProtocolError
from drivers.card.profile import (
    FID_CARD_DATA,
    Transmit,
    Vitale2PublicProfile,
    exchange,
)
from drivers.card.sim_card import CardApplet, VirtualCard
from drivers.card.vitale import CardValidity
from drivers.events import Beneficiary, CardRead
from kiosk_demo import cards as patients
from vocabulary.nir import with_key


def applet_transmit(applet: CardApplet, log: list[bytes] | None = None) -> Transmit:
    async def transmit(command: CommandApdu) -> ResponseApdu:
        raw = bytes(command)
        if log is not None:
            log.append(raw)
        answer = applet.process(raw)
        if answer is None:
            await asyncio.Event().wait()  # mute: never answers
        assert answer is not None
        return ResponseApdu.parse(answer)

    return transmit


async def read(card: VirtualCard, log: list[bytes] | None = None) -> CardRead:
    return await Vitale2PublicProfile().read(applet_transmit(CardApplet(card), log), "reader-1")


async def test_the_exact_command_sequence() -> None:
    log: list[bytes] = []
    result = await read(patients.FAMILY, log)
    assert len(result.beneficiaries) == 3
    assert [raw.hex().upper() for raw in log] == [
        "00A404000ED2500000024D465F564954414C4500",  # SELECT the card-level application
        "00A4020C020102",  # SELECT the card data EF
        "00B0000000",  # READ BINARY 256 bytes
        "00B0010000",  # ... the next 128 (6282: end of file)
        "00A404000BD250000002564954414C4500",  # SELECT VITALE
        "00A4020C020101",
        "00B0000000",
        "00B0010000",
    ]


async def test_each_test_patient() -> None:
    adult = await read(patients.SINGLE_ADULT)
    assert adult == CardRead("reader-1", patients.SINGLE_ADULT.beneficiaries, "2099-12-31")
    family = await read(patients.FAMILY)
    assert family.beneficiaries == patients.FAMILY.beneficiaries
    assert family.valid_until is None
    expired = await read(patients.EXPIRED)  # the profile reads; the driver judges expiry
    assert expired.valid_until == "2020-12-31"
    with pytest.raises(CardProtocolError) as caught:
        await read(patients.REFUSES_READ)
    assert (caught.value.reason, caught.value.status_word) == (
        CardErrorReason.STATUS_WORD,
        0x6982,
    )
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.2):
            await read(patients.MUTE)


async def test_a_card_without_the_vitale_applications() -> None:
    async def foreign(command: CommandApdu) -> ResponseApdu:
        return ResponseApdu(b"", 0x6A82)

    with pytest.raises(CardProtocolError) as caught:
        await Vitale2PublicProfile().read(foreign, "reader-1")
    assert caught.value.reason is CardErrorReason.NOT_SUPPORTED
    assert caught.value.message == (
        "The card has no application D2500000024D465F564954414C45: it is not a Carte Vitale "
        "this profile can read."
    )


async def test_refused_card_data_file_names_the_file() -> None:
    card = VirtualCard(
        "locked",
        patients.SINGLE_ADULT.beneficiaries,
        CardValidity(None, None),
        refuse_read={FID_CARD_DATA: 0x6982},
    )
    with pytest.raises(CardProtocolError) as caught:
        await read(card)
    assert caught.value.message == (
        "The card refused to read its card data file: security status not satisfied (6982)."
    )


async def test_t0_habits_get_response_and_wrong_le() -> None:
    """A T=0 card answers 6Cxx (resend with Le=xx) then 61xx (GET RESPONSE)."""
    sent: list[bytes] = []

    async def t0_card(command: CommandApdu) -> ResponseApdu:
        sent.append(bytes(command))
        if command.ins == 0xB0 and command.le == 256:
            return ResponseApdu(b"", 0x6C04)
        if command.ins == 0xB0:
            return ResponseApdu(b"AB", 0x6102)
        return ResponseApdu(b"CD", 0x9000)

    response = await exchange(t0_card, CommandApdu(0, 0xB0, 0, 0, le=256))
    assert response == ResponseApdu(b"ABCD", 0x9000)
    assert [raw.hex().upper() for raw in sent] == ["00B0000000", "00B0000004", "00C0000002"]


async def test_endless_get_response_is_cut() -> None:
    async def chatty(command: CommandApdu) -> ResponseApdu:
        return ResponseApdu(b"x", 0x6101)

    with pytest.raises(CardProtocolError, match="more than 32 GET RESPONSE rounds"):
        await exchange(chatty, CommandApdu(0, 0xB0, 0, 0, le=1))


async def test_a_file_ending_on_a_chunk_boundary() -> None:
    card = VirtualCard(
        "exact", patients.FAMILY.beneficiaries, CardValidity(None, None), file_size=512
    )
    log: list[bytes] = []
    result = await read(card, log)
    assert result.beneficiaries == patients.FAMILY.beneficiaries
    assert "00B0020000" in [raw.hex().upper() for raw in log]  # 6B00 at 512 ends the file


# --- properties -------------------------------------------------------------------

names = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ -'", min_size=1, max_size=30).filter(
    lambda s: s.strip(" ") == s and s.strip()
)
people = st.builds(
    lambda surname, first, day, first13: Beneficiary(
        surname, first, day.isoformat(), with_key(first13)
    ),
    names,
    names,
    st.dates(dt.date(1900, 1, 1), dt.date(2025, 12, 31)),
    st.builds(
        lambda sex, yy, mm, dep, commune, order: (
            f"{sex}{yy:02d}{mm:02d}{dep}{commune:03d}{order:03d}"
        ),
        st.sampled_from("12"),
        st.integers(0, 99),
        st.integers(1, 12),
        st.sampled_from(["75", "2A", "2B", "97"]),
        st.integers(0, 999),
        st.integers(1, 999),  # order 000 does not exist
    ),
)


@given(st.lists(people, min_size=1, max_size=6), st.integers(16, 900))
@settings(max_examples=60, deadline=None)
def test_any_card_reads_back_what_was_written(crowd: list[Beneficiary], file_size: int) -> None:
    ranked = tuple(
        Beneficiary(p.surname, p.first_name, p.birth_date, p.nir, rank=i)
        for i, p in enumerate(crowd, start=1)
    )
    card = VirtualCard("prop", ranked, CardValidity(None, None), file_size=file_size)
    assert asyncio.run(read(card)).beneficiaries == ranked


@given(st.lists(st.binary(min_size=0, max_size=40), max_size=20))
def test_applet_answers_any_command_sequence_with_a_response(commands: list[bytes]) -> None:
    applet = CardApplet(patients.FAMILY)
    for raw in commands:
        answer = applet.process(raw)
        assert answer is not None
        ResponseApdu.parse(answer)
