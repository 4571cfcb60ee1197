"""Captured bytes (tests/drivers/captures/*.bin, see NOTE.md): whole parse, round trip, exact errors.

Expected values are literals from the specification, never built with the
encoder under test. Fuzz: every new parser raises only its typed error, with a
printed, pinnable seed (`--hypothesis-seed=N`, shown on failure with print_blob).
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.ble import blood_pressure as bp
from drivers.ble.berrymed import (
    BciFrame,
    BerryMedError,
    BerryMedFramer,
    BerryMedReason,
    FrameSkipped,
    parse_frame,
)
from drivers.ble.errors import GattDecodeError, GattReason
from drivers.ble.gatt_fields import DateTime, parse_date_time
from drivers.ieee11073 import SpecialValue

CAPTURES = Path(__file__).resolve().parents[1] / "captures"


def capture(name: str) -> bytes:
    return (CAPTURES / name).read_bytes()


# -- Blood Pressure Measurement 0x2A35 ---------------------------------------------------
def test_bp_full_mmhg_record() -> None:
    data = capture("bp_measurement_mmhg_full.bin")
    m = bp.BloodPressureMeasurement.parse(data)
    assert m == bp.BloodPressureMeasurement(
        systolic=Decimal(121),
        diastolic=Decimal(81),
        mean=Decimal(94),
        unit="mm[Hg]",
        timestamp=DateTime(2026, 12, 2, 10, 30, 0),
        pulse_rate=Decimal(72),
        user_id=1,
        measurement_status=0,
    )
    assert m.status_names == ()
    assert not m.measure_again
    assert bytes(m) == data
    assert "121" not in repr(m) and "72" not in repr(m)  # no health value in a repr


def test_bp_kpa_keeps_the_decimal_and_converts_to_whole_mmhg() -> None:
    data = capture("bp_measurement_kpa_decimal.bin")
    m = bp.parse_measurement(data)
    assert (m.systolic, m.diastolic, m.mean, m.unit) == (
        Decimal("16.1"),
        Decimal("10.8"),
        Decimal("12.6"),
        "kPa",
    )
    assert (m.timestamp, m.pulse_rate, m.user_id, m.measurement_status) == (None,) * 4
    assert str(m.systolic) == "16.1"
    assert bytes(m) == data
    assert bp.to_mmhg(m.systolic, m.unit) == Decimal(121)
    assert bp.to_mmhg(m.diastolic, m.unit) == Decimal(81)
    assert bp.to_mmhg(Decimal(120), "mm[Hg]") == Decimal(120)


def test_bp_status_bits_become_flags() -> None:
    data = capture("bp_measurement_status_bits.bin")
    m = bp.parse_measurement(data)
    assert m.measurement_status == 0x0023
    assert m.status_names == (
        "body-movement",
        "cuff-too-loose",
        "improper-measurement-position",
    )
    assert m.measure_again
    assert bytes(m) == data


def test_bp_pulse_range_is_a_two_bit_field() -> None:
    data = capture("bp_measurement_pulse_below_range.bin")
    m = bp.parse_measurement(data)
    assert m.pulse_rate == Decimal(45)
    assert m.status_names == ("pulse-rate-below-range",)
    assert not m.measure_again
    assert bytes(m) == data
    assert bp.status_names(0x0008) == ("pulse-rate-above-range",)
    assert bp.status_names(0x0018) == ("pulse-rate-range-reserved",)
    assert bp.status_names(0x0004) == ("irregular-pulse",)


def test_bp_nan_systolic_is_no_valid_reading_with_its_sentence() -> None:
    with pytest.raises(GattDecodeError) as info:
        bp.parse_measurement(capture("bp_measurement_nan_systolic.bin"))
    assert info.value.reason is GattReason.NO_VALID_READING
    assert info.value.special is SpecialValue.NAN
    assert info.value.field == "systolic pressure"
    assert info.value.message == (
        "The Blood Pressure Measurement (0x2A35) carries no valid reading: the systolic "
        "pressure is the special value NaN."
    )


@pytest.mark.parametrize(
    ("raw", "special"),
    [
        ("0008", SpecialValue.NRES),
        ("FE07", SpecialValue.PLUS_INFINITY),
        ("0208", SpecialValue.MINUS_INFINITY),
    ],
)
def test_bp_other_specials_in_the_mean(raw: str, special: SpecialValue) -> None:
    with pytest.raises(GattDecodeError) as info:
        bp.parse_measurement(bytes.fromhex("00 7800 5000" + raw))
    assert (info.value.reason, info.value.special) == (GattReason.NO_VALID_READING, special)
    assert info.value.field == "mean arterial pressure"


def test_bp_nan_pulse_is_kept_not_fatal() -> None:
    data = bytes.fromhex("04 7800 5000 5D00 FF07")
    m = bp.parse_measurement(data)
    assert m.pulse_rate is SpecialValue.NAN
    assert bytes(m) == data


def test_bp_truncated_and_trailing_sentences() -> None:
    with pytest.raises(GattDecodeError) as info:
        bp.parse_measurement(bytes.fromhex("02 7800 5000 5D00 EA07 0C"))
    assert info.value.reason is GattReason.TRUNCATED
    assert info.value.message == (
        "The Blood Pressure Measurement (0x2A35) is truncated: the time stamp needs 7 byte(s) "
        "at offset 7 but the value is 10 byte(s) long."
    )
    with pytest.raises(GattDecodeError) as info:
        bp.parse_measurement(bytes.fromhex("00 7800 5000 5D00 00"))
    assert info.value.reason is GattReason.TRAILING_BYTES
    assert info.value.message == (
        "The Blood Pressure Measurement (0x2A35) has 1 byte(s) after the last field its flags "
        "announce."
    )


# -- Intermediate Cuff Pressure 0x2A36 and Date Time 0x2A08 -----------------------------
def test_intermediate_cuff_pressure() -> None:
    data = capture("bp_intermediate_cuff.bin")
    c = bp.IntermediateCuffPressure.parse(data)
    assert c == bp.IntermediateCuffPressure(pressure=Decimal(142), unit="mm[Hg]")
    assert (c.diastolic, c.mean) == (SpecialValue.NAN, SpecialValue.NAN)
    assert bytes(c) == data


def test_date_time_capture_and_range_errors() -> None:
    data = capture("date_time.bin")
    d = parse_date_time(data)
    assert d == DateTime(2026, 12, 2, 20, 15, 7)
    assert d.iso() == "2026-12-02T20:15:07"
    assert bytes(d) == data
    with pytest.raises(GattDecodeError) as info:
        parse_date_time(bytes.fromhex("EA07 0D 02 14 0F 07"))
    assert info.value.reason is GattReason.INVALID_FIELD
    assert info.value.message == "The Date Time (0x2A08) has month 13, above its maximum of 12."
    with pytest.raises(GattDecodeError) as info:
        parse_date_time(bytes.fromhex("0100 01 01 00 00 00"))
    assert info.value.message == (
        "The Date Time (0x2A08) has year 1, outside 1582 to 9999 (or 0 for unknown)."
    )
    assert parse_date_time(bytes(7)).iso() is None  # all zero: the device does not know


# -- BerryMed BCI ------------------------------------------------------------------------
FRAME_1 = BciFrame(
    signal_strength=7,
    no_signal=False,
    probe_unplugged=False,
    pulse_beep=True,
    pleth=52,
    bar_graph=6,
    no_finger=False,
    pulse_search=False,
    pulse_rate_raw=75,
    spo2_raw=98,
)
FRAME_2 = BciFrame(6, False, False, False, 64, 5, False, False, 130, 95)
FRAME_SEARCHING = BciFrame(0, True, False, False, 0, 0, False, True, 255, 127)
FRAME_NO_FINGER = BciFrame(0, False, False, False, 0, 0, True, False, 255, 127)
FRAME_UNPLUGGED = BciFrame(0, False, True, False, 0, 0, True, False, 255, 127)


def test_berrymed_stream_frames_whole() -> None:
    framer = BerryMedFramer()
    events = framer.frames(capture("berrymed_stream.bin"))
    assert events == [FRAME_1, FRAME_2, FRAME_SEARCHING, FRAME_NO_FINGER, FRAME_UNPLUGGED]
    assert framer.end_of_stream() == FRAME_1
    assert (FRAME_1.spo2, FRAME_1.pulse_rate, FRAME_1.finger_present) == (98, 75, True)
    assert FRAME_2.pulse_rate == 130  # the high bit travels in byte 2, bit 6
    assert (FRAME_SEARCHING.spo2, FRAME_SEARCHING.pulse_rate) == (None, None)
    assert FRAME_SEARCHING.status_names == ("no-signal", "pulse-search")
    assert not FRAME_NO_FINGER.finger_present
    assert FRAME_UNPLUGGED.status_names == ("probe-unplugged", "no-finger")
    assert "98" not in repr(FRAME_1)


def test_berrymed_frames_round_trip() -> None:
    data = capture("berrymed_stream.bin")
    for start in range(0, len(data), 5):
        chunk = data[start : start + 5]
        assert bytes(parse_frame(chunk)) == chunk


def test_berrymed_resynchronises_after_garbage() -> None:
    framer = BerryMedFramer()
    events = framer.frames(capture("berrymed_garbage.bin"))
    assert events == [
        FrameSkipped(3, BerryMedReason.NOISE),
        FrameSkipped(2, BerryMedReason.CUT_FRAME),
        FRAME_1,
        FRAME_2,
    ]
    assert framer.end_of_stream() == FRAME_1


def test_berrymed_split_anywhere_gives_the_same_frames() -> None:
    data = capture("berrymed_stream.bin")
    for cut in range(1, len(data)):
        framer = BerryMedFramer()
        events = framer.frames(data[:cut]) + framer.frames(data[cut:])
        assert events[:5] == [FRAME_1, FRAME_2, FRAME_SEARCHING, FRAME_NO_FINGER, FRAME_UNPLUGGED]


def test_berrymed_longer_packets_are_refused() -> None:
    framer = BerryMedFramer()
    with pytest.raises(BerryMedError) as info:
        framer.frames(capture("berrymed_longer_packets.bin"))
    assert info.value.reason is BerryMedReason.LONGER_PACKETS
    assert info.value.message == (
        "The oximeter sends packets of 20 bytes, not the 5-byte BCI frames the kiosk reads: its "
        "firmware speaks a newer protocol."
    )


def test_berrymed_single_frame_errors() -> None:
    cases = [
        (
            b"\xc7\x34\x06\x4b",
            BerryMedReason.WRONG_LENGTH,
            "A BCI frame is 5 bytes long; these are 4.",
        ),
        (
            b"\xc7\x34\x06\x4b\x62\x00",
            BerryMedReason.LONGER_PACKETS,
            "A BCI frame is 5 bytes long; these are 6.",
        ),
        (
            b"\x47\x34\x06\x4b\x62",
            BerryMedReason.NO_SYNC,
            "The first byte of a BCI frame must have its sync bit (7) set.",
        ),
        (
            b"\xc7\x34\x86\x4b\x62",
            BerryMedReason.SYNC_IN_BODY,
            "Byte 2 of a BCI frame has bit 7 set; only the first byte may.",
        ),
    ]
    for data, reason, message in cases:
        with pytest.raises(BerryMedError) as info:
            parse_frame(data)
        assert (info.value.reason, info.value.message) == (reason, message)


# -- fuzz ------------------------------------------------------------------------------
@settings(max_examples=600, print_blob=True)
@given(st.binary(max_size=40))
def test_fuzz_bp_parsers_raise_only_gatt_decode_error(data: bytes) -> None:
    for parse in (bp.parse_measurement, bp.parse_intermediate_cuff_pressure, parse_date_time):
        try:
            value = parse(data)
        except GattDecodeError:
            continue
        assert bytes(value) == data  # whatever parses gives its bytes back


@settings(max_examples=400, print_blob=True)
@given(st.binary(min_size=5, max_size=5))
def test_fuzz_bci_frame_parse_or_typed_error(data: bytes) -> None:
    try:
        frame = parse_frame(data)
    except BerryMedError as exc:
        assert exc.reason in {BerryMedReason.NO_SYNC, BerryMedReason.SYNC_IN_BODY}
        return
    assert bytes(frame) == data


@settings(max_examples=400, print_blob=True)
@given(st.lists(st.binary(max_size=30), max_size=12))
def test_fuzz_berrymed_framer_typed_events_only(chunks: list[bytes]) -> None:
    framer = BerryMedFramer()
    consumed = 0
    fed = sum(len(c) for c in chunks)
    for chunk in chunks:
        try:
            events = framer.frames(chunk)
        except BerryMedError as exc:
            assert exc.reason is BerryMedReason.LONGER_PACKETS
            continue
        for event in events:
            assert isinstance(event, BciFrame | FrameSkipped)
            consumed += 5 if isinstance(event, BciFrame) else event.length
    assert consumed + framer.buffered <= fed
