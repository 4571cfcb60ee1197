"""An Accutorr monitor living on the far end of a real pty pair.

The product opens the pty's slave side with pyserial, exactly as it opens
/dev/ttyUSB0 in the cabin; this object owns the master side, answers `C`, `P`
and `L` with protocol bytes (paced at the configured baud rate, 10 bits a
byte, so line time is real), and can misbehave on demand (`fault`). A stable
path (`port`, a symlink in `link_dir`, like socat's `link=`) is what the
configuration and the driver see; pulling the cable closes the master and
removes the link, so the port vanishes as a USB adapter does.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import os
import random
import tempfile
import time
import tty
from pathlib import Path

from drivers.serial.accutorr import AlarmLimits, PatientRecord

log = logging.getLogger(__name__)


class SerialFault(enum.StrEnum):
    """What the simulated monitor can do wrong, as the operator panel names it."""

    CUFF_ERROR = "cuff-error"  # the next measurement ends with the cuff-error status bit
    NO_ANSWER = "no-answer"  # commands are ignored
    GARBAGE = "garbage"  # noise bytes before every answer
    CUT_RECORD = "cut-record"  # the first record after a measurement is cut in the middle
    CABLE_PULLED = "cable-pulled"  # the port vanishes at the next patient-data poll
    SLOW = "slow"  # every answer comes `slow_delay_s` late


_NOISE = bytes(b for b in range(256) if b not in b"PL>\n")


class SimulatedAccutorr:
    def __init__(
        self,
        *,
        baud_rate: int = 9600,
        link_dir: Path | None = None,
        link_name: str = "accutorr",
        measure_duration_s: float = 0.2,
        auto_measure: bool = True,
        slow_delay_s: float = 0.5,
        pace: bool = True,
        jitter: int = 0,
        seed: int = 0,
    ) -> None:
        self.baud_rate = baud_rate
        self.measure_duration_s = measure_duration_s
        self.auto_measure = auto_measure  # the patient presses "start" when the kiosk says so
        self.slow_delay_s = slow_delay_s
        self.pace = pace
        # ±jitter mm[Hg] per measurement: two results within a minute are then told apart,
        # as on a real monitor (the protocol has no measurement counter).
        self.jitter = jitter
        self.fault: SerialFault | None = None
        self.next_systolic = 121
        self.next_diastolic = 78
        self.next_mean = 92
        self.next_pulse = 68
        self.limits = AlarmLimits(90, 100, 50, 120, 90, 160, 50, 100)
        self._record = PatientRecord(97, 70, 118, 90, 76, 0, 0, 0, None)
        self._last_measure = time.monotonic() - 12 * 60  # the previous patient's result
        self._measuring: asyncio.Task[None] | None = None
        self._cut_pending = False
        self._rng = random.Random(seed)  # noqa: S311 - noise, not security
        self._own_dir = link_dir is None
        self._dir = Path(tempfile.mkdtemp(prefix="sim-accutorr-")) if link_dir is None else link_dir
        self._link = self._dir / link_name
        self._master: int | None = None
        self._slave: int | None = None
        self._answers: asyncio.Queue[bytes] = asyncio.Queue()
        self._writer: asyncio.Task[None] | None = None
        self.commands_received = 0
        self.measurement_done_at: float | None = None  # loop time of the last completed result

    @property
    def port(self) -> str:
        return str(self._link)

    @property
    def running(self) -> bool:
        return self._master is not None

    async def start(self) -> None:
        if self._master is not None:
            return
        master, slave = os.openpty()
        tty.setraw(master)
        tty.setraw(slave)
        os.set_blocking(master, False)
        self._master, self._slave = master, slave
        self._dir.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileNotFoundError):
            self._link.unlink()
        self._link.symlink_to(os.ttyname(slave))
        loop = asyncio.get_running_loop()
        loop.add_reader(master, self._on_command)
        self._writer = loop.create_task(self._write_answers())
        log.info("simulated accutorr on %s", self.port)

    async def stop(self) -> None:
        self.pull_cable()
        if self._writer is not None:
            self._writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._writer
            self._writer = None
        if self._measuring is not None:
            self._measuring.cancel()
        if self._own_dir:
            with contextlib.suppress(OSError):
                self._dir.rmdir()

    def pull_cable(self) -> None:
        """The port vanishes: master and slave closed, link removed."""
        master, slave = self._master, self._slave
        self._master = self._slave = None
        if master is not None:
            with contextlib.suppress(ValueError, OSError):
                asyncio.get_running_loop().remove_reader(master)
            os.close(master)
        if slave is not None:
            os.close(slave)
        with contextlib.suppress(FileNotFoundError):
            self._link.unlink()

    # -- the device's front panel ------------------------------------------------
    def start_measurement(self) -> None:
        """The cuff inflates; the result appears after `measure_duration_s`."""
        if self._measuring is not None and not self._measuring.done():
            return
        self._measuring = asyncio.get_running_loop().create_task(self._measure())

    async def _measure(self) -> None:
        await asyncio.sleep(self.measure_duration_s)
        self.complete_measurement()

    def complete_measurement(self) -> None:
        """A new NIBP result is on the monitor now (minutes since = 0)."""
        cuff_error = self.fault is SerialFault.CUFF_ERROR
        j = self._rng.randint(-self.jitter, self.jitter) if self.jitter else 0
        self._record = PatientRecord(
            spo2=97,
            pulse_rate=None if cuff_error else self.next_pulse,
            systolic=None if cuff_error else self.next_systolic + j,
            mean=None if cuff_error else self.next_mean + j,
            diastolic=None if cuff_error else self.next_diastolic + j,
            status0=0x01 if cuff_error else 0,
            status1=0,
            status2=0,
            minutes_since_nibp=0,
        )
        self._last_measure = time.monotonic()
        self._cut_pending = self.fault is SerialFault.CUT_RECORD
        self.measurement_done_at = asyncio.get_running_loop().time()

    def current_record(self) -> PatientRecord:
        minutes = int((time.monotonic() - self._last_measure) // 60)
        fields = {f: getattr(self._record, f) for f in PatientRecord.__dataclass_fields__}
        fields["minutes_since_nibp"] = min(minutes, 999)
        return PatientRecord(**fields)

    # -- the wire ------------------------------------------------------------------
    def _on_command(self) -> None:
        master = self._master
        if master is None:
            return
        try:
            data = os.read(master, 64)
        except BlockingIOError:
            return
        except OSError:
            return  # EIO: nobody has the slave open right now
        for byte in data:
            self.commands_received += 1
            self._handle(bytes((byte,)))

    def _handle(self, command: bytes) -> None:
        if self.fault is SerialFault.NO_ANSWER:
            return
        if command == b"C":
            self._answers.put_nowait(b">")
            if self.auto_measure:
                self.start_measurement()
        elif command == b"P":
            if self.fault is SerialFault.CABLE_PULLED:
                self.pull_cable()
                return
            record = bytes(self.current_record())
            if self._cut_pending:
                self._cut_pending = False
                record = record[: len(record) // 2]
            self._answers.put_nowait(record)
        elif command == b"L":
            self._answers.put_nowait(bytes(self.limits))

    async def _write_answers(self) -> None:
        while True:
            answer = await self._answers.get()
            if self.fault is SerialFault.GARBAGE:
                noise = bytes(self._rng.choice(_NOISE) for _ in range(self._rng.randint(3, 12)))
                answer = noise + answer
            delay = self.slow_delay_s if self.fault is SerialFault.SLOW else 0.0
            if self.pace:
                delay += len(answer) * 10 / self.baud_rate
            if delay:
                await asyncio.sleep(delay)
            master = self._master
            if master is None:
                continue
            try:
                os.write(master, answer)
            except OSError:
                log.info("simulated accutorr: answer of %d bytes dropped", len(answer))
