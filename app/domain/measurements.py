"""Vital signs taken in the cabin, checked for plausibility and flagged for the doctor.

Why a plausibility check: a cuff put on badly or a thermometer pointed at the
wall gives a number a doctor might believe. A value outside what a living
person in a cabin can show is refused with a reason, so the patient or the
assisting professional measures again (or enters it by hand) instead of the
doctor reading nonsense.

Why flags: the doctor sees at a glance what stands out (fever, low SpO2...).
Flags are for the doctor only. The kiosk never shows them to the patient as a
diagnosis: the patient sees the value, and the doctor interprets it.

Ranges (inclusive; adult values; chosen wide on purpose, the doctor judges):

| quantity | plausible | flags |
|---|---|---|
| body temperature (Cel) | 30.0-45.0 | fever >= 38.0; hypothermia < 35.0 |
| SpO2 (%) | 50-100 | low < 94; very low < 90 (replaces low) |
| heart rate (/min) | 25-250 | tachycardia > 100; bradycardia < 60 |
| systolic (mm[Hg]) | 50-280 | hypertension >= 140; crisis >= 180; hypotension < 90 |
| diastolic (mm[Hg]) | 20-180 | hypertension >= 90; crisis >= 120 |
| mean (mm[Hg]) | between diastolic and systolic | |

Systolic must exceed diastolic.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from app.domain.errors import DomainError
from vocabulary.quantities import MeasurementKind as MeasurementKind
from vocabulary.quantities import Quantity as Quantity


@dataclass(frozen=True, slots=True)
class QuantitySpec:
    unit: str  # UCUM (the quantity's own, `Quantity.ucum`)
    loinc: str
    low: Decimal
    high: Decimal


QUANTITY_SPECS: Mapping[Quantity, QuantitySpec] = {
    Quantity.BODY_TEMPERATURE: QuantitySpec(
        Quantity.BODY_TEMPERATURE.ucum, "8310-5", Decimal("30.0"), Decimal("45.0")
    ),
    Quantity.HEART_RATE: QuantitySpec(
        Quantity.HEART_RATE.ucum, "8867-4", Decimal(25), Decimal(250)
    ),
    Quantity.SPO2: QuantitySpec(Quantity.SPO2.ucum, "2708-6", Decimal(50), Decimal(100)),
    Quantity.SYSTOLIC: QuantitySpec(Quantity.SYSTOLIC.ucum, "8480-6", Decimal(50), Decimal(280)),
    Quantity.DIASTOLIC: QuantitySpec(Quantity.DIASTOLIC.ucum, "8462-4", Decimal(20), Decimal(180)),
    # The mean is bounded by the diastolic and systolic of the same reading.
    Quantity.MEAN: QuantitySpec(Quantity.MEAN.ucum, "8478-0", Decimal(20), Decimal(280)),
}


@dataclass(frozen=True, slots=True)
class KindSpec:
    codes: tuple[str, ...]  # LOINC codes of the observation itself
    required: frozenset[Quantity]
    optional: frozenset[Quantity] = frozenset()


KIND_SPECS: Mapping[MeasurementKind, KindSpec] = {
    MeasurementKind.BODY_TEMPERATURE: KindSpec(("8310-5",), frozenset({Quantity.BODY_TEMPERATURE})),
    MeasurementKind.HEART_RATE: KindSpec(("8867-4",), frozenset({Quantity.HEART_RATE})),
    MeasurementKind.SPO2: KindSpec(("2708-6", "59408-5"), frozenset({Quantity.SPO2})),
    MeasurementKind.BLOOD_PRESSURE: KindSpec(
        ("85354-9",),
        frozenset({Quantity.SYSTOLIC, Quantity.DIASTOLIC}),
        frozenset({Quantity.MEAN}),
    ),
}

VITAL_SIGNS_PANEL_LOINC = "85353-1"


class ImplausibleReason(enum.StrEnum):
    MISSING_VALUE = "missing-value"
    UNEXPECTED_VALUE = "unexpected-value"
    NOT_A_NUMBER = "not-a-number"
    WRONG_UNIT = "wrong-unit"
    TOO_LOW = "too-low"
    TOO_HIGH = "too-high"
    SYSTOLIC_NOT_ABOVE_DIASTOLIC = "systolic-not-above-diastolic"
    MEAN_OUTSIDE_PRESSURES = "mean-outside-pressures"
    NAIVE_TIME = "naive-time"


_QUANTITY_WORDS: Mapping[Quantity, str] = {
    Quantity.BODY_TEMPERATURE: "temperature",
    Quantity.HEART_RATE: "heart rate",
    Quantity.SPO2: "oxygen saturation",
    Quantity.SYSTOLIC: "systolic pressure",
    Quantity.DIASTOLIC: "diastolic pressure",
    Quantity.MEAN: "mean pressure",
}


class ImplausibleMeasurement(DomainError):
    """A reading that cannot be a real measure of a person; measure again.

    The sentence names the quantity and the accepted range, never the value
    read (it is a health datum and exceptions may reach a log).
    """

    def __init__(self, reason: ImplausibleReason, quantity: Quantity | None = None) -> None:
        self.reason = reason
        self.quantity = quantity
        super().__init__(_sentence(reason, quantity))


def _sentence(reason: ImplausibleReason, quantity: Quantity | None) -> str:
    what = _QUANTITY_WORDS[quantity] if quantity else "measurement"
    spec = QUANTITY_SPECS[quantity] if quantity else None
    span = f" ({spec.low} to {spec.high} {spec.unit})" if spec else ""
    match reason:
        case ImplausibleReason.MISSING_VALUE:
            return f"The {what} is missing from this reading."
        case ImplausibleReason.UNEXPECTED_VALUE:
            return f"The {what} does not belong to this kind of reading."
        case ImplausibleReason.NOT_A_NUMBER:
            return f"The {what} is not a number; please measure again."
        case ImplausibleReason.WRONG_UNIT:
            return f"The {what} is not in the expected unit{span}."
        case ImplausibleReason.TOO_LOW:
            return (
                f"The {what} is below what can be measured on a person{span}; please measure again."
            )
        case ImplausibleReason.TOO_HIGH:
            return (
                f"The {what} is above what can be measured on a person{span}; please measure again."
            )
        case ImplausibleReason.SYSTOLIC_NOT_ABOVE_DIASTOLIC:
            return "The systolic pressure must be higher than the diastolic pressure; please measure again."
        case ImplausibleReason.MEAN_OUTSIDE_PRESSURES:
            return "The mean pressure must lie between the diastolic and the systolic pressure; please measure again."
        # No fall-through: mypy (strict, missing return) proves every reason has its case.
        case ImplausibleReason.NAIVE_TIME:  # pragma: no branch
            return "The time of the measurement has no time zone."


@dataclass(frozen=True, slots=True)
class Component:
    """One value of a measurement, with the device's precision kept."""

    quantity: Quantity
    value: Decimal = field(repr=False)
    unit: str

    @property
    def loinc(self) -> str:
        return QUANTITY_SPECS[self.quantity].loinc


