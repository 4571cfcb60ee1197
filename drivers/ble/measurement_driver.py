"""What the thermometer and oximeter drivers share: find, connect with retries, subscribe,
wait for one good measurement, always disconnect.

Why the whole connection phase shares one deadline (`connect_timeout_s`, from
the site configuration's `device_connect_s`): retries are for a flaky radio,
not for an absent device, and the patient waits at most that long before the
assisting professional is offered manual entry.

The product's BLE path is bleak's: `BleakScanner.find_device_by_address` then
`BleakClient(device).connect()`. `client_backend` / `scanner_backend` are
bleak's own `backend=` injection (the simulated air in the demo and tests).
Logs carry lengths and status, never values.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from abc import abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from drivers.base import CheckResult, Driver
from drivers.ble.errors import GattDecodeError, GattReason
from drivers.events import (
    Connected,
    Connecting,
    DeviceEvent,
    Disconnected,
    Failed,
    FailureReason,
    Measuring,
    Reading,
)
from vocabulary.devices import DeviceKind

if TYPE_CHECKING:
    from collections.abc import Callable

    from bleak import BleakClient
    from bleak.backends.characteristic import BleakGATTCharacteristic
    from bleak.backends.client import BaseBleakClient
    from bleak.backends.scanner import BaseBleakScanner

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a driver makes of one notification: a reading, a failure, or wait for more.

    `progress` events (cuff pressure, pleth wave) are emitted as they come, before
    the reading or failure if there is one.
    """

    reading: Reading | None = None
    failure: tuple[FailureReason, str] | None = None
    progress: tuple[DeviceEvent, ...] = ()


WAIT = Outcome()


