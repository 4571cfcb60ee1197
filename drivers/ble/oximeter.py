"""The BLE pulse oximeter driver (Pulse Oximeter 0x1822: spot-check 0x2A5E, continuous 0x2A5F).

A spot-check measurement is one reading: taken as it comes unless its status
says the measurement is invalid, unavailable or still ongoing. A continuous
stream is taken once `stable_samples` consecutive samples (default 3) are
valid, not early estimates, and agree within 1 % SpO2 and 3 /min: that is how
a nurse reads a finger oximeter (wait for the numbers to settle). While the
sensor reports it is off the finger the driver keeps waiting; if the
measurement time runs out then, it fails as a device error, not a timeout, so
the message can say "put the finger back".
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from drivers.ble import plx
from drivers.ble.measurement_driver import WAIT, BleMeasurementDriver, Outcome
from drivers.events import FailureReason, Reading, ReadingValue
from vocabulary.devices import DeviceKind

_INVALID = {"invalid-measurement-detected", "measurement-unavailable"}
_NOT_YET = {"measurement-ongoing", "early-estimated-data", "calibration-ongoing"}
_SENSOR_OFF = {"sensor-unconnected-to-user", "sensor-disconnected", "sensor-displaced"}
_DEVICE_FAULT = {
    "equipment-malfunction-detected",
    "sensor-malfunctioning",
    "unknown-sensor-connected",
}
_QUALITY_FLAGS = {
    "questionable-measurement-detected",
    "low-perfusion-detected",
    "poor-signal-detected",
    "questionable-pulse-detected",
}


class OximeterDriver(BleMeasurementDriver):
    SERVICE_UUID = plx.SERVICE_UUID
    CHARACTERISTICS = (plx.SPOT_CHECK_UUID, plx.CONTINUOUS_UUID)
    LABEL = "pulse oximeter"

    def __init__(
        self, device_id: str, address: str, *, stable_samples: int = 3, **kwargs: Any
    ) -> None:
        super().__init__(device_id, DeviceKind.OXIMETER, address, **kwargs)
        self.stable_samples = max(1, stable_samples)
        self._window: list[tuple[Decimal, Decimal]] = []
        self._sensor_off = False

    def reset(self) -> None:
        self._window = []
        self._sensor_off = False

    def timeout_failure(self) -> tuple[FailureReason, str]:
        if self._sensor_off:
            return (
                FailureReason.DEVICE_ERROR,
                "The pulse oximeter reports that the sensor is not on a finger.",
            )
        return super().timeout_failure()

    def _reading(
        self, spo2: Decimal, pulse: Decimal, flags: tuple[str, ...], device_time: str | None
    ) -> Outcome:
        return Outcome(
            reading=Reading(
                self.device_id,
                self.kind,
                (
                    ReadingValue("spo2", spo2, "%"),
                    ReadingValue("heart-rate", pulse, "/min"),
                ),
                flags=flags,
                device_time=device_time,
            )
        )

    def _range_failure(self, spo2: Decimal) -> Outcome | None:
        if not Decimal(0) <= spo2 <= Decimal(100):
            return Outcome(
                failure=(
                    FailureReason.NO_VALID_READING,
                    "The pulse oximeter sent an SpO2 outside 0 to 100 %.",
                )
            )
        return None

    def interpret(self, char_uuid: str, data: bytes) -> Outcome:
        if char_uuid == plx.SPOT_CHECK_UUID:
            return self._spot_check(plx.parse_spot_check(data))
        if char_uuid == plx.CONTINUOUS_UUID:
            return self._continuous(plx.parse_continuous(data))
        return WAIT

    def _status_failure(self, status: set[str], device: set[str]) -> Outcome | None:
        if status & _INVALID:
            return Outcome(
                failure=(
                    FailureReason.NO_VALID_READING,
                    "The pulse oximeter marked its measurement as invalid or unavailable.",
                )
            )
        if device & _DEVICE_FAULT:
            return Outcome(
                failure=(
                    FailureReason.DEVICE_ERROR,
                    "The pulse oximeter reports a sensor or equipment malfunction.",
                )
            )
        return None

    def _spot_check(self, m: plx.SpotCheckMeasurement) -> Outcome:
        status = set(m.measurement_status_names)
        device = set(m.device_sensor_status_names)
        failure = self._status_failure(status, device) or self._range_failure(m.spo2)
        if failure is not None:
            return failure
        if device & _SENSOR_OFF:
            return Outcome(
                failure=(
                    FailureReason.DEVICE_ERROR,
                    "The pulse oximeter reports that the sensor is not on a finger.",
                )
            )
        if status & _NOT_YET:
            return WAIT
        flags = tuple(sorted((status | device) & _QUALITY_FLAGS))
        if m.device_clock_not_set:
            flags = (*flags, "device-clock-not-set")
        device_time = None
        if m.timestamp is not None and not m.device_clock_not_set:
            device_time = m.timestamp.iso()
        return self._reading(m.spo2, m.pulse_rate, ("spot-check", *flags), device_time)

    def _continuous(self, m: plx.ContinuousMeasurement) -> Outcome:
        status = set(m.measurement_status_names)
        device = set(m.device_sensor_status_names)
        failure = self._status_failure(status, device) or self._range_failure(m.spo2)
        if failure is not None:
            return failure
        self._sensor_off = bool(device & _SENSOR_OFF)
        if self._sensor_off or status & _NOT_YET:
            self._window.clear()
            return WAIT
        self._window.append((m.spo2, m.pulse_rate))
        self._window = self._window[-self.stable_samples :]
        if len(self._window) < self.stable_samples:
            return WAIT
        spo2s = [s for s, _ in self._window]
        pulses = [p for _, p in self._window]
        if max(spo2s) - min(spo2s) > 1 or max(pulses) - min(pulses) > 3:
            return WAIT
        flags = tuple(sorted((status | device) & _QUALITY_FLAGS))
        return self._reading(m.spo2, m.pulse_rate, ("continuous", *flags), None)
