"""The device catalogue: one row per measuring device, every map read from it."""

from __future__ import annotations

import pytest

from app.domain.measurements import KIND_SPECS, QUANTITY_SPECS
from vocabulary.devices import (
    CATALOGUE,
    DEVICE_FOR_MEASUREMENT,
    PATIENT_DEVICES,
    DeviceKind,
    DeviceRow,
)
from vocabulary.quantities import MeasurementKind, Quantity


def test_the_patient_is_guided_through_the_measuring_devices_in_order() -> None:
    assert PATIENT_DEVICES == (
        DeviceKind.THERMOMETER,
        DeviceKind.OXIMETER,
        DeviceKind.TENSIOMETER,
    )
    assert all(row.kind is kind for kind, row in CATALOGUE.items())


def test_each_row_says_what_the_device_measures() -> None:
    assert CATALOGUE[DeviceKind.THERMOMETER].measurement_kinds == (
        MeasurementKind.BODY_TEMPERATURE,
    )
    assert CATALOGUE[DeviceKind.OXIMETER].measurement_kinds == (
        MeasurementKind.SPO2,
        MeasurementKind.HEART_RATE,
    )
    assert CATALOGUE[DeviceKind.TENSIOMETER].first_measurement is MeasurementKind.BLOOD_PRESSURE
    assert CATALOGUE[DeviceKind.TENSIOMETER].manual_entry == (
        Quantity.SYSTOLIC,
        Quantity.DIASTOLIC,
    )
    assert {row.pictogram for row in CATALOGUE.values()} == {k.value for k in PATIENT_DEVICES}


def test_a_measurement_is_taken_by_the_first_device_that_lists_it() -> None:
    assert DEVICE_FOR_MEASUREMENT == {
        MeasurementKind.BODY_TEMPERATURE: DeviceKind.THERMOMETER,
        MeasurementKind.SPO2: DeviceKind.OXIMETER,
        MeasurementKind.HEART_RATE: DeviceKind.OXIMETER,  # the tensiometer's comes along
        MeasurementKind.BLOOD_PRESSURE: DeviceKind.TENSIOMETER,
    }


def test_every_measurement_has_a_device_and_its_quantities_are_the_domains() -> None:
    assert set(DEVICE_FOR_MEASUREMENT) == set(MeasurementKind)
    for row in CATALOGUE.values():
        for kind, quantities in row.measurements:
            spec = KIND_SPECS[kind]
            assert spec.required <= quantities <= spec.required | spec.optional


def test_a_row_that_measures_nothing_is_refused() -> None:
    with pytest.raises(ValueError, match="the thermometer row measures nothing"):
        DeviceRow(DeviceKind.THERMOMETER, (), (), "thermometer")


def test_a_row_cannot_ask_by_hand_for_what_it_does_not_measure() -> None:
    with pytest.raises(ValueError, match="asks by hand for what it does not measure"):
        DeviceRow(
            DeviceKind.OXIMETER,
            ((MeasurementKind.SPO2, frozenset({Quantity.SPO2})),),
            (Quantity.SYSTOLIC,),
            "oximeter",
        )


def test_every_quantity_has_its_ucum_and_display_unit() -> None:
    assert {q: q.ucum for q in Quantity} == {q: spec.unit for q, spec in QUANTITY_SPECS.items()}
    assert [q.display_unit for q in Quantity] == ["°C", "/min", "%", "mm Hg", "mm Hg", "mm Hg"]


def test_the_three_old_homes_name_the_one_kind() -> None:
    """The schema, the driver events and the views type their kind with vocabulary's enum."""
    import typing

    from app.ui import views
    from drivers import events
    from kiosk_config import schema

    assert schema.Device.model_fields["kind"].annotation is DeviceKind
    assert typing.get_type_hints(events.Connected)["kind"] is DeviceKind
    assert typing.get_type_hints(views.MeasurementView)["device"] is DeviceKind