class _ConnectFailure(Exception):
    def __init__(self, reason: FailureReason, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


class BleMeasurementDriver(Driver):
    """Base of the BLE measuring drivers; subclasses name the service and interpret bytes."""

    SERVICE_UUID: ClassVar[str]
    CHARACTERISTICS: ClassVar[tuple[str, ...]]  # subscribed to, in this order (if present)
    LABEL: ClassVar[str]  # "thermometer": used in plain sentences
    SERVICE_LABEL: ClassVar[str | None] = None  # for `devices check`; default: the 16-bit UUID

    def __init__(
        self,
        device_id: str,
        kind: DeviceKind,
        address: str,
        *,
        connect_timeout_s: float = 10.0,
        measure_timeout_s: float = 90.0,
        connect_attempts: int = 4,
        retry_delay_s: float = 0.25,
        pair: bool = False,
        client_backend: type[BaseBleakClient] | None = None,
        scanner_backend: type[BaseBleakScanner] | None = None,
    ) -> None:
        super().__init__(device_id, kind)
        self.address = address
        self.connect_timeout_s = connect_timeout_s
        self.measure_timeout_s = measure_timeout_s
        self.connect_attempts = max(1, connect_attempts)
        self.retry_delay_s = retry_delay_s
        self.pair = pair  # bond before using the device (bleak's pair=): some monitors need it
        self._client_backend = client_backend
        self._scanner_backend = scanner_backend
        self._client: BleakClient | None = None
        self._link_lost = asyncio.Event()
        self._notifications: asyncio.Queue[tuple[str, bytes]] = asyncio.Queue()

    # -- subclass hooks ------------------------------------------------------
    @abstractmethod
    def interpret(self, char_uuid: str, data: bytes) -> Outcome:
        """Pure: one notification's bytes -> reading / failure / wait (may keep state)."""

    def timeout_failure(self) -> tuple[FailureReason, str]:
        return (
            FailureReason.TIMEOUT,
            f"The {self.LABEL} sent no reading within {self.measure_timeout_s:g} seconds.",
        )

    def reset(self) -> None:
        """Forget per-measurement state before a new run."""

    async def prepare(self, client: BleakClient) -> None:
        """After connecting, before subscribing (e.g. set the device clock). Default: nothing."""

    def link_lost_outcome(self) -> Outcome | None:
        """What a link lost by the device means; None (default): DISCONNECTED failure."""
        return None

    def backoff_s(self, attempt: int) -> float:
        """Pause after failed attempt `attempt` (1-based): retry_delay_s doubled each time, max 2 s.

        The equivalent of bleak-retry-connector's backoff (docs/drivers-ble-serial.md).
        """
        return min(self.retry_delay_s * 2.0 ** (attempt - 1), 2.0)

    # -- the run ---------------------------------------------------------------
    def _fail(self, reason: FailureReason, message: str) -> None:
        log.warning("%s: failed (%s)", self.device_id, reason.value)
        self.emit(Failed(self.device_id, self.kind, reason, message))

    async def _run(self) -> None:
        self.reset()
        self._link_lost = asyncio.Event()
        self._notifications = asyncio.Queue()
        try:
            client = await self._connect()
        except _ConnectFailure as exc:
            self._fail(exc.reason, exc.message)
            return
        self._client = client
        try:
            self.emit(Connected(self.device_id, self.kind))
            log.info("%s: connected", self.device_id)
            await self._measure(client)
        finally:
            await self._disconnect()
            self.emit(Disconnected(self.device_id, self.kind))

    async def _connect(self) -> BleakClient:
        from bleak import BleakClient, BleakScanner
        from bleak.exc import BleakDeviceNotFoundError, BleakError

        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.connect_timeout_s
        failure = _ConnectFailure(
            FailureReason.NOT_FOUND,
            f"The {self.LABEL} {self.address} was not found: is it switched on and in range?",
        )
        for attempt in range(1, self.connect_attempts + 1):
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            client: BleakClient | None = None
            self.emit(
                Connecting(
                    self.device_id, self.kind, attempt, self.connect_attempts, round(remaining, 1)
                )
            )
            scan_args: BleakScanner.ExtraArgs = {"service_uuids": [self.SERVICE_UUID]}
            if self._scanner_backend is not None:
                scan_args["backend"] = self._scanner_backend
            try:
                async with asyncio.timeout(remaining):
                    device = await BleakScanner.find_device_by_address(
                        self.address, timeout=remaining, **scan_args
                    )
                    if device is None:
                        raise BleakDeviceNotFoundError(self.address, "not advertising")
                    client = BleakClient(
                        device,
                        disconnected_callback=lambda _c: self._link_lost.set(),
                        timeout=remaining,
                        pair=self.pair,
                        backend=self._client_backend,
                    )
                    await client.connect()
                    return client
            except TimeoutError:
                failure = _ConnectFailure(
                    FailureReason.TIMEOUT if client is not None else FailureReason.NOT_FOUND,
                    (
                        f"The {self.LABEL} {self.address} did not accept the connection within "
                        f"{self.connect_timeout_s:g} seconds."
                    )
                    if client is not None
                    else failure.message,
                )
            except BleakDeviceNotFoundError:
                pass  # keep the not-found failure
            except (BleakError, OSError) as exc:
                failure = _ConnectFailure(
                    FailureReason.CONNECT_FAILED,
                    f"Connecting to the {self.LABEL} {self.address} failed ({type(exc).__name__}).",
                )
            if client is not None:
                with contextlib.suppress(Exception):
                    await client.disconnect()
            log.info("%s: connection attempt %d failed", self.device_id, attempt)
            if attempt < self.connect_attempts:
                await asyncio.sleep(min(self.backoff_s(attempt), max(0.0, deadline - loop.time())))
        raise failure

    async def _measure(self, client: BleakClient) -> None:
        await self.prepare(client)
        subscribed = 0
        for uuid in self.CHARACTERISTICS:
            if client.services.get_characteristic(uuid) is None:
                continue
            await client.start_notify(uuid, self._make_callback(uuid))
            subscribed += 1
        if not subscribed:
            self._fail(
                FailureReason.PROTOCOL_ERROR,
                f"The device at {self.address} does not offer the {self.LABEL} measurement.",
            )
            return
        self.emit(Measuring(self.device_id, self.kind))
        try:
            async with asyncio.timeout(self.measure_timeout_s):
                while True:
                    outcome = await self._next_outcome()
                    if outcome is None:
                        outcome = self.link_lost_outcome()
                    if outcome is None:
                        self._fail(
                            FailureReason.DISCONNECTED,
                            f"The {self.LABEL}'s Bluetooth link was lost during the measurement.",
                        )
                        return
                    if outcome.reading is not None:
                        log.info("%s: reading received", self.device_id)
                        self.emit(outcome.reading)
                        return
                    if outcome.failure is not None:
                        self._fail(*outcome.failure)
                        return
        except TimeoutError:
            self._fail(*self.timeout_failure())

    async def _next_outcome(self) -> Outcome | None:
        """The next non-waiting interpretation, or None when the link is lost first."""
        while True:
            if self._notifications.empty() and self._link_lost.is_set():
                return None
            getter = asyncio.ensure_future(self._notifications.get())
            lost = asyncio.ensure_future(self._link_lost.wait())
            try:
                await asyncio.wait({getter, lost}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                lost.cancel()
                if not getter.done():
                    getter.cancel()
            if not getter.done() or getter.cancelled():
                return None
            uuid, data = getter.result()
            log.debug("%s: notification of %d bytes", self.device_id, len(data))
            try:
                outcome = self.interpret(uuid, data)
            except GattDecodeError as exc:
                reason = (
                    FailureReason.NO_VALID_READING
                    if exc.reason is GattReason.NO_VALID_READING
                    else FailureReason.PROTOCOL_ERROR
                )
                return Outcome(failure=(reason, exc.message))
            for event in outcome.progress:
                self.emit(event)
            if outcome.reading is not None or outcome.failure is not None:
                return outcome

    def _make_callback(self, uuid: str) -> Callable[[BleakGATTCharacteristic, bytearray], None]:
        def on_data(_char: BleakGATTCharacteristic, data: bytearray) -> None:
            self._notifications.put_nowait((uuid, bytes(data)))

        return on_data

    async def _disconnect(self) -> None:
        client, self._client = self._client, None
        if client is None:
            return
        try:
            async with asyncio.timeout(self.connect_timeout_s):
                await client.disconnect()
        except Exception as exc:  # noqa: BLE001 - the link is going away anyway
            log.info("%s: disconnect raised %s", self.device_id, type(exc).__name__)
        log.info("%s: disconnected", self.device_id)

    async def _close(self) -> None:
        await self._disconnect()

    async def check(self) -> CheckResult:
        """Find the device, connect, confirm the service is there, disconnect. No measurement."""
        try:
            client = await self._connect()
        except _ConnectFailure as exc:
            return CheckResult(self.device_id, self.kind, False, exc.message)
        try:
            service = client.services.get_service(self.SERVICE_UUID)
            if service is None:
                return CheckResult(
                    self.device_id,
                    self.kind,
                    False,
                    f"connected to {self.address}, but the {self.LABEL} service is missing",
                )
            chars = sum(1 for u in self.CHARACTERISTICS if service.get_characteristic(u))
            return CheckResult(
                self.device_id,
                self.kind,
                True,
                f"{self.address} connected, service {self.SERVICE_LABEL or self.SERVICE_UUID[4:8]} "
                f"with {chars} "
                f"measurement characteristic(s)",
            )
        finally:
            with contextlib.suppress(Exception):
                await client.disconnect()
