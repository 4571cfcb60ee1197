"""The card reader driver: presence events and one read per inserted card.

Events, in order, for one card: CardInserted, then CardRead or one Failed
(CARD_ERROR, CARD_EXPIRED or TIMEOUT), then CardRemoved when it is pulled
out. The presence monitor and the card connection run on two threads, so a
removal is reported even while a read is stuck on a mute card; the read is
then abandoned. The driver never retries a read by itself: the patient
pulls the card and tries again, or the assisting professional types the
identity (the manual fallback).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Callable

from drivers.base import CheckResult, Driver
from drivers.card.errors import CardError, CardErrorReason, CardTransportError
from drivers.card.monitor import ReaderMonitor
from drivers.card.profile import CardProfile, Vitale2PublicProfile
from drivers.card.transport import PcscTransport
from drivers.card.worker import SerialWorker
from drivers.events import (
    CardInserted,
    CardRead,
    CardRemoved,
    Connected,
    Failed,
    FailureReason,
)
from vocabulary.devices import DeviceKind

log = logging.getLogger(__name__)

REMOVAL_GRACE_S = 1.0


class CardReaderDriver(Driver):
    """A PC/SC reader, read through a `CardProfile`."""

    def __init__(
        self,
        device_id: str,
        *,
        reader_name: str | None = None,
        profile: CardProfile | None = None,
        read_timeout_s: float = 5.0,
        today: Callable[[], dt.date] = dt.date.today,
        presence_timeout_ms: int = 200,
    ) -> None:
        super().__init__(device_id, DeviceKind.CARD_READER)
        self.reader_name = reader_name
        self.profile = profile if profile is not None else Vitale2PublicProfile()
        self.read_timeout_s = read_timeout_s
        self._today = today
        self._presence_timeout_ms = presence_timeout_ms
        self._monitor_worker: SerialWorker | None = None
        self._card_worker: SerialWorker | None = None
        self._monitor: ReaderMonitor | None = None

    async def _run(self) -> None:
        monitor_worker = self._monitor_worker = SerialWorker(f"pcsc-monitor:{self.device_id}")
        card_worker = self._card_worker = SerialWorker(f"pcsc-card:{self.device_id}")
        monitor = self._monitor = ReaderMonitor(self.reader_name, self._presence_timeout_ms)
        try:
            reader = await monitor_worker.run(monitor.open)
        except CardTransportError as exc:
            reason = (
                FailureReason.CONNECT_FAILED
                if exc.reason is CardErrorReason.NO_SERVICE
                else FailureReason.NOT_FOUND
            )
            self.emit(Failed(self.device_id, self.kind, reason, exc.message))
            return
        log.info("card reader %s ready", self.device_id)
        self.emit(Connected(self.device_id, self.kind))
        present = False
        reading: asyncio.Task[None] | None = None
        try:
            while True:
                try:
                    status = await monitor_worker.run(monitor.wait_change)
                except CardTransportError as exc:
                    if present:
                        self.emit(CardRemoved(self.device_id))
                    self.emit(
                        Failed(self.device_id, self.kind, FailureReason.DISCONNECTED, exc.message)
                    )
                    return
                if status is None or status.present == present:
                    continue
                present = status.present
                if present:
                    log.info("card inserted in %s (ATR %d bytes)", self.device_id, len(status.atr))
                    self.emit(CardInserted(self.device_id, atr=status.atr))
                    reading = asyncio.create_task(self._read(reader, card_worker))
                else:
                    await _cancel(reading)
                    reading = None
                    log.info("card removed from %s", self.device_id)
                    self.emit(CardRemoved(self.device_id))
        finally:
            await _cancel(reading)

    async def _read(self, reader: str, worker: SerialWorker) -> None:
        transport = PcscTransport(reader, worker)
        finished = False
        try:
            async with asyncio.timeout(self.read_timeout_s):
                await transport.connect()
                card = await self.profile.read(transport.transmit, self.device_id)
            finished = True
        except TimeoutError:
            log.info("card read timed out after %d APDUs", transport.transmitted)
            self.emit(
                Failed(
                    self.device_id,
                    self.kind,
                    FailureReason.TIMEOUT,
                    f"The card did not answer within {self.read_timeout_s:g} seconds.",
                )
            )
            return
        except CardError as exc:
            if isinstance(exc, CardTransportError):
                # A card pulled out mid-read fails its transmit before pcscd reports
                # the removal: give the monitor time to cancel us with CardRemoved.
                await asyncio.sleep(REMOVAL_GRACE_S)
            log.info("card read failed: %s (sw=%s)", exc.reason.value, _sw(exc.status_word))
            self.emit(Failed(self.device_id, self.kind, FailureReason.CARD_ERROR, exc.message))
            return
        finally:
            if finished:
                await transport.disconnect()
            else:  # the worker may be stuck on a mute card: clean up behind it
                worker.post(transport.disconnect_blocking)
        self._deliver(card)

    def _deliver(self, card: CardRead) -> None:
        if card.valid_until is not None:
            ended = dt.date.fromisoformat(card.valid_until)
            if ended < self._today():
                log.info("card read: validity ended")
                self.emit(
                    Failed(
                        self.device_id,
                        self.kind,
                        FailureReason.CARD_EXPIRED,
                        "The card is no longer valid: its validity ended before today.",
                    )
                )
                return
        self.emit(card)

    async def _close(self) -> None:
        monitor, worker = self._monitor, self._monitor_worker
        self._monitor = None
        if monitor is not None and worker is not None:
            worker.post(monitor.close)
        for w in (self._monitor_worker, self._card_worker):
            if w is not None:
                w.close()
        self._monitor_worker = self._card_worker = None

    async def check(self) -> CheckResult:
        worker = SerialWorker(f"pcsc-check:{self.device_id}")
        monitor = ReaderMonitor(self.reader_name, timeout_ms=0)
        try:
            reader = await worker.run(monitor.open)
            present = await worker.run(monitor.present_now)
        except CardTransportError as exc:
            return CheckResult(self.device_id, self.kind, ok=False, detail=exc.message)
        finally:
            worker.post(monitor.close)
            worker.close()
        card = "a card is inserted" if present else "no card is inserted"
        return CheckResult(
            self.device_id,
            self.kind,
            ok=True,
            detail=f"Reader '{reader}' is connected; {card}; profile {self.profile.name}.",
        )


async def _cancel(task: asyncio.Task[None] | None) -> None:
    if task is None or task.done():
        return
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def _sw(status_word: int | None) -> str:
    return "-" if status_word is None else f"{status_word:04X}"
