"""The BerryMed pulse-oximeter driver: BCI frames over the BLE transparent UART.

Each notification carries a few 5-byte frames (the BM1000 sends 100 a second).
Every notification's pleth samples go out as one `PlethWave` progress event
(for the live wave), with whether a finger is in the clip.

Stable-reading rule: the device refreshes its numbers about once a second and
repeats them in every frame, so the driver samples them once every
`frames_per_sample` frames (100: one second) and takes the reading when
`stable_samples` (3) samples in a row are valid (finger present, probe
plugged, SpO2 0-100, pulse rate not 255 and not 0) and agree within 1 % SpO2
and 3 /min. A frame without a finger or with the probe unplugged empties the
window. If time runs out then, the failure is a DEVICE_ERROR that says which
(probe unplugged, or no finger), so the message can tell the patient what to do.
Packets of a newer firmware (longer than 5 bytes) fail with UNSUPPORTED_FORMAT.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from drivers.ble import berrymed
from drivers.ble.berrymed import BciFrame, BerryMedError, BerryMedFramer, FrameSkipped
from drivers.ble.measurement_driver import WAIT, BleMeasurementDriver, Outcome
from drivers.events import (
    FailureReason,
    PlethWave,
    Reading,
    ReadingValue,
)
from vocabulary.devices import DeviceKind


class BerryMedOximeterDriver(BleMeasurementDriver):
    SERVICE_UUID = berrymed.SERVICE_UUID
    CHARACTERISTICS = (berrymed.NOTIFY_UUID,)
    LABEL = "pulse oximeter"
    SERVICE_LABEL = "BerryMed transparent UART"

    def __init__(
        self,
        device_id: str,
        address: str,
        *,
        stable_samples: int = 3,
        frames_per_sample: int = berrymed.SAMPLE_RATE_HZ,
        **kwargs: Any,
    ) -> None:
        super().__init__(device_id, DeviceKind.OXIMETER, address, **kwargs)
        self.stable_samples = max(1, stable_samples)
        self.frames_per_sample = max(1, frames_per_sample)
        self._framer = BerryMedFramer()
        self._window: list[tuple[int, int]] = []
        self._valid_frames = 0
        self._last: BciFrame | None = None
        self.frames_seen = 0
        self.bytes_skipped = 0

    def reset(self) -> None:
        self._framer = BerryMedFramer()
        self._window = []
        self._valid_frames = 0
        self._last = None
        self.frames_seen = 0
        self.bytes_skipped = 0

    def timeout_failure(self) -> tuple[FailureReason, str]:
        last = self._last
        if last is not None and last.probe_unplugged:
            return (FailureReason.DEVICE_ERROR, "The pulse oximeter's probe is unplugged.")
        if last is not None and last.no_finger:
            return (
                FailureReason.DEVICE_ERROR,
                "The pulse oximeter reports that no finger is in the clip.",
            )
        return super().timeout_failure()

    @staticmethod
    def _valid(frame: BciFrame) -> tuple[int, int] | None:
        spo2, pulse = frame.spo2, frame.pulse_rate
        if not frame.finger_present or spo2 is None or pulse is None or pulse == 0 or spo2 == 0:
            return None
        return spo2, pulse

    def _take(self, frame: BciFrame) -> Reading | None:
        self.frames_seen += 1
        self._last = frame
        pair = self._valid(frame)
        if pair is None:
            self._window.clear()
            self._valid_frames = 0
            return None
        self._valid_frames += 1
        if (self._valid_frames - 1) % self.frames_per_sample:
            return None
        self._window.append(pair)
        self._window = self._window[-self.stable_samples :]
        if len(self._window) < self.stable_samples:
            return None
        spo2s = [s for s, _ in self._window]
        pulses = [p for _, p in self._window]
        if max(spo2s) - min(spo2s) > 1 or max(pulses) - min(pulses) > 3:
            return None
        flags = ["continuous", "berrymed-bci"]
        if frame.signal_strength <= 1:
            flags.append("weak-signal")
        return Reading(
            self.device_id,
            self.kind,
            (
                ReadingValue("spo2", Decimal(pair[0]), "%"),
                ReadingValue("heart-rate", Decimal(pair[1]), "/min"),
            ),
            flags=tuple(flags),
        )

    def interpret(self, char_uuid: str, data: bytes) -> Outcome:
        if char_uuid != berrymed.NOTIFY_UUID:
            return WAIT
        try:
            events = self._framer.frames(data)
        except BerryMedError as exc:
            return Outcome(failure=(FailureReason.UNSUPPORTED_FORMAT, exc.message))
        samples: list[int] = []
        reading: Reading | None = None
        for event in events:
            if isinstance(event, FrameSkipped):
                self.bytes_skipped += event.length
                continue
            samples.append(event.pleth)
            if reading is None:
                reading = self._take(event)
        progress: tuple[PlethWave, ...] = ()
        if samples and self._last is not None:
            progress = (
                PlethWave(
                    self.device_id,
                    self.kind,
                    tuple(samples),
                    berrymed.SAMPLE_RATE_HZ,
                    finger_present=self._last.finger_present,
                    probe_unplugged=self._last.probe_unplugged,
                ),
            )
        return Outcome(reading=reading, progress=progress)
