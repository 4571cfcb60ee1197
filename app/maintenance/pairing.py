"""BLE scan and pairing: bleak's scanner, then the address written into the site file.

Why only devices that advertise a health service the kiosk reads: a scan in
a pharmacy also finds the phones of the people waiting, named after them
("iPhone de Marie"): an identity the technician must not see. A device that
advertises none of `HEALTH_SERVICES` is counted, never named.

Why tomlkit and a validated, atomic edit: the site file is written by a
person, with comments that say why; tomlkit changes the one value and keeps
the rest as written. The edited text is checked by the kiosk's own loader
(`kiosk_config.loader.parse_config`) before anything is written, then
written to a temporary file beside the original, flushed, and renamed over
it (`os.replace`), so a power cut leaves either the old file or the new one,
never half of one, and a file the kiosk would refuse is never written.

Bonding (docs/maintenance.md, "Bonding"): the site file says which devices
must bond (`Device.bonding`), rather than the kiosk finding out from a first
read refused for "insufficient authentication": on BlueZ that read would start
a pairing through whatever agent is registered, too late for the technician
to type a passkey, and some monitors (A&D's) send nothing at all before they
are bonded. `bond` uses bleak's own `BleakClient.pair()`; a failure comes back
as a `BondRefused` with one of a few plain reasons (`BondFailure`), read from
BlueZ's D-Bus error names by `bond_failure`, a pure function.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from bleak import BleakClient, BleakScanner
from bleak.backends.client import BaseBleakClient
from bleak.backends.scanner import BaseBleakScanner
from bleak.exc import BleakDBusError, BleakDeviceNotFoundError, BleakError

from app.maintenance.errors import MaintenanceErrorReason, MaintenanceRefused
from drivers.ble import berrymed, blood_pressure, health_thermometer, plx
from drivers.ble.bluez_agent import PasskeyAgent
from drivers.registry import device_transport
from kiosk_config import KioskConfig
from kiosk_config.errors import ConfigError
from kiosk_config.loader import parse_config, read_config_bytes
from vocabulary.devices import DeviceKind

HEALTH_SERVICES: dict[str, DeviceKind] = {
    health_thermometer.SERVICE_UUID: DeviceKind.THERMOMETER,
    plx.SERVICE_UUID: DeviceKind.OXIMETER,
    blood_pressure.SERVICE_UUID: DeviceKind.TENSIOMETER,
    berrymed.SERVICE_UUID: DeviceKind.OXIMETER,  # ISSC transparent UART
}
"""Advertised services of the devices the kiosk can drive (drivers/ble/)."""

log = logging.getLogger(__name__)

BLE_KINDS = frozenset({DeviceKind.THERMOMETER, DeviceKind.OXIMETER, DeviceKind.TENSIOMETER})


@dataclass(frozen=True, slots=True)
class FoundDevice:
    address: str
    name: str  # as advertised; "" when it gives none
    kind: DeviceKind


@dataclass(frozen=True, slots=True)
class ScanResult:
    devices: tuple[FoundDevice, ...]
    others: int  # devices seen that advertise no health service: counted, never named


async def scan(backend: type[BaseBleakScanner] | None = None, timeout_s: float = 5.0) -> ScanResult:
    """bleak's scanner for `timeout_s`; `backend` injects another (the simulated air)."""
    if backend is None:
        seen = await BleakScanner.discover(timeout=timeout_s, return_adv=True)
    else:
        seen = await BleakScanner.discover(timeout=timeout_s, return_adv=True, backend=backend)
    devices: list[FoundDevice] = []
    others = 0
    for device, adv in seen.values():
        kinds = [
            HEALTH_SERVICES[u.lower()] for u in adv.service_uuids if u.lower() in HEALTH_SERVICES
        ]
        if not kinds:
            others += 1
            continue
        devices.append(FoundDevice(device.address, adv.local_name or device.name or "", kinds[0]))
    devices.sort(key=lambda d: (d.kind, d.address))
    return ScanResult(tuple(devices), others)


def _refused(sentence: str) -> MaintenanceRefused:
    return MaintenanceRefused(MaintenanceErrorReason.CONFIG_EDIT_REFUSED, sentence)


def set_ble_address(path: Path, device_id: str, address: str) -> KioskConfig:
    """Write `address` as `device_id`'s `ble_address` in the site file, validated, atomically.

    Returns the configuration as the kiosk will read it. Raises
    `MaintenanceRefused` (UNKNOWN_DEVICE, CONFIG_EDIT_REFUSED) and writes
    nothing when the device is not a BLE device of this file or when the
    edited file would not load.
    """
    import tomlkit
    from tomlkit.exceptions import TOMLKitError

    path = Path(path)
    try:
        text = read_config_bytes(path).decode("utf-8")
        document = tomlkit.parse(text)
    except (ConfigError, UnicodeDecodeError, TOMLKitError) as exc:
        raise _refused(
            f"The site file {path} cannot be read as TOML ({type(exc).__name__})."
        ) from None
    devices = document.get("devices")
    table = None
    if isinstance(devices, list):
        table = next((t for t in devices if isinstance(t, dict) and t.get("id") == device_id), None)
    if table is None:
        raise MaintenanceRefused(
            MaintenanceErrorReason.UNKNOWN_DEVICE,
            f"No device is configured with the id '{device_id}' in {path}.",
        )
    try:
        current = parse_config(text, str(path))
    except ConfigError as exc:
        problems = "; ".join(p.sentence() for p in exc.problems)
        raise _refused(f"The site file is refused as it is now ({problems}).") from None
    device = next(d for d in current.devices if d.id == device_id)
    if device.kind.value not in {k.value for k in BLE_KINDS} or device_transport(device) != "ble":
        raise _refused(f"The device '{device_id}' is not a Bluetooth device; it has no address.")
    table["ble_address"] = address
    edited = tomlkit.dumps(document)
    try:
        config = parse_config(edited, str(path))
    except ConfigError as exc:
        problems = "; ".join(p.sentence() for p in exc.problems)
        raise _refused(
            f"The edit was not saved: the site file would be refused ({problems})."
        ) from None
    _replace(path, edited.encode("utf-8"))
    return config


