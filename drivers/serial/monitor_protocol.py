"""The seam between the tensiometer driver and a monitor's wire protocol.

A protocol module turns the monitor's bytes into three normalised events, so the
driver's logic (connect, poll, accept a fresh measurement, fail clearly) does not
change when an A&D, Omron or SunTech protocol is added:
  `Alive`     the monitor answered the alive check;
  `Snapshot`  what the monitor shows now, with `fresh` meaning "the NIBP result
              was measured just now" (Accutorr: minutes since NIBP == 0);
  `Noise`     bytes skipped (length and reason only).
Add a protocol: implement `MonitorProtocol`, register it in `PROTOCOLS`, and
name it in the site configuration (`protocol = "..."`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from drivers.serial import accutorr


@dataclass(frozen=True, slots=True)
class Alive:
    pass


@dataclass(frozen=True, slots=True)
class Snapshot:
    systolic: int | None
    diastolic: int | None
    mean: int | None
    pulse_rate: int | None
    fresh: bool
    device_errors: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()

    @property
    def pressures(self) -> tuple[int | None, int | None, int | None]:
        return (self.systolic, self.diastolic, self.mean)


@dataclass(frozen=True, slots=True)
class Noise:
    length: int
    reason: str


MonitorEvent = Alive | Snapshot | Noise


class MonitorProtocol(Protocol):
    name: str

    def alive_request(self) -> bytes: ...

    def poll_request(self) -> bytes: ...

    def request_bytes(self) -> int:
        """Length of one poll request plus its answer, for the line-time floor."""
        ...

    def receive_data(self, data: bytes) -> None: ...

    def next_event(self) -> MonitorEvent | None:
        """The next event, or None when more bytes are needed."""
        ...


class AccutorrProtocol:
    name = "accutorr"

    def __init__(self) -> None:
        self._framer = accutorr.AccutorrFramer()

    def alive_request(self) -> bytes:
        return self._framer.send(accutorr.Command.CHECK)

    def poll_request(self) -> bytes:
        return self._framer.send(accutorr.Command.PATIENT)

    def request_bytes(self) -> int:
        return 1 + len(bytes(accutorr.PatientRecord(*([0] * 9))))

    def receive_data(self, data: bytes) -> None:
        self._framer.receive_data(data)

    def next_event(self) -> MonitorEvent | None:
        while True:
            event = self._framer.next_event()
            if event is accutorr.NEED_DATA:
                return None
            if isinstance(event, accutorr.Prompt):
                return Alive()
            if isinstance(event, accutorr.GarbageSkipped):
                return Noise(event.length, event.reason.value)
            if isinstance(event, accutorr.PatientRecord):
                return Snapshot(
                    systolic=event.systolic,
                    diastolic=event.diastolic,
                    mean=event.mean,
                    pulse_rate=event.pulse_rate,
                    fresh=event.minutes_since_nibp == 0,
                    device_errors=event.device_errors,
                    flags=tuple(
                        n for n in event.status_names if n in ("motion-artifact", "irregular-pulse")
                    ),
                )
            # AlarmLimits: not used while measuring


PROTOCOLS: dict[str, Callable[[], MonitorProtocol]] = {"accutorr": AccutorrProtocol}


def get_protocol(name: str | None) -> MonitorProtocol:
    key = (name or "accutorr").lower()
    try:
        return PROTOCOLS[key]()
    except KeyError:
        known = ", ".join(sorted(PROTOCOLS))
        raise ValueError(f"Unknown monitor protocol '{name}'; known: {known}.") from None
