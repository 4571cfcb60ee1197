"""A simulated BLE blood-pressure monitor (service 0x1810) that behaves like real ones.

On subscription to the Measurement (indications) it inflates the cuff, sending
Intermediate Cuff Pressure notifications, indicates its stored unsent records
first (`stored_records`, each from yesterday), then this measurement with its own
clock's time stamp, and disconnects by itself, as an A&D UA-651BLE does.

Behaviours (`behaviour`, what the operator panel names):
- normal;
- cuff-error: the measurement carries body movement + cuff too loose;
- old-record-only: sends one stored record from yesterday, then disconnects;
- disconnect-mid-measure: the link drops while the cuff inflates;
- needs-clock: its clock reads 2000-01-01 until Date Time (0x2A08) is written,
  so without the kiosk setting it the new reading looks 26 years old.
The link-level faults of every simulated BLE device (absent, never connects,
slow) stay on `fault`. Any write to the Record Access Control Point is kept in
`erase_requests` (a kiosk must never send one).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import enum
from decimal import Decimal

from drivers.ble import blood_pressure as bp
from drivers.ble.gatt_fields import DateTime, parse_date_time
from drivers.ble.sim_air import BleFault, CharacteristicSpec, ServiceSpec, SimulatedPeripheral
from drivers.ieee11073 import SpecialValue, encode_sfloat

_FACTORY = dt.datetime(2000, 1, 1, 0, 0, 0)


class BpBehaviour(enum.StrEnum):
    NORMAL = "normal"
    CUFF_ERROR = "cuff-error"
    OLD_RECORD_ONLY = "old-record-only"
    DISCONNECT_MID_MEASURE = "disconnect-mid-measure"
    NEEDS_CLOCK = "needs-clock"


SIMULATED_PASSKEY = "246810"
"""What the simulated monitor "shows" when asked to bond (docs/maintenance.md, "Bonding")."""


class SimulatedBloodPressureMonitor(SimulatedPeripheral):
    BEHAVIOURS = BpBehaviour

    def __init__(
        self,
        address: str,
        name: str = "SIM-BP UA-651BLE",
        *,
        measure_delay_s: float = 0.05,
        cuff_steps: int = 6,
        stored_records: int = 1,
        **kwargs: float,
    ) -> None:
        super().__init__(
            address,
            name,
            [
                ServiceSpec(
                    bp.SERVICE_UUID,
                    (
                        CharacteristicSpec(bp.MEASUREMENT_UUID, ("indicate",)),
                        CharacteristicSpec(bp.INTERMEDIATE_CUFF_PRESSURE_UUID, ("notify",)),
                        CharacteristicSpec(bp.FEATURE_UUID, ("read",)),
                        CharacteristicSpec(bp.DATE_TIME_UUID, ("read", "write")),
                        CharacteristicSpec(
                            bp.RECORD_ACCESS_CONTROL_POINT_UUID, ("write", "indicate")
                        ),
                    ),
                )
            ],
            **kwargs,
        )
        self.behaviour = BpBehaviour.NORMAL
        self.measure_delay_s = measure_delay_s
        self.cuff_steps = max(1, cuff_steps)
        self.stored_records = stored_records
        self.next_systolic = Decimal(128)
        self.next_diastolic = Decimal(82)
        self.next_mean = Decimal(97)
        self.next_pulse = Decimal(71)
        self.unit = "mm[Hg]"
        self._clock_offset: dt.timedelta | None = dt.timedelta(0)  # None: clock never set
        self.clock_writes = 0
        self.erase_requests = 0
        # A&D's UA-651BLE bonds with a passkey it shows on its screen before it sends
        # anything; the simulated one asks the same, with the digits it "shows" here.
        self.bonding = "passkey"
        self.passkey = SIMULATED_PASSKEY

    # -- the device's clock -------------------------------------------------------
    def on_connected(self) -> None:
        if self.behaviour is BpBehaviour.NEEDS_CLOCK and not self.clock_writes:
            self._clock_offset = None

    def device_now(self) -> dt.datetime:
        now = dt.datetime.now().replace(microsecond=0)
        if self._clock_offset is None:
            return _FACTORY + (now - now.replace(hour=0, minute=0, second=0))
        return now + self._clock_offset

    def read(self, char_uuid: str) -> bytes:
        if char_uuid == bp.FEATURE_UUID:
            return (0x003F).to_bytes(2, "little")  # every detection bit supported
        if char_uuid == bp.DATE_TIME_UUID:
            return bytes(DateTime.from_datetime(self.device_now()))
        return b""

    def write(self, char_uuid: str, data: bytes) -> None:
        super().write(char_uuid, data)
        if char_uuid == bp.DATE_TIME_UUID:
            written = parse_date_time(data).to_datetime()
            if written is not None:
                self._clock_offset = written - dt.datetime.now().replace(microsecond=0)
                self.clock_writes += 1
        elif char_uuid == bp.RECORD_ACCESS_CONTROL_POINT_UUID:
            self.erase_requests += 1

    # -- the measurement --------------------------------------------------------
    def on_subscribed(self, char_uuid: str) -> None:
        if char_uuid == bp.MEASUREMENT_UUID:
            self.spawn(self._measure)

    def measurement_bytes(self, moment: dt.datetime, *, status: int = 0) -> bytes:
        if self.fault is BleFault.SPECIAL_VALUE:
            return bytes((0x00,)) + encode_sfloat(SpecialValue.NAN) * 3
        return bytes(
            bp.BloodPressureMeasurement(
                systolic=self.next_systolic,
                diastolic=self.next_diastolic,
                mean=self.next_mean,
                unit=self.unit,
                timestamp=DateTime.from_datetime(moment),
                pulse_rate=self.next_pulse,
                user_id=1,
                measurement_status=status,
            )
        )

    def stored_record_bytes(self) -> bytes:
        yesterday = self.device_now() - dt.timedelta(days=1, hours=2)
        return self.measurement_bytes(yesterday)

    async def _cuff(self, steps: int) -> None:
        peak = self.next_systolic + 30
        for step in range(1, steps + 1):
            pressure = (peak * step / steps).quantize(Decimal(1))
            self.notify(
                bp.INTERMEDIATE_CUFF_PRESSURE_UUID,
                bytes(bp.IntermediateCuffPressure(pressure, unit="mm[Hg]")),
            )
            await asyncio.sleep(self.measure_delay_s / steps)

    async def _hang_up(self) -> None:
        """Let the last indication reach the client, then drop the link as the device does."""
        await asyncio.sleep(self.notification_latency_s * 5 + 0.005)
        self.drop_links()

    async def _measure(self) -> None:
        if self.fault is BleFault.SLOW:
            await asyncio.sleep(self.slow_delay_s)
        if self.fault is BleFault.DISCONNECT_MID_MEASUREMENT or (
            self.behaviour is BpBehaviour.DISCONNECT_MID_MEASURE
        ):
            await self._cuff(max(1, self.cuff_steps // 2))
            self.drop_links()
            return
        stored = self.stored_records
        if self.behaviour is BpBehaviour.OLD_RECORD_ONLY:
            stored = max(1, stored)
        for _ in range(stored):
            self.notify(bp.MEASUREMENT_UUID, self.stored_record_bytes())
            await asyncio.sleep(self.notification_latency_s * 2)
        if self.behaviour is BpBehaviour.OLD_RECORD_ONLY:
            await self._hang_up()
            return
        await self._cuff(self.cuff_steps)
        status = 0b11 if self.behaviour is BpBehaviour.CUFF_ERROR else 0
        self.notify(bp.MEASUREMENT_UUID, self.measurement_bytes(self.device_now(), status=status))
        await self._hang_up()
