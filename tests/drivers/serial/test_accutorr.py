"""Accutorr records and the sans-I/O framer: fixtures, exact messages, round trip, fuzzing."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.serial.accutorr import (
    NEED_DATA,
    AccutorrError,
    AccutorrFramer,
    AccutorrReason,
    AlarmLimits,
    Command,
    GarbageSkipped,
    PatientRecord,
    Prompt,
    parse_record,
)

RECORD = b"P:098,072,120,093,080,000,000,000,000\r\n"
VALUE = PatientRecord(98, 72, 120, 93, 80, 0, 0, 0, 0)


def test_patient_record_fixture_and_round_trip() -> None:
    assert parse_record(RECORD) == VALUE
    assert bytes(VALUE) == RECORD
    assert VALUE.pressures == (120, 80, 93)
    assert len(RECORD) == 39


def test_unused_fields_and_padding() -> None:
    record = parse_record(b"P:--,---, 99,  7,-,001,004,128,012\r\n")
    assert record == PatientRecord(None, None, 99, 7, None, 1, 4, 128, 12)
    assert isinstance(record, PatientRecord)
    assert record.status_names == ("cuff-error", "spo2-low-perfusion", "equipment-fault")
    assert record.device_errors == ("cuff-error", "equipment-fault")
    assert bytes(record) == b"P:--,--,099,007,--,001,004,128,012\r\n"


def test_alarm_limits_record() -> None:
    data = b"L:090,100,050,120,090,160,050,100\r\n"
    limits = parse_record(data)
    assert limits == AlarmLimits(90, 100, 50, 120, 90, 160, 50, 100)
    assert bytes(limits) == data


@pytest.mark.parametrize(
    ("data", "reason", "message"),
    [
        (
            b"X:1\r\n",
            AccutorrReason.NOT_A_RECORD,
            "A record starts with 'P:' or 'L:'; these 5 byte(s) do not.",
        ),
        (RECORD[:-2], AccutorrReason.NO_TERMINATOR, "The record does not end with <CR><LF>."),
        (
            b"P:098,072\r\n",
            AccutorrReason.FIELD_COUNT,
            "A patient record has 9 fields; this one has 2.",
        ),
        (
            b"P:098,07a,120,093,080,000,000,000,000\r\n",
            AccutorrReason.BAD_FIELD,
            "The pulse rate field (3 byte(s)) is neither 1 to 3 digits nor '--'.",
        ),
        (
            b"P:098,072,120,093,080,300,000,000,000\r\n",
            AccutorrReason.BAD_FIELD,
            "The status byte 0 field is above its maximum of 255.",
        ),
        (
            b"L:1,2,3\r\n",
            AccutorrReason.FIELD_COUNT,
            "A alarm-limits record has 8 fields; this one has 3.",
        ),
    ],
)
def test_bad_records(data: bytes, reason: AccutorrReason, message: str) -> None:
    with pytest.raises(AccutorrError) as info:
        parse_record(data)
    assert info.value.reason is reason
    assert info.value.message == message


def drain(framer: AccutorrFramer) -> list[object]:
    out: list[object] = []
    while (event := framer.next_event()) is not NEED_DATA:
        out.append(event)
    return out


def test_framer_commands_and_prompt() -> None:
    framer = AccutorrFramer()
    assert framer.send(Command.CHECK) == b"C"
    assert bytes(Command.PATIENT) == b"P" and bytes(Command.LIMITS) == b"L"
    framer.receive_data(b">")
    assert drain(framer) == [Prompt()]


def test_framer_record_split_across_reads() -> None:
    framer = AccutorrFramer()
    for i in range(0, len(RECORD), 7):
        # A record not yet whole is waited for, never skipped: all its bytes stay buffered.
        assert framer.next_event() is NEED_DATA
        assert framer.buffered == i
        framer.receive_data(RECORD[i : i + 7])
    assert drain(framer) == [VALUE]
    assert framer.buffered == 0


def test_framer_skips_noise_and_a_record_cut_in_the_middle() -> None:
    framer = AccutorrFramer()
    framer.receive_data(b"\x00\xff~~" + RECORD[:15] + RECORD + b"P:1,2\r\n" + b"zz>")
    assert drain(framer) == [
        GarbageSkipped(4, AccutorrReason.NOISE),
        GarbageSkipped(15, AccutorrReason.CUT_RECORD),
        VALUE,
        GarbageSkipped(7, AccutorrReason.FIELD_COUNT),
        GarbageSkipped(2, AccutorrReason.NOISE),
        Prompt(),
    ]


def test_framer_keeps_a_trailing_marker_and_drops_overlong_lines() -> None:
    framer = AccutorrFramer()
    framer.receive_data(b"noiseP")
    assert drain(framer) == [GarbageSkipped(5, AccutorrReason.NOISE)]
    framer.receive_data(RECORD[1:])
    assert drain(framer) == [VALUE]
    framer.receive_data(b"P:" + b"1" * 100)
    assert drain(framer) == [GarbageSkipped(102, AccutorrReason.TOO_LONG)]


@settings(max_examples=500, print_blob=True)
@given(st.binary(max_size=80))
def test_fuzz_parse_record_raises_only_accutorr_error(data: bytes) -> None:
    try:
        record = parse_record(data)
    except AccutorrError:
        return
    assert parse_record(bytes(record)) == record


@settings(max_examples=300, print_blob=True)
@given(
    st.lists(st.one_of(st.binary(max_size=20), st.just(RECORD), st.just(b">")), max_size=8),
    st.data(),
)
def test_fuzz_framer_never_raises_and_finds_every_clean_record(
    chunks: list[bytes], data: st.DataObject
) -> None:
    stream = b"".join(chunks)
    framer = AccutorrFramer()
    events: list[object] = []
    pos = 0
    while pos < len(stream):
        size = data.draw(st.integers(1, 16))
        framer.receive_data(stream[pos : pos + size])
        pos += size
        events += drain(framer)
    skipped = sum(e.length for e in events if isinstance(e, GarbageSkipped))
    assert skipped + framer.buffered <= len(stream)
    assert sum(1 for e in events if e == VALUE) <= stream.count(RECORD)


NOISE = st.binary(max_size=20).map(lambda b: bytes(c for c in b if c not in b"PL>\n"))


@settings(max_examples=300, print_blob=True)
@given(st.lists(st.one_of(NOISE, st.just(RECORD)), max_size=8), st.data())
def test_fuzz_every_record_between_plain_noise_comes_through(
    chunks: list[bytes], data: st.DataObject
) -> None:
    stream = b"".join(chunks)
    framer = AccutorrFramer()
    events: list[object] = []
    pos = 0
    while pos < len(stream):
        size = data.draw(st.integers(1, 16))
        framer.receive_data(stream[pos : pos + size])
        pos += size
        events += drain(framer)
    assert [e for e in events if not isinstance(e, GarbageSkipped)] == [VALUE] * chunks.count(
        RECORD
    )
