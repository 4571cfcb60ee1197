"""The devices: their kinds, and one catalogue row per device the patient uses.

A row says what the device measures (each measurement with the quantities
that make it, in the order the device reports them), which quantities a
professional types when it fails, and the pictogram the screen shows.
Every map from a device to measurements (the controller's, the presenter's,
the composition's) is read from here.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass

from vocabulary.quantities import MeasurementKind, Quantity


class DeviceKind(enum.StrEnum):
    CARD_READER = "card-reader"
    CAMERA = "camera"
    THERMOMETER = "thermometer"
    OXIMETER = "oximeter"
    TENSIOMETER = "tensiometer"


@dataclass(frozen=True, slots=True)
class DeviceRow:
    """One measuring device the patient is guided through."""

    kind: DeviceKind
    measurements: tuple[tuple[MeasurementKind, frozenset[Quantity]], ...]
    manual_entry: tuple[Quantity, ...]  # what a professional types when the device fails
    pictogram: str  # the picture's file stem

    def __post_init__(self) -> None:
        if not self.measurements:
            raise ValueError(f"the {self.kind} row measures nothing")
        measured = frozenset().union(*(quantities for _, quantities in self.measurements))
        if not set(self.manual_entry) <= measured:
            raise ValueError(f"the {self.kind} row asks by hand for what it does not measure")

    @property
    def measurement_kinds(self) -> tuple[MeasurementKind, ...]:
        return tuple(kind for kind, _ in self.measurements)

    @property
    def first_measurement(self) -> MeasurementKind:
        """The measurement the device is started for (the flow's `StartDevice`)."""
        return self.measurements[0][0]


CATALOGUE: Mapping[DeviceKind, DeviceRow] = {
    row.kind: row
    for row in (
        DeviceRow(
            DeviceKind.THERMOMETER,
            ((MeasurementKind.BODY_TEMPERATURE, frozenset({Quantity.BODY_TEMPERATURE})),),
            (Quantity.BODY_TEMPERATURE,),
            "thermometer",
        ),
        DeviceRow(
            DeviceKind.OXIMETER,
            (
                (MeasurementKind.SPO2, frozenset({Quantity.SPO2})),
                (MeasurementKind.HEART_RATE, frozenset({Quantity.HEART_RATE})),
            ),
            (Quantity.SPO2, Quantity.HEART_RATE),
            "oximeter",
        ),
        DeviceRow(
            DeviceKind.TENSIOMETER,
            (
                (
                    MeasurementKind.BLOOD_PRESSURE,
                    frozenset({Quantity.SYSTOLIC, Quantity.DIASTOLIC, Quantity.MEAN}),
                ),
                (MeasurementKind.HEART_RATE, frozenset({Quantity.HEART_RATE})),
            ),
            (Quantity.SYSTOLIC, Quantity.DIASTOLIC),
            "tensiometer",
        ),
    )
}
"""The measuring devices, in the order the patient is guided through them."""

PATIENT_DEVICES: tuple[DeviceKind, ...] = tuple(CATALOGUE)

DEVICE_FOR_MEASUREMENT: Mapping[MeasurementKind, DeviceKind] = {
    kind: row.kind for row in reversed(tuple(CATALOGUE.values())) for kind in row.measurement_kinds
}
"""Which device takes a measurement: the first row that lists it (heart rate: the oximeter)."""