def _replace(path: Path, data: bytes) -> None:
    """Write beside `path`, flush to disk, rename over it (same mode), flush the folder."""
    mode = stat.S_IMODE(path.stat().st_mode)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


# -- bonding -------------------------------------------------------------------------

Bonding = Literal["none", "just-works", "passkey"]


class BondFailure(enum.StrEnum):
    """Why a device did not bond, as the technician is told (`maint.bond.<value>`)."""

    WRONG_PASSKEY = "wrong-passkey"
    PASSKEY_NEEDED = "passkey-needed"
    REFUSED = "refused"
    TIMEOUT = "timeout"
    NOT_FOUND = "not-found"
    FAILED = "failed"


class BondRefused(Exception):
    """The device did not bond; `failure` says why (no passkey, no device data inside)."""

    def __init__(self, failure: BondFailure) -> None:
        super().__init__(str(failure))
        self.failure = failure


async def system_passkey_agent() -> PasskeyAgent:
    """BlueZ's default agent for the cabin, on the system bus (raises BondRefused: FAILED).

    bleak's BlueZ backend registers no agent, so a passkey reaches a device only through
    one (drivers/ble/bluez_agent.py). Registered once, on the first bonding that needs a
    passkey; the kiosk's user must be allowed to talk to org.bluez (the package's D-Bus
    policy, docs/maintenance.md "Bonding"). No bus or no BlueZ: the pairing is refused
    plainly, never left waiting.
    """
    from dbus_fast import BusType, DBusError
    from dbus_fast.aio import MessageBus

    from drivers.ble.bluez_agent import register

    agent = PasskeyAgent()
    try:
        bus = await MessageBus(bus_type=BusType.SYSTEM).connect()
        await register(bus, agent)
    except (DBusError, OSError, ValueError) as exc:
        log.warning("BlueZ passkey agent not registered (%s)", type(exc).__name__)
        raise BondRefused(BondFailure.FAILED) from None
    return agent


_DBUS_FAILURES: dict[str, BondFailure] = {
    "org.bluez.Error.AuthenticationFailed": BondFailure.WRONG_PASSKEY,
    "org.bluez.Error.AuthenticationCanceled": BondFailure.PASSKEY_NEEDED,
    "org.bluez.Error.AuthenticationRejected": BondFailure.REFUSED,
    "org.bluez.Error.AuthenticationTimeout": BondFailure.TIMEOUT,
    "org.bluez.Error.ConnectionAttemptFailed": BondFailure.NOT_FOUND,
    "org.bluez.Error.DoesNotExist": BondFailure.NOT_FOUND,
}


def bond_failure(dbus_error: str) -> BondFailure:
    """The reason behind a BlueZ error name; any name it does not know is FAILED."""
    return _DBUS_FAILURES.get(dbus_error.strip(), BondFailure.FAILED)


def valid_passkey(passkey: str) -> bool:
    """A Bluetooth passkey: six digits (0 to 999999, as the device shows it)."""
    return len(passkey) == 6 and passkey.isascii() and passkey.isdigit()


async def bond(
    address: str,
    bonding: Bonding,
    passkey: str | None = None,
    *,
    backend: type[BaseBleakClient] | None = None,
    timeout_s: float = 30.0,
    agent: PasskeyAgent | None = None,
) -> None:
    """Connect to `address` and bond with bleak's `BleakClient.pair()`, then disconnect.

    Nothing to do for `bonding == "none"`. With "passkey", `passkey` is the code the
    technician typed; it is given to `pair()` as the simulated backend's keyword and,
    on BlueZ, must reach the registered agent (docs/maintenance.md, "Bonding").
    `agent`: BlueZ's registered passkey agent (`drivers.ble.bluez_agent`), offered the
    code for the length of this `pair()` only, then withdrawn whatever happened.
    Raises `BondRefused`; the passkey is never in an error or a log.
    """
    if bonding == "none":
        return
    if bonding == "passkey" and (passkey is None or not valid_passkey(passkey)):
        raise BondRefused(BondFailure.PASSKEY_NEEDED if not passkey else BondFailure.WRONG_PASSKEY)
    client = BleakClient(address, timeout=timeout_s, backend=backend)
    try:
        async with asyncio.timeout(timeout_s):
            await client.connect()
            try:
                if bonding == "passkey":
                    assert passkey is not None  # checked above
                    if agent is not None:
                        agent.offer(passkey)
                    await client.pair(passkey=passkey)
                else:
                    await client.pair()
            finally:
                if agent is not None:
                    agent.withdraw()
                with contextlib.suppress(BleakError, OSError):
                    await client.disconnect()
    except TimeoutError:
        raise BondRefused(BondFailure.TIMEOUT) from None
    except BleakDeviceNotFoundError:
        raise BondRefused(BondFailure.NOT_FOUND) from None
    except BleakDBusError as exc:
        raise BondRefused(bond_failure(exc.dbus_error)) from None
    except (BleakError, OSError):
        raise BondRefused(BondFailure.FAILED) from None
