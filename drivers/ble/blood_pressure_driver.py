"""The BLE blood-pressure monitor driver (Blood Pressure service 0x1810).

How real monitors behave and what the driver does about it:
- Bonded. The driver asks bleak to pair on connect (`pair=True`): the A&D
  UA-651BLE and most Omron monitors only indicate to a bonded central. A
  passkey-entry monitor needs the passkey entered once through the system's
  Bluetooth agent at installation (maintenance pairing), not here.
- Clock first. If the monitor offers Date Time (0x2A08) with write, the kiosk
  writes its local time before subscribing (A&D UA-651BLE needs it, or it stamps
  readings from its factory date). A write that fails is not fatal: the reading
  is then judged by its time stamp as usual, and flagged.
- Only this session's measurement. Monitors send their stored, unsent records
  first. A measurement whose time stamp is before the session's start
  (`session_start` if the controller set it, else the run's start; less
  `clock_tolerance_s`) or after now (plus the tolerance) is skipped; if the
  monitor sends nothing newer before it disconnects or the time runs out, the
  driver fails with STALE_READING. A measurement with no time stamp is taken
  (the monitor sends only live readings then) and flagged "no-device-time".
- Nothing that deletes. The driver writes Date Time and nothing else: never the
  Record Access Control Point (0x2A52) nor a vendor characteristic that
  downloads-and-erases. (Indications are acknowledged by the Bluetooth stack,
  not by us: the reading is in the kiosk before the monitor learns it arrived.)
- Disconnecting by itself after sending is normal: the reading already taken
  is the outcome. Disconnecting with nothing of this session is a failure
  (DISCONNECTED while measuring, STALE_READING when only old records came).
- Intermediate Cuff Pressure (0x2A36) becomes `CuffPressure` progress events.
- Status bits become flags on the Reading ("body-movement", "cuff-too-loose",
  ...); `blood_pressure.MEASURE_AGAIN_FLAGS` says which ask for a new measure.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from drivers.ble import blood_pressure as bp
from drivers.ble.gatt_fields import DateTime
from drivers.ble.measurement_driver import WAIT, BleMeasurementDriver, Outcome
from drivers.events import CuffPressure, FailureReason, Reading, ReadingValue
from drivers.ieee11073 import SpecialValue
from vocabulary.devices import DeviceKind

if TYPE_CHECKING:
    from bleak import BleakClient

log = logging.getLogger(__name__)


def _local_now() -> dt.datetime:
    return dt.datetime.now().replace(microsecond=0)


class BloodPressureDriver(BleMeasurementDriver):
    SERVICE_UUID = bp.SERVICE_UUID
    CHARACTERISTICS = (bp.MEASUREMENT_UUID, bp.INTERMEDIATE_CUFF_PRESSURE_UUID)
    LABEL = "blood-pressure monitor"

    def __init__(
        self,
        device_id: str,
        address: str,
        *,
        clock: Callable[[], dt.datetime] = _local_now,
        clock_tolerance_s: float = 120.0,
        set_device_clock: bool = True,
        pair: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(device_id, DeviceKind.TENSIOMETER, address, pair=pair, **kwargs)
        self._clock = clock
        self.set_device_clock = set_device_clock
        # When the patient's session began (local time), if the controller tells us: a reading
        # taken after that but before this run started (the patient pressed Start early) counts.
        self.session_start: dt.datetime | None = None
        self.clock_tolerance_s = clock_tolerance_s
        self._session_start = clock()
        self._stale_records = 0
        self._clock_set: bool | None = None  # None: the monitor has no writable Date Time

    def reset(self) -> None:
        run_start = self._clock()
        given = self.session_start
        self._session_start = min(given, run_start) if given is not None else run_start
        self._stale_records = 0
        self._clock_set = None

    @property
    def stale_records(self) -> int:
        """How many stored records from before this session were skipped in the last run."""
        return self._stale_records

    async def prepare(self, client: BleakClient) -> None:
        char = client.services.get_characteristic(bp.DATE_TIME_UUID)
        if (
            not self.set_device_clock
            or char is None
            or not {"write", "write-without-response"} & set(char.properties)
        ):
            return
        from bleak.exc import BleakError

        try:
            await client.write_gatt_char(
                char, bytes(DateTime.from_datetime(self._clock())), response=True
            )
        except (BleakError, OSError) as exc:
            log.info("%s: setting the clock failed (%s)", self.device_id, type(exc).__name__)
            self._clock_set = False
            return
        self._clock_set = True
        log.info("%s: device clock set", self.device_id)

    def _stale_failure(self) -> tuple[FailureReason, str]:
        return (
            FailureReason.STALE_READING,
            f"The blood-pressure monitor sent only {self._stale_records} stored reading(s) taken "
            "before this session, and no new one.",
        )

    def link_lost_outcome(self) -> Outcome | None:
        if self._stale_records:
            return Outcome(failure=self._stale_failure())
        return None

    def timeout_failure(self) -> tuple[FailureReason, str]:
        if self._stale_records:
            return self._stale_failure()
        return super().timeout_failure()

    def _from_this_session(self, stamp: DateTime) -> bool:
        moment = stamp.to_datetime()
        if moment is None:
            return False
        slack = dt.timedelta(seconds=self.clock_tolerance_s)
        return self._session_start - slack <= moment <= self._clock() + slack

    def interpret(self, char_uuid: str, data: bytes) -> Outcome:
        if char_uuid == bp.INTERMEDIATE_CUFF_PRESSURE_UUID:
            cuff = bp.parse_intermediate_cuff_pressure(data)
            pressure = bp.to_mmhg(cuff.pressure, cuff.unit)
            return Outcome(progress=(CuffPressure(self.device_id, self.kind, pressure),))
        if char_uuid != bp.MEASUREMENT_UUID:
            return WAIT
        m = bp.parse_measurement(data)
        if m.timestamp is not None and not self._from_this_session(m.timestamp):
            self._stale_records += 1
            log.info("%s: skipped a stored record from before this session", self.device_id)
            return WAIT
        flags = list(m.status_names)
        if m.unit == "kPa":
            flags.append("converted-from-kPa")
        if m.timestamp is None:
            flags.append("no-device-time")
        if self._clock_set is False:
            flags.append("device-clock-not-set")
        mmhg = "mm[Hg]"
        values = [
            ReadingValue("systolic", bp.to_mmhg(m.systolic, m.unit), mmhg),
            ReadingValue("diastolic", bp.to_mmhg(m.diastolic, m.unit), mmhg),
            ReadingValue("mean", bp.to_mmhg(m.mean, m.unit), mmhg),
        ]
        if m.pulse_rate is not None and not isinstance(m.pulse_rate, SpecialValue):
            values.append(ReadingValue("heart-rate", m.pulse_rate, "/min"))
        return Outcome(
            reading=Reading(
                self.device_id,
                self.kind,
                tuple(values),
                flags=tuple(flags),
                device_time=m.timestamp.iso() if m.timestamp else None,
            )
        )