@dataclass(frozen=True, slots=True)
class DeviceSource:
    device_id: str


@dataclass(frozen=True, slots=True)
class ManualSource:
    """Entered by hand by an assisting professional (the device failed or is missing)."""

    professional_account_id: str


MeasurementSource = DeviceSource | ManualSource


class Flag(enum.StrEnum):
    """What stands out, for the doctor. Never shown to the patient as a diagnosis."""

    FEVER = "fever"
    HYPOTHERMIA = "hypothermia"
    SPO2_LOW = "spo2-low"
    SPO2_VERY_LOW = "spo2-very-low"
    TACHYCARDIA = "tachycardia"
    BRADYCARDIA = "bradycardia"
    HYPERTENSION = "hypertension"
    HYPERTENSIVE_CRISIS = "hypertensive-crisis"
    HYPOTENSION = "hypotension"


class DeviceFlag(enum.StrEnum):
    """What the measuring device itself said about a reading, for the doctor.

    The Blood Pressure Measurement's status bits (Bluetooth SIG 0x2A35) and the
    driver's own note when the device sent no time. Unlike `Flag` they are not
    computed from the values: the device saw them. The reading is kept as the
    device gave it (nothing is corrected or invented); when one of
    `MEASURE_AGAIN_FLAGS` is set the patient is asked to measure again, keeping
    the arm still, and the doctor sees both readings with their flags.
    """

    BODY_MOVEMENT = "body-movement"
    CUFF_TOO_LOOSE = "cuff-too-loose"
    IRREGULAR_PULSE = "irregular-pulse"
    PULSE_RATE_ABOVE_RANGE = "pulse-rate-above-range"
    PULSE_RATE_BELOW_RANGE = "pulse-rate-below-range"
    IMPROPER_POSITION = "improper-measurement-position"
    NO_DEVICE_TIME = "no-device-time"


MEASURE_AGAIN_FLAGS = frozenset(
    {DeviceFlag.BODY_MOVEMENT, DeviceFlag.CUFF_TOO_LOOSE, DeviceFlag.IMPROPER_POSITION}
)
"""The device's flags after which the patient is asked to measure again."""


def device_flags(names: Iterable[str]) -> tuple[DeviceFlag, ...]:
    """The device's flag names the domain knows, in a fixed order (others are dropped:
    a driver's word the doctor has no sentence for is not passed on as if it were one)."""
    given = set(names)
    return tuple(f for f in DeviceFlag if f.value in given)


@dataclass(frozen=True, slots=True)
class Measurement:
    """One measurement as the doctor receives it. Build it with `make_measurement`."""

    id: str
    kind: MeasurementKind
    components: tuple[Component, ...] = field(repr=False)
    source: MeasurementSource
    taken_at: datetime
    device_flags: tuple[DeviceFlag, ...] = ()  # what the device said of this reading

    @property
    def measure_again(self) -> bool:
        """The device said this reading is not reliable: the patient is offered to measure again."""
        return bool(MEASURE_AGAIN_FLAGS.intersection(self.device_flags))

    @property
    def loinc_codes(self) -> tuple[str, ...]:
        return KIND_SPECS[self.kind].codes

    @property
    def is_manual(self) -> bool:
        return isinstance(self.source, ManualSource)

    def value(self, quantity: Quantity) -> Decimal | None:
        return next((c.value for c in self.components if c.quantity is quantity), None)

    @property
    def flags(self) -> frozenset[Flag]:
        return flags_for(self)


