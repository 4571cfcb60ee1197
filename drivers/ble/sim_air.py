"""The simulated air: BLE peripherals that a fake bleak backend reaches.

Why a fake *backend* and not a fake client: the product calls bleak's own
`BleakScanner` / `BleakClient`; only the layer bleak itself swaps per platform
(`backend=`) is replaced, so the product's BLE code path is bleak's.

A `SimulatedPeripheral` holds a GATT table and speaks through `notify()` /
`drop_links()`; the backend classes in `sim_backend.py` are bound to one
`SimulatedAir` (`air.client_backend()`, `air.scanner_backend()`).
"""

from __future__ import annotations

import asyncio
import enum
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from bleak.backends.client import BaseBleakClient
    from bleak.backends.scanner import BaseBleakScanner

log = logging.getLogger(__name__)


class BleFault(enum.StrEnum):
    """What a simulated BLE device can do wrong, as the operator panel names it."""

    ABSENT = "absent"  # not advertising: out of range, battery flat
    NEVER_CONNECTS = "never-connects"  # advertises, but connecting hangs until the timeout
    DISCONNECT_MID_MEASUREMENT = "disconnect-mid-measurement"
    SPECIAL_VALUE = "special-value"  # sends NaN instead of a number
    SLOW = "slow"  # connects and measures, but late (slow_delay_s each)


@dataclass(frozen=True, slots=True)
class CharacteristicSpec:
    uuid: str
    properties: tuple[str, ...]  # bleak names: "read", "notify", "indicate", "write"


@dataclass(frozen=True, slots=True)
class ServiceSpec:
    uuid: str
    characteristics: tuple[CharacteristicSpec, ...]


class Link(Protocol):
    """What a peripheral needs from a connected client backend (implemented in sim_backend)."""

    def deliver(self, char_uuid: str, data: bytes) -> None: ...

    def link_lost(self) -> None: ...


