"""Health Thermometer 0x2A1C and PLX 0x2A5E / 0x2A5F: spec-built bytes, whole frozen results."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.ble import health_thermometer as ht
from drivers.ble import plx
from drivers.ble.errors import GattDecodeError, GattReason
from drivers.ble.gatt_fields import DateTime
from drivers.ieee11073 import SpecialValue

TS = "ea070b170a1e0f"  # 2026-11-23 10:30:15: year u16 LE, month, day, h, m, s
TS_VALUE = DateTime(2026, 11, 23, 10, 30, 15)


def test_thermometer_celsius_minimal() -> None:
    data = bytes.fromhex("00" + "6d0100ff")
    m = ht.parse_temperature_measurement(data)
    assert m == ht.TemperatureMeasurement(Decimal("36.5"), "Cel")
    assert str(m.value) == "36.5"
    assert bytes(m) == data


def test_thermometer_fahrenheit_timestamp_and_site() -> None:
    data = bytes.fromhex("07" + "da0300ff" + TS + "06")
    m = ht.parse_temperature_measurement(data)
    assert m == ht.TemperatureMeasurement(
        Decimal("98.6"), "[degF]", TS_VALUE, ht.TemperatureType.MOUTH
    )
    assert m.flags == ("fahrenheit", "site:mouth")
    assert m.timestamp is not None and m.timestamp.iso() == "2026-11-23T10:30:15"
    assert bytes(m) == data


def test_thermometer_negative_mantissa_is_sign_extended() -> None:
    m = ht.parse_temperature_measurement(bytes.fromhex("00f1ffffff"))
    assert m.value == Decimal("-1.5")


@pytest.mark.parametrize(
    ("value", "celsius"),
    [("98.6", "37.0"), ("100.4", "38.0"), ("99", "37.2"), ("96.98", "36.10"), ("36.5", "36.5")],
)
def test_fahrenheit_to_celsius_keeps_precision(value: str, celsius: str) -> None:
    unit = "Cel" if value == "36.5" else "[degF]"
    assert str(ht.to_celsius(Decimal(value), unit)) == celsius


def test_thermometer_nan_is_no_valid_reading() -> None:
    with pytest.raises(GattDecodeError) as info:
        ht.parse_temperature_measurement(bytes.fromhex("00ffff7f00"))
    err = info.value
    assert err.reason is GattReason.NO_VALID_READING
    assert err.special is SpecialValue.NAN
    assert err.field == "temperature"
    assert err.message == (
        "The Temperature Measurement (0x2A1C) carries no valid reading: "
        "the temperature is the special value NaN."
    )


def test_thermometer_truncated_timestamp() -> None:
    with pytest.raises(GattDecodeError) as info:
        ht.parse_temperature_measurement(bytes.fromhex("02" + "6d0100ff" + "ea07"))
    assert info.value.reason is GattReason.TRUNCATED
    assert info.value.message == (
        "The Temperature Measurement (0x2A1C) is truncated: the timestamp needs 7 byte(s) "
        "at offset 5 but the value is 7 byte(s) long."
    )


def test_thermometer_trailing_bytes_and_bad_site() -> None:
    with pytest.raises(GattDecodeError) as info:
        ht.parse_temperature_measurement(bytes.fromhex("00" + "6d0100ff" + "06"))
    assert info.value.message == (
        "The Temperature Measurement (0x2A1C) has 1 byte(s) after the last field its flags announce."
    )
    with pytest.raises(GattDecodeError) as info:
        ht.parse_temperature_measurement(bytes.fromhex("04" + "6d0100ff" + "0a"))
    assert info.value.reason is GattReason.INVALID_FIELD
    assert info.value.message == (
        "The Temperature Measurement (0x2A1C) has temperature type 10, "
        "which is not a defined body site (1 to 9)."
    )


def test_spot_check_bit0_is_timestamp_not_fast() -> None:
    # flags 0x01 then SpO2 98, PR 72, then a 7-byte timestamp: nothing else.
    data = bytes.fromhex("01" + "6200" + "4800" + TS)
    m = plx.parse_spot_check(data)
    assert m == plx.SpotCheckMeasurement(Decimal(98), Decimal(72), timestamp=TS_VALUE)
    assert bytes(m) == data


def test_spot_check_all_fields() -> None:
    data = bytes.fromhex("1f" + "6200" + "4800" + TS + "8000" + "000800" + "34f0")
    m = plx.parse_spot_check(data)
    assert m == plx.SpotCheckMeasurement(
        spo2=Decimal(98),
        pulse_rate=Decimal(72),
        timestamp=TS_VALUE,
        measurement_status=0x0080,
        device_sensor_status=0x000800,
        pulse_amplitude_index=Decimal("5.2"),
        device_clock_not_set=True,
    )
    assert m.measurement_status_names == ("validated-data",)
    assert m.device_sensor_status_names == ("sensor-unconnected-to-user",)
    assert bytes(m) == data


def test_spot_check_pai_special_value_is_kept_not_fatal() -> None:
    data = bytes.fromhex("08" + "6200" + "4800" + "ff07")
    m = plx.parse_spot_check(data)
    assert m.pulse_amplitude_index is SpecialValue.NAN
    assert bytes(m) == data


def test_spot_check_nan_spo2_is_no_valid_reading() -> None:
    with pytest.raises(GattDecodeError) as info:
        plx.parse_spot_check(bytes.fromhex("00" + "ff07" + "4800"))
    assert info.value.message == (
        "The PLX Spot-check Measurement (0x2A5E) carries no valid reading: "
        "the SpO2 is the special value NaN."
    )


def test_continuous_all_fields() -> None:
    data = bytes.fromhex(
        "1f" + "6100" + "4600" + "6200" + "4800" + "6000" + "4400" + "2000" + "000000" + "34f0"
    )
    m = plx.parse_continuous(data)
    assert m == plx.ContinuousMeasurement(
        spo2=Decimal(97),
        pulse_rate=Decimal(70),
        fast=(Decimal(98), Decimal(72)),
        slow=(Decimal(96), Decimal(68)),
        measurement_status=0x0020,
        device_sensor_status=0,
        pulse_amplitude_index=Decimal("5.2"),
    )
    assert m.measurement_status_names == ("measurement-ongoing",)
    assert bytes(m) == data


def test_continuous_nres_pulse_and_truncated_slow() -> None:
    with pytest.raises(GattDecodeError) as info:
        plx.parse_continuous(bytes.fromhex("00" + "6100" + "0008"))
    assert info.value.special is SpecialValue.NRES
    assert info.value.field == "pulse rate"
    with pytest.raises(GattDecodeError) as info:
        plx.parse_continuous(bytes.fromhex("02" + "6100" + "4600" + "6000"))
    assert info.value.message == (
        "The PLX Continuous Measurement (0x2A5F) is truncated: the SpO2PR-Slow PR needs "
        "2 byte(s) at offset 7 but the value is 7 byte(s) long."
    )


PARSERS = (ht.parse_temperature_measurement, plx.parse_spot_check, plx.parse_continuous)


@settings(max_examples=600, print_blob=True)
@given(st.binary(max_size=32))
def test_fuzz_gatt_parsers_raise_only_gatt_decode_error(data: bytes) -> None:
    for parse in PARSERS:
        try:
            m = parse(data)
        except GattDecodeError as exc:
            assert exc.message and exc.message[0].isupper() and exc.message.endswith(".")
            continue
        # what parses re-encodes to something that parses to the same value
        assert parse(bytes(m)) == m


@settings(max_examples=300, print_blob=True)
@given(
    st.sampled_from([0x00, 0x01, 0x02, 0x04, 0x07, 0x1F]),
    st.binary(min_size=40, max_size=40),
)
def test_fuzz_well_framed_values_round_trip_exactly(flags: int, body: bytes) -> None:
    """With flags fixed, plausible-length bodies exercise the optional fields."""
    for parse in PARSERS:
        for size in range(4, 40):
            data = bytes((flags,)) + body[:size]
            try:
                m = parse(data)
            except GattDecodeError:
                continue
            assert parse(bytes(m)) == m
