"""What the kiosk measures: measurement kinds and the quantities they are made of."""

from __future__ import annotations

import enum
from collections.abc import Mapping


class MeasurementKind(enum.StrEnum):
    """One observation the doctor receives (one FHIR Observation)."""

    BODY_TEMPERATURE = "body-temperature"
    HEART_RATE = "heart-rate"
    SPO2 = "spo2"
    BLOOD_PRESSURE = "blood-pressure"


class Quantity(enum.StrEnum):
    """One measured number; a driver's `ReadingValue.quantity` is one of these values."""

    BODY_TEMPERATURE = "body-temperature"
    HEART_RATE = "heart-rate"
    SPO2 = "spo2"
    SYSTOLIC = "systolic"
    DIASTOLIC = "diastolic"
    MEAN = "mean"

    @property
    def ucum(self) -> str:
        """The unit as UCUM writes it (what drivers report and FHIR carries)."""
        return _UCUM[self]

    @property
    def display_unit(self) -> str:
        """The unit as the screen shows it."""
        return _DISPLAY[self]


_UCUM: Mapping[Quantity, str] = {
    Quantity.BODY_TEMPERATURE: "Cel",
    Quantity.HEART_RATE: "/min",
    Quantity.SPO2: "%",
    Quantity.SYSTOLIC: "mm[Hg]",
    Quantity.DIASTOLIC: "mm[Hg]",
    Quantity.MEAN: "mm[Hg]",
}

_DISPLAY: Mapping[Quantity, str] = {
    Quantity.BODY_TEMPERATURE: "°C",
    Quantity.HEART_RATE: "/min",
    Quantity.SPO2: "%",
    Quantity.SYSTOLIC: "mm Hg",
    Quantity.DIASTOLIC: "mm Hg",
    Quantity.MEAN: "mm Hg",
}
