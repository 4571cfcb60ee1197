"""BLE byte parsers at their edges: big exponents, unknown dates, status words, cut BCI streams."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from drivers.ble.berrymed import NEED_DATA, BciFrame, BerryMedFramer, parse_frame
from drivers.ble.blood_pressure import IntermediateCuffPressure, status_names
from drivers.ble.gatt_fields import DateTime, parse_date_time
from drivers.ieee11073 import (
    Ieee11073Error,
    decode_float,
    decode_sfloat,
    encode_float,
    encode_sfloat,
)

CAPTURES = Path(__file__).resolve().parents[1] / "captures"
FRAME = bytes.fromhex("C7 34 06 4B 62")  # BCI: finger, SpO2 98, PR 75, pleth 52, bar 6


def test_an_exponent_above_the_range_is_brought_down_into_the_mantissa() -> None:
    # SFLOAT exponents stop at +7: 1E8 is written as 10E7, without losing the value.
    assert decode_sfloat(encode_sfloat(Decimal("1E8"))) == Decimal("1E8")
    assert decode_sfloat(encode_sfloat(Decimal("-3E9"))) == Decimal("-3E9")
    assert decode_float(encode_float(Decimal("1E130"))) == Decimal("1E130")


@given(
    st.integers(min_value=-2045, max_value=2045),
    st.integers(min_value=-8, max_value=12),
)
def test_any_sfloat_value_is_encoded_exactly_or_refused(mantissa: int, exponent: int) -> None:
    value = Decimal(mantissa).scaleb(exponent)
    try:
        data = encode_sfloat(value)
    except Ieee11073Error:
        return
    assert decode_sfloat(data) == value


def test_a_date_the_device_does_not_know_gives_no_datetime() -> None:
    assert DateTime(0, 0, 0, 0, 0, 0).to_datetime() is None
    assert DateTime(2026, 2, 30, 8, 0, 0).to_datetime() is None
    moment = parse_date_time((CAPTURES / "date_time.bin").read_bytes()).to_datetime()
    assert moment is not None and moment.isoformat() == "2026-12-02T20:15:07"


def test_status_names_of_a_cuff_with_and_without_a_status() -> None:
    assert status_names(None) == ()
    cuff = IntermediateCuffPressure.parse((CAPTURES / "bp_intermediate_cuff.bin").read_bytes())
    assert cuff.status_names == ()
    assert status_names(0b11_1111) == (
        "body-movement",
        "cuff-too-loose",
        "irregular-pulse",
        "pulse-rate-range-reserved",
        "improper-measurement-position",
    )


def test_a_bci_frame_parses_through_its_class_and_a_cut_stream_ends_with_nothing() -> None:
    assert BciFrame.parse(FRAME) == parse_frame(FRAME)
    framer = BerryMedFramer()
    framer.receive_data(FRAME[:3])
    assert framer.next_event() is NEED_DATA
    assert framer.end_of_stream() is None
    assert framer.buffered == 0
    framer.receive_data(FRAME)
    assert framer.end_of_stream() == parse_frame(FRAME)
