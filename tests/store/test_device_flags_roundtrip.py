"""The device's flags on a measurement survive the encrypted store (issue 16 §2)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

from app.domain.measurements import (
    DeviceFlag,
    DeviceSource,
    MeasurementKind,
    Quantity,
    make_measurement,
)
from app.store.codec import measurement_from_payload, measurement_to_payload

AT = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)


def test_device_flags_round_trip_and_old_rows_have_none() -> None:
    m = make_measurement(
        "m1",
        MeasurementKind.BLOOD_PRESSURE,
        {Quantity.SYSTOLIC: Decimal(141), Quantity.DIASTOLIC: Decimal(91)},
        DeviceSource("bp-1"),
        AT,
        flags=("body-movement", "irregular-pulse"),
    )
    assert m.device_flags == (DeviceFlag.BODY_MOVEMENT, DeviceFlag.IRREGULAR_PULSE)
    assert measurement_from_payload("m1", measurement_to_payload(m)) == m
    payload = json.loads(measurement_to_payload(m))
    del payload["device_flags"]  # a row written before the flags existed
    assert measurement_from_payload("m1", json.dumps(payload)).device_flags == ()