def make_measurement(
    id: str,
    kind: MeasurementKind,
    values: Mapping[Quantity, Decimal],
    source: MeasurementSource,
    taken_at: datetime,
    units: Mapping[Quantity, str] | None = None,
    flags: Iterable[str] = (),
) -> Measurement:
    """Build a checked measurement; raise `ImplausibleMeasurement` with the reason.

    `units` are the units the device announced; when given they must be the
    UCUM unit of the quantity (conversion, e.g. °F or kPa, is the driver's job).
    `flags` are the device's own (`DeviceFlag` names; unknown ones are dropped).
    """
    spec = KIND_SPECS[kind]
    for quantity in sorted(spec.required):
        if quantity not in values:
            raise ImplausibleMeasurement(ImplausibleReason.MISSING_VALUE, quantity)
    components: list[Component] = []
    for quantity, value in values.items():
        if quantity not in spec.required | spec.optional:
            raise ImplausibleMeasurement(ImplausibleReason.UNEXPECTED_VALUE, quantity)
        unit = (units or {}).get(quantity, QUANTITY_SPECS[quantity].unit)
        components.append(Component(quantity, value, unit))
    components.sort(key=lambda c: list(Quantity).index(c.quantity))
    measurement = Measurement(id, kind, tuple(components), source, taken_at, device_flags(flags))
    return check_plausible(measurement)


def check_plausible(measurement: Measurement) -> Measurement:
    """Return the measurement unchanged, or raise `ImplausibleMeasurement`."""
    if measurement.taken_at.utcoffset() is None:
        raise ImplausibleMeasurement(ImplausibleReason.NAIVE_TIME)
    for c in measurement.components:
        spec = QUANTITY_SPECS[c.quantity]
        if not c.value.is_finite():
            raise ImplausibleMeasurement(ImplausibleReason.NOT_A_NUMBER, c.quantity)
        if c.unit != spec.unit:
            raise ImplausibleMeasurement(ImplausibleReason.WRONG_UNIT, c.quantity)
        if c.value < spec.low:
            raise ImplausibleMeasurement(ImplausibleReason.TOO_LOW, c.quantity)
        if c.value > spec.high:
            raise ImplausibleMeasurement(ImplausibleReason.TOO_HIGH, c.quantity)
    if measurement.kind is MeasurementKind.BLOOD_PRESSURE:
        systolic = measurement.value(Quantity.SYSTOLIC)
        diastolic = measurement.value(Quantity.DIASTOLIC)
        mean = measurement.value(Quantity.MEAN)
        assert systolic is not None and diastolic is not None  # required by KIND_SPECS
        if systolic <= diastolic:
            raise ImplausibleMeasurement(ImplausibleReason.SYSTOLIC_NOT_ABOVE_DIASTOLIC)
        if mean is not None and not diastolic <= mean <= systolic:
            raise ImplausibleMeasurement(ImplausibleReason.MEAN_OUTSIDE_PRESSURES)
    return measurement


def flags_for(measurement: Measurement) -> frozenset[Flag]:
    """The doctor's flags for one measurement (adult thresholds)."""
    flags: set[Flag] = set()
    get = measurement.value
    temperature = get(Quantity.BODY_TEMPERATURE)
    if temperature is not None:
        if temperature >= Decimal("38.0"):
            flags.add(Flag.FEVER)
        elif temperature < Decimal("35.0"):
            flags.add(Flag.HYPOTHERMIA)
    spo2 = get(Quantity.SPO2)
    if spo2 is not None:
        if spo2 < 90:
            flags.add(Flag.SPO2_VERY_LOW)
        elif spo2 < 94:
            flags.add(Flag.SPO2_LOW)
    rate = get(Quantity.HEART_RATE)
    if rate is not None:
        if rate > 100:
            flags.add(Flag.TACHYCARDIA)
        elif rate < 60:
            flags.add(Flag.BRADYCARDIA)
    systolic = get(Quantity.SYSTOLIC)
    diastolic = get(Quantity.DIASTOLIC)
    if systolic is not None and diastolic is not None:
        if systolic >= 180 or diastolic >= 120:
            flags.add(Flag.HYPERTENSIVE_CRISIS)
        elif systolic >= 140 or diastolic >= 90:
            flags.add(Flag.HYPERTENSION)
        elif systolic < 90:
            flags.add(Flag.HYPOTENSION)
    return frozenset(flags)


def next_device(index: int, count: int) -> int | None:
    """What follows the patient's device `index` (of `count`, in the site's order).

    Rule: the devices are guided one after the other; after the last one
    (measured, skipped or entered by a professional) the measurements are
    done (`MeasurementsDone`). Returns the next device's index, or None.
    """
    if not 0 <= index < count:
        raise IndexError(f"There is no device {index} of {count}.")
    return index + 1 if index + 1 < count else None
