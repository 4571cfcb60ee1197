"""The serial blood-pressure monitor driver: alive check, then poll until a fresh result.

Accepting rule (PROTOCOLS.md): the first answer is the baseline; a later answer
is the patient's measurement when it is fresh (Accutorr: minutes since NIBP is
0) and either the baseline was not fresh or the pressures changed. So a result
left on the monitor by the previous patient is never taken for this one.

Polling every `poll_interval_s` (1 s in the cabin): a measurement takes 30-60 s,
so a second is invisible to the patient and keeps the line quiet. Connecting
(port open + alive answer) shares one deadline, `connect_timeout_s`; a monitor
that stops answering for `missed_polls` polls in a row fails as a timeout.
Logs carry byte counts and status, never values.
"""

from __future__ import annotations

import asyncio
import logging
from decimal import Decimal

from drivers.base import CheckResult, Driver
from drivers.events import (
    Connected,
    Disconnected,
    Failed,
    FailureReason,
    Measuring,
    Reading,
    ReadingValue,
)
from drivers.serial.link import LinkLost, PortBusy, PortNotFound, SerialLink, SerialLinkError
from drivers.serial.monitor_protocol import (
    Alive,
    MonitorProtocol,
    Noise,
    Snapshot,
    get_protocol,
)
from vocabulary.devices import DeviceKind

log = logging.getLogger(__name__)


def _changed(a: Snapshot, b: Snapshot) -> bool:
    return (a.pressures, a.pulse_rate) != (b.pressures, b.pulse_rate)