class SimulatedPeripheral:
    """Base of the simulated devices: GATT table, links, subscriptions, faults."""

    def __init__(
        self,
        address: str,
        name: str,
        services: Sequence[ServiceSpec],
        *,
        connect_delay_s: float = 0.002,
        notification_latency_s: float = 0.001,
        slow_delay_s: float = 1.0,
    ) -> None:
        self.address = address.upper()
        self.name = name
        self.services = tuple(services)
        self.connect_delay_s = connect_delay_s
        self.notification_latency_s = notification_latency_s
        self.slow_delay_s = slow_delay_s
        self.fault: BleFault | None = None
        self.failing_connects = 0  # the next N connection attempts fail (a flaky radio)
        self.rssi = -55
        self._subscriptions: dict[Link, set[str]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self.notifications_sent = 0
        self.writes: list[tuple[str, int]] = []  # (characteristic, length) of every write
        self.pair_requests = 0  # connections that asked to bond first
        # Bonding (docs/maintenance.md, "Bonding"): what the device asks before it bonds.
        # "none": pair() is a no-op; "just-works": pair() bonds; "passkey": pair() bonds only
        # with `passkey` (the digits a real device shows on its screen).
        self.bonding: str = "none"
        self.passkey: str | None = None
        self.refuses_bonding = False  # the device answers every pairing request with a refusal
        self.pair_delay_s = 0.0  # how long the device takes to answer (a timeout when long)
        self.bonded = False
        self.pair_attempts = 0  # pair() calls that reached the device
        self.last_notify_at: float | None = None  # loop time of the last notify(), for benchmarks

    # -- what the backend calls -------------------------------------------------
    @property
    def advertising(self) -> bool:
        return self.fault is not BleFault.ABSENT

    @property
    def advertised_uuids(self) -> list[str]:
        return [s.uuid for s in self.services]

    def attach(self, link: Link) -> None:
        self._subscriptions[link] = set()
        self.on_connected()

    def detach(self, link: Link) -> None:
        self._subscriptions.pop(link, None)
        if not self._subscriptions:
            self.cancel_tasks()

    def subscribe(self, link: Link, char_uuid: str) -> None:
        self._subscriptions.setdefault(link, set()).add(char_uuid)
        self.on_subscribed(char_uuid)

    def unsubscribe(self, link: Link, char_uuid: str) -> None:
        self._subscriptions.get(link, set()).discard(char_uuid)

    def read(self, char_uuid: str) -> bytes:
        return b""

    def write(self, char_uuid: str, data: bytes) -> None:
        """A client wrote a characteristic that allows it (devices override)."""
        self.writes.append((char_uuid, len(data)))

    # -- what devices (and the operator panel) call ---------------------------
    @property
    def connected(self) -> bool:
        return bool(self._subscriptions)

    def subscribed(self, char_uuid: str) -> bool:
        return any(char_uuid in subs for subs in self._subscriptions.values())

    def notify(self, char_uuid: str, data: bytes) -> None:
        """Send a notification/indication to every subscribed client after the link latency."""
        loop = asyncio.get_running_loop()
        self.last_notify_at = loop.time()
        for link, subs in list(self._subscriptions.items()):
            if char_uuid in subs:
                self.notifications_sent += 1
                loop.call_later(self.notification_latency_s, link.deliver, char_uuid, bytes(data))

    def drop_links(self) -> None:
        """The radio link is lost (out of range, battery pulled): unsolicited disconnect."""
        links = list(self._subscriptions)
        self._subscriptions.clear()
        self.cancel_tasks()
        for link in links:
            link.link_lost()

    def spawn(self, factory: Callable[[], object]) -> None:
        coro = factory()
        assert asyncio.iscoroutine(coro)
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def cancel_tasks(self) -> None:
        for task in list(self._tasks):
            task.cancel()

    # -- hooks for devices ---------------------------------------------------
    def on_connected(self) -> None:
        """Called when a client connects."""

    def on_subscribed(self, char_uuid: str) -> None:
        """Called when a client enables notifications or indications."""


class SimulatedAir:
    """The peripherals in range, and the bleak backend classes bound to them."""

    def __init__(self, *, advertising_interval_s: float = 0.01) -> None:
        self.advertising_interval_s = advertising_interval_s
        self._peripherals: dict[str, SimulatedPeripheral] = {}
        self._client_cls: type[BaseBleakClient] | None = None
        self._scanner_cls: type[BaseBleakScanner] | None = None

    def add(self, peripheral: SimulatedPeripheral) -> SimulatedPeripheral:
        self._peripherals[peripheral.address] = peripheral
        return peripheral

    def remove(self, address: str) -> None:
        peripheral = self._peripherals.pop(address.upper(), None)
        if peripheral is not None:
            peripheral.drop_links()

    def get(self, address: str) -> SimulatedPeripheral | None:
        return self._peripherals.get(address.upper())

    def advertising(self) -> list[SimulatedPeripheral]:
        return [p for p in self._peripherals.values() if p.advertising]

    def close(self) -> None:
        for peripheral in self._peripherals.values():
            peripheral.drop_links()

    def client_backend(self) -> type[BaseBleakClient]:
        """A `BaseBleakClient` subclass bound to this air, for `BleakClient(..., backend=)`."""
        if self._client_cls is None:
            from drivers.ble.sim_backend import SimBleakClient

            self._client_cls = type("SimBleakClient", (SimBleakClient,), {"air": self})
        return self._client_cls

    def scanner_backend(self) -> type[BaseBleakScanner]:
        """A `BaseBleakScanner` subclass bound to this air, for `BleakScanner(backend=)`."""
        if self._scanner_cls is None:
            from drivers.ble.sim_backend import SimBleakScanner

            self._scanner_cls = type("SimBleakScanner", (SimBleakScanner,), {"air": self})
        return self._scanner_cls
