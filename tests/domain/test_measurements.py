"""Measurements: codes and units, plausibility with reasons, flags for the doctor."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.measurements import (
    DeviceSource,
    Flag,
    ImplausibleMeasurement,
    ImplausibleReason,
    ManualSource,
    Measurement,
    MeasurementKind,
    Quantity,
    flags_for,
    make_measurement,
)
from tests.domain.builders import T0

D = Decimal
BP = MeasurementKind.BLOOD_PRESSURE


def bp(systolic: str, diastolic: str, mean: str | None = None) -> Measurement:
    values = {Quantity.SYSTOLIC: D(systolic), Quantity.DIASTOLIC: D(diastolic)}
    if mean is not None:
        values[Quantity.MEAN] = D(mean)
    return make_measurement("bp-1", BP, values, DeviceSource("tensio-1"), T0)


def one(kind: MeasurementKind, quantity: Quantity, value: str) -> Measurement:
    return make_measurement("m-1", kind, {quantity: D(value)}, DeviceSource("dev-1"), T0)


def temp(value: str) -> Measurement:
    return one(MeasurementKind.BODY_TEMPERATURE, Quantity.BODY_TEMPERATURE, value)


def spo2(value: str) -> Measurement:
    return one(MeasurementKind.SPO2, Quantity.SPO2, value)


def rate(value: str) -> Measurement:
    return one(MeasurementKind.HEART_RATE, Quantity.HEART_RATE, value)


def test_codes_units_and_precision_kept() -> None:
    t = temp("37.25")
    assert t.loinc_codes == ("8310-5",)
    assert t.components[0].unit == "Cel"
    assert t.components[0].loinc == "8310-5"
    assert t.value(Quantity.BODY_TEMPERATURE) == D("37.25")
    assert str(t.value(Quantity.BODY_TEMPERATURE)) == "37.25"
    assert spo2("97").loinc_codes == ("2708-6", "59408-5")
    assert spo2("97").components[0].unit == "%"
    assert rate("72").loinc_codes == ("8867-4",)
    assert rate("72").components[0].unit == "/min"
    b = bp("120", "80", "93")
    assert b.loinc_codes == ("85354-9",)
    assert [(c.quantity, c.loinc, c.unit) for c in b.components] == [
        (Quantity.SYSTOLIC, "8480-6", "mm[Hg]"),
        (Quantity.DIASTOLIC, "8462-4", "mm[Hg]"),
        (Quantity.MEAN, "8478-0", "mm[Hg]"),
    ]
    assert b.value(Quantity.BODY_TEMPERATURE) is None


def test_source_device_or_manual_by_a_professional() -> None:
    manual = make_measurement(
        "m-2",
        MeasurementKind.HEART_RATE,
        {Quantity.HEART_RATE: D(70)},
        ManualSource("nurse-2"),
        T0,
    )
    assert manual.is_manual
    assert manual.source == ManualSource("nurse-2")
    assert not rate("70").is_manual


@pytest.mark.parametrize(
    ("build", "reason", "quantity", "sentence"),
    [
        (
            lambda: temp("29.9"),
            ImplausibleReason.TOO_LOW,
            Quantity.BODY_TEMPERATURE,
            "The temperature is below what can be measured on a person (30.0 to 45.0 Cel); "
            "please measure again.",
        ),
        (
            lambda: temp("45.1"),
            ImplausibleReason.TOO_HIGH,
            Quantity.BODY_TEMPERATURE,
            "The temperature is above what can be measured on a person (30.0 to 45.0 Cel); "
            "please measure again.",
        ),
        (lambda: spo2("49"), ImplausibleReason.TOO_LOW, Quantity.SPO2, None),
        (lambda: spo2("100.1"), ImplausibleReason.TOO_HIGH, Quantity.SPO2, None),
        (lambda: rate("24"), ImplausibleReason.TOO_LOW, Quantity.HEART_RATE, None),
        (lambda: rate("251"), ImplausibleReason.TOO_HIGH, Quantity.HEART_RATE, None),
        (lambda: bp("49", "30"), ImplausibleReason.TOO_LOW, Quantity.SYSTOLIC, None),
        (lambda: bp("281", "90"), ImplausibleReason.TOO_HIGH, Quantity.SYSTOLIC, None),
        (lambda: bp("120", "19"), ImplausibleReason.TOO_LOW, Quantity.DIASTOLIC, None),
        (lambda: bp("250", "181"), ImplausibleReason.TOO_HIGH, Quantity.DIASTOLIC, None),
        (
            lambda: bp("80", "80"),
            ImplausibleReason.SYSTOLIC_NOT_ABOVE_DIASTOLIC,
            None,
            "The systolic pressure must be higher than the diastolic pressure; please measure again.",
        ),
        (lambda: bp("80", "90"), ImplausibleReason.SYSTOLIC_NOT_ABOVE_DIASTOLIC, None, None),
        (
            lambda: bp("120", "80", "130"),
            ImplausibleReason.MEAN_OUTSIDE_PRESSURES,
            None,
            "The mean pressure must lie between the diastolic and the systolic pressure; "
            "please measure again.",
        ),
        (lambda: bp("120", "80", "79"), ImplausibleReason.MEAN_OUTSIDE_PRESSURES, None, None),
        (
            lambda: temp("NaN"),
            ImplausibleReason.NOT_A_NUMBER,
            Quantity.BODY_TEMPERATURE,
            "The temperature is not a number; please measure again.",
        ),
        (lambda: temp("Infinity"), ImplausibleReason.NOT_A_NUMBER, Quantity.BODY_TEMPERATURE, None),
        (
            lambda: make_measurement("x", BP, {Quantity.SYSTOLIC: D(120)}, DeviceSource("t"), T0),
            ImplausibleReason.MISSING_VALUE,
            Quantity.DIASTOLIC,
            "The diastolic pressure is missing from this reading.",
        ),
        (
            lambda: make_measurement(
                "x",
                MeasurementKind.SPO2,
                {Quantity.SPO2: D(97), Quantity.HEART_RATE: D(70)},
                DeviceSource("o"),
                T0,
            ),
            ImplausibleReason.UNEXPECTED_VALUE,
            Quantity.HEART_RATE,
            "The heart rate does not belong to this kind of reading.",
        ),
        (
            lambda: make_measurement(
                "x",
                MeasurementKind.BODY_TEMPERATURE,
                {Quantity.BODY_TEMPERATURE: D("98.6")},
                DeviceSource("t"),
                T0,
                units={Quantity.BODY_TEMPERATURE: "[degF]"},
            ),
            ImplausibleReason.WRONG_UNIT,
            Quantity.BODY_TEMPERATURE,
            "The temperature is not in the expected unit (30.0 to 45.0 Cel).",
        ),
        (
            lambda: make_measurement(
                "x",
                MeasurementKind.BODY_TEMPERATURE,
                {Quantity.BODY_TEMPERATURE: D("37")},
                DeviceSource("t"),
                datetime(2025, 3, 1, 9, 0),
            ),
            ImplausibleReason.NAIVE_TIME,
            None,
            "The time of the measurement has no time zone.",
        ),
    ],
)
def test_implausible_readings_are_refused_with_the_reason(
    build: object, reason: ImplausibleReason, quantity: Quantity | None, sentence: str | None
) -> None:
    with pytest.raises(ImplausibleMeasurement) as caught:
        build()  # type: ignore[operator]
    assert caught.value.reason is reason
    assert caught.value.quantity is quantity
    if sentence is not None:
        assert str(caught.value) == sentence


@pytest.mark.parametrize(
    "build",
    [
        lambda: temp("30.0"),
        lambda: temp("45.0"),
        lambda: spo2("50"),
        lambda: spo2("100"),
        lambda: rate("25"),
        lambda: rate("250"),
        lambda: bp("280", "180"),
        lambda: bp("50", "20"),
        lambda: bp("120", "80", "80"),
        lambda: bp("120", "80", "120"),
    ],
)
def test_bounds_are_inclusive(build: object) -> None:
    assert isinstance(build(), Measurement)  # type: ignore[operator]


@pytest.mark.parametrize(
    ("measurement", "flags"),
    [
        (temp("37.9"), set()),
        (temp("38.0"), {Flag.FEVER}),
        (temp("35.0"), set()),
        (temp("34.9"), {Flag.HYPOTHERMIA}),
        (spo2("94"), set()),
        (spo2("93"), {Flag.SPO2_LOW}),
        (spo2("90"), {Flag.SPO2_LOW}),
        (spo2("89"), {Flag.SPO2_VERY_LOW}),
        (rate("100"), set()),
        (rate("101"), {Flag.TACHYCARDIA}),
        (rate("60"), set()),
        (rate("59"), {Flag.BRADYCARDIA}),
        (bp("139", "89"), set()),
        (bp("140", "80"), {Flag.HYPERTENSION}),
        (bp("130", "90"), {Flag.HYPERTENSION}),
        (bp("180", "100"), {Flag.HYPERTENSIVE_CRISIS}),
        (bp("170", "120"), {Flag.HYPERTENSIVE_CRISIS}),
        (bp("89", "60"), {Flag.HYPOTENSION}),
        (bp("90", "60"), set()),
    ],
)
def test_flags_for_the_doctor(measurement: Measurement, flags: set[Flag]) -> None:
    assert flags_for(measurement) == flags
    assert measurement.flags == flags


def test_repr_shows_no_value() -> None:
    assert "38.4" not in repr(temp("38.4"))
    assert "38.4" not in str(pytest.raises(ImplausibleMeasurement, temp, "99.4").value)


@given(st.decimals(allow_nan=True, allow_infinity=True))
def test_any_decimal_gives_a_measurement_or_the_typed_error(value: Decimal) -> None:
    try:
        m = temp(str(value))
    except ImplausibleMeasurement as exc:
        assert exc.reason in {
            ImplausibleReason.TOO_LOW,
            ImplausibleReason.TOO_HIGH,
            ImplausibleReason.NOT_A_NUMBER,
        }
    else:
        assert D("30.0") <= m.value(Quantity.BODY_TEMPERATURE) <= D("45.0")  # type: ignore[operator]