class _Stop(Exception):
    def __init__(self, reason: FailureReason, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


class TensiometerDriver(Driver):
    LABEL = "blood-pressure monitor"

    def __init__(
        self,
        device_id: str,
        port: str,
        *,
        baud_rate: int = 9600,
        protocol: str | None = "accutorr",
        connect_timeout_s: float = 10.0,
        measure_timeout_s: float = 90.0,
        poll_interval_s: float = 1.0,
        answer_timeout_s: float = 1.0,
        missed_polls: int = 3,
    ) -> None:
        super().__init__(device_id, DeviceKind.TENSIOMETER)
        self.port = port
        self.baud_rate = baud_rate
        self.protocol_name = protocol
        get_protocol(protocol)  # an unknown protocol is a configuration error: fail at build time
        self.connect_timeout_s = connect_timeout_s
        self.measure_timeout_s = measure_timeout_s
        self.poll_interval_s = poll_interval_s
        self.answer_timeout_s = answer_timeout_s
        self.missed_polls = max(1, missed_polls)
        self._link: SerialLink | None = None

    # -- plumbing ----------------------------------------------------------------
    async def _exchange(
        self, link: SerialLink, proto: MonitorProtocol, request: bytes, timeout: float
    ) -> Alive | Snapshot | None:
        """Send one request; the first answer, or None after `timeout` of no valid answer."""
        await link.write(request)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            event = proto.next_event()
            while event is not None:
                if isinstance(event, Noise):
                    log.info(
                        "%s: skipped %d byte(s) (%s)", self.device_id, event.length, event.reason
                    )
                else:
                    return event
                event = proto.next_event()
            remaining = deadline - loop.time()
            if remaining <= 0:
                return None
            data = await link.read(remaining)
            if data:
                proto.receive_data(data)

    async def _open(self) -> tuple[SerialLink, MonitorProtocol]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.connect_timeout_s
        link = SerialLink(self.port, self.baud_rate)
        try:
            await link.open()
        except PortNotFound as exc:
            raise _Stop(FailureReason.NOT_FOUND, exc.message) from exc
        except PortBusy as exc:
            raise _Stop(FailureReason.CONNECT_FAILED, exc.message) from exc
        self._link = link
        proto = get_protocol(self.protocol_name)
        while loop.time() < deadline:
            answer = await self._exchange(
                link,
                proto,
                proto.alive_request(),
                min(self.answer_timeout_s, max(0.0, deadline - loop.time())),
            )
            if isinstance(answer, Alive):
                return link, proto
        raise _Stop(
            FailureReason.TIMEOUT,
            f"The {self.LABEL} on {self.port} did not answer within {self.connect_timeout_s:g} seconds.",
        )

    async def _close(self) -> None:
        link, self._link = self._link, None
        if link is not None:
            await link.close()

    def _fail(self, reason: FailureReason, message: str) -> None:
        log.warning("%s: failed (%s)", self.device_id, reason.value)
        self.emit(Failed(self.device_id, self.kind, reason, message))

    # -- the run -----------------------------------------------------------------
    async def _run(self) -> None:
        connected = False
        try:
            link, proto = await self._open()
            connected = True
            self.emit(Connected(self.device_id, self.kind))
            log.info("%s: connected", self.device_id)
            self.emit(Measuring(self.device_id, self.kind))
            reading = await self._poll_until_reading(link, proto)
            log.info("%s: reading received", self.device_id)
            self.emit(reading)
        except _Stop as exc:
            self._fail(exc.reason, exc.message)
        except LinkLost:
            self._fail(
                FailureReason.DISCONNECTED,
                f"The {self.LABEL}'s cable was disconnected ({self.port} went away).",
            )
        except SerialLinkError as exc:
            self._fail(FailureReason.CONNECT_FAILED, exc.message)
        finally:
            await self._close()
            if connected:
                self.emit(Disconnected(self.device_id, self.kind))

    async def _poll_until_reading(self, link: SerialLink, proto: MonitorProtocol) -> Reading:
        baseline: Snapshot | None = None
        last: Snapshot | None = None
        missed = 0
        try:
            async with asyncio.timeout(self.measure_timeout_s):
                while True:
                    answer = await self._exchange(
                        link, proto, proto.poll_request(), self.answer_timeout_s
                    )
                    if not isinstance(answer, Snapshot):
                        missed += 1
                        if missed >= self.missed_polls:
                            raise _Stop(
                                FailureReason.TIMEOUT,
                                f"The {self.LABEL} stopped answering ({missed} polls without an answer).",
                            )
                        continue
                    missed = 0
                    last = answer
                    if baseline is None:
                        # An error already on the monitor is the previous patient's: not fatal.
                        baseline = answer
                    elif answer.fresh and (not baseline.fresh or _changed(answer, baseline)):
                        if answer.device_errors:
                            raise self._device_error(answer)
                        return self._reading(answer)
                    await asyncio.sleep(self.poll_interval_s)
        except TimeoutError:
            if last is not None and last.device_errors:
                # e.g. a second cuff error right after the first: same record, still an error.
                raise self._device_error(last) from None
            raise _Stop(
                FailureReason.TIMEOUT,
                f"The {self.LABEL} gave no new measurement within {self.measure_timeout_s:g} seconds.",
            ) from None

    def _device_error(self, snap: Snapshot) -> _Stop:
        what = ", ".join(snap.device_errors)
        return _Stop(
            FailureReason.DEVICE_ERROR,
            f"The {self.LABEL} reports an error ({what}): check the cuff and measure again.",
        )

    def _reading(self, snap: Snapshot) -> Reading:
        if snap.systolic is None or snap.diastolic is None:
            raise _Stop(
                FailureReason.NO_VALID_READING,
                f"The {self.LABEL} finished a measurement without systolic and diastolic values.",
            )
        values = [
            ReadingValue("systolic", Decimal(snap.systolic), "mm[Hg]"),
            ReadingValue("diastolic", Decimal(snap.diastolic), "mm[Hg]"),
        ]
        if snap.mean is not None:
            values.append(ReadingValue("mean", Decimal(snap.mean), "mm[Hg]"))
        if snap.pulse_rate is not None:
            values.append(ReadingValue("heart-rate", Decimal(snap.pulse_rate), "/min"))
        return Reading(self.device_id, self.kind, tuple(values), flags=snap.flags)

    async def check(self) -> CheckResult:
        """Open the port and ask the alive question; no measurement, no values."""
        try:
            link, _ = await self._open()
        except _Stop as exc:
            return CheckResult(self.device_id, self.kind, False, exc.message)
        except SerialLinkError as exc:
            return CheckResult(self.device_id, self.kind, False, exc.message)
        finally:
            await self._close()
        return CheckResult(
            self.device_id,
            self.kind,
            True,
            f"{self.port} at {link.baud_rate} baud answers the {self.protocol_name} alive check",
        )
