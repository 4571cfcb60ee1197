"""BLE byte parsers at their edges: big exponents, unknown dates, status words, cut BCI streams."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from drivers.ble.berrymed import (
    MAX_RUN,
    NEED_DATA,
    BciFrame,
    BerryMedFramer,
    BerryMedReason,
    FrameSkipped,
    parse_frame,
)
from drivers.ble.blood_pressure import MEASURE_AGAIN_FLAGS as MEASURE_AGAIN_NAMES
from drivers.ble.blood_pressure import IntermediateCuffPressure, status_names
from drivers.ble.gatt_fields import DateTime, parse_date_time
from drivers.ble.health_thermometer import parse_temperature_measurement
from drivers.ble.plx import DEVICE_SENSOR_STATUS_BITS, ContinuousMeasurement, parse_continuous
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


def test_a_sync_byte_followed_by_a_long_run_without_another_is_dropped_as_overlong() -> None:
    framer = BerryMedFramer()
    framer.receive_data(b"\x80" + bytes(MAX_RUN - 1))
    assert framer.next_event() is NEED_DATA  # still a possible (long) packet
    framer.receive_data(b"\x00")
    assert framer.next_event() == FrameSkipped(MAX_RUN + 1, BerryMedReason.OVERLONG)
    assert framer.buffered == 0
    framer.receive_data(FRAME + FRAME[:1])
    assert framer.next_event() == parse_frame(FRAME)


def test_the_kiosk_clock_is_written_as_a_whole_second_date_time() -> None:
    capture = (CAPTURES / "date_time.bin").read_bytes()
    moment = dt.datetime(2026, 12, 2, 20, 15, 7, 999_999)
    assert bytes(DateTime.from_datetime(moment)) == capture
    assert parse_date_time(capture) == DateTime.from_datetime(moment)


def test_a_thermometer_reading_names_only_the_flags_it_carries() -> None:
    celsius = parse_temperature_measurement(b"\x00" + encode_float(Decimal("36.5")))
    assert (celsius.value, celsius.unit, celsius.flags) == (Decimal("36.5"), "Cel", ())
    armpit = parse_temperature_measurement(b"\x05" + encode_float(Decimal("97.7")) + b"\x01")
    assert armpit.flags == ("fahrenheit", "site:armpit")


@given(st.integers(min_value=0, max_value=0xFFFFFF))
def test_a_continuous_reading_names_its_device_and_sensor_status(status: int) -> None:
    sent = ContinuousMeasurement(Decimal(98), Decimal(72), device_sensor_status=status)
    got = parse_continuous(bytes(sent))
    assert got == sent
    expected = tuple(n for b, n in sorted(DEVICE_SENSOR_STATUS_BITS.items()) if status >> b & 1)
    assert got.device_sensor_status_names == expected
    assert ContinuousMeasurement(Decimal(98), Decimal(72)).device_sensor_status_names == ()


def test_the_monitor_status_names_are_the_domain_s_device_flags() -> None:
    """Every status bit the parser names is a flag the doctor gets; a moving arm, a loose or
    badly placed cuff ask the patient to measure again (app.domain.measurements)."""
    from app.domain.measurements import (
        MEASURE_AGAIN_FLAGS,
        DeviceFlag,
        DeviceSource,
        MeasurementKind,
        Quantity,
        device_flags,
        make_measurement,
    )

    named = {name for status in range(64) for name in status_names(status)}
    named.discard("pulse-rate-range-reserved")
    assert {f.value for f in device_flags(named)} == named
    assert {f.value for f in MEASURE_AGAIN_FLAGS} == MEASURE_AGAIN_NAMES
    at = dt.datetime(2026, 12, 3, 10, 0, tzinfo=dt.UTC)
    values = {Quantity.SYSTOLIC: Decimal(141), Quantity.DIASTOLIC: Decimal(91)}
    moved = make_measurement(
        "m1", MeasurementKind.BLOOD_PRESSURE, values, DeviceSource("bp-1"), at,
        flags=status_names(0b11),
    )  # fmt: skip
    assert moved.device_flags == (DeviceFlag.BODY_MOVEMENT, DeviceFlag.CUFF_TOO_LOOSE)
    assert moved.measure_again
    irregular = make_measurement(
        "m2", MeasurementKind.BLOOD_PRESSURE, values, DeviceSource("bp-1"), at,
        flags=status_names(0b100),
    )  # fmt: skip
    assert irregular.device_flags == (DeviceFlag.IRREGULAR_PULSE,)
    assert not irregular.measure_again
