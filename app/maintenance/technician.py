"""The technician's maintenance mode below the screens: what it may reach, and nothing more.

Why a service of its own (and not the screens calling the store): the CNIL's
"differentiated rights" must hold whatever a screen asks. The technician's
screens hold a `MaintenanceService` and a `MaintenanceSession`; the service
reaches device tests, outbox counts, ages and quarantine reason *codes*, the
store's integrity, the configuration with its secrets removed, versions and
the clock, and nothing of a patient: it keeps the store behind a narrow port
(`MaintenanceStore`: health, quarantine rows, audit chain), and anything that
would show a session's content or an identity raises `HealthDataRefused`,
audited, for the technician's role.

Every call is audited under the technician's own account (`AccountService.
record_act`): who, what, outcome, and codes only in the detail. A session
ends when the technician leaves it, or after `IDLE_LIMIT` without a touch;
any call on an ended session raises `MaintenanceRefused(SESSION_ENDED)`, so
a screen left open behind the welcome screen can do nothing.

Why quarantine reasons are shown as codes: the sender's reason is a
sentence that may quote the platform's OperationOutcome; a code derived
from it (`reason_code`) tells the technician what happened without carrying
any text from outside.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import platform
import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from bleak.backends.client import BaseBleakClient
from bleak.backends.scanner import BaseBleakScanner

from app.controller.call_launcher import CallMedia, media_for_site
from app.maintenance.accounts import Professional
from app.maintenance.diagnostics import (
    BundleFacts,
    BundleUploader,
    UploadReceipt,
    bundle_bytes,
    read_journal,
    write_bundle,
)
from app.maintenance.errors import (
    HealthDataRefused,
    MaintenanceErrorReason,
    MaintenanceRefused,
)
from app.maintenance.network import NetworkReport, check_network
from app.maintenance.pairing import (
    BLE_KINDS,
    Bonding,
    BondRefused,
    ScanResult,
    bond,
    set_ble_address,
    system_passkey_agent,
)
from app.maintenance.pairing import scan as ble_scan
from app.maintenance.ports import BY_ID, PortLister, SerialReport, detect_serial_ports
from app.maintenance.readers import CardReaderReport, card_reader_status
from app.maintenance.roles import Permission
from app.maintenance.service import AccountService, utc_now
from app.maintenance.turn import check_site_turn
from app.printing.check import CUPSD_CONF, PrinterCheck, check_printer
from app.printing.cups import CupsPrinter
from app.printing.errors import PrintError
from app.printing.page import technical_test_page
from app.store.audit import ChainVerdict
from app.store.records import QuarantineItem, StoreHealth
from drivers.base import CheckResult, Driver
from drivers.ble.bluez_agent import PasskeyAgent
from drivers.events import Connected, Connecting, Failed, Measuring, Reading
from drivers.registry import DeviceUnavailable, device_transport
from kiosk_config import ConfigError
from kiosk_config.errors import ConfigProblem
from kiosk_config.loader import load_config
from kiosk_config.schema import Device, KioskConfig
from vocabulary.devices import DeviceKind

if TYPE_CHECKING:  # the call's media stack loads at the first media test (docs/runtime.md)
    from app.call.video import Image
    from app.maintenance.media import MediaTest

JOURNAL_COMMAND = (
    "journalctl",
    "--identifier=telecabine-kiosk",
    "--since=-48h",
    "--output=short-iso",
    "--no-pager",
)
"""The kiosk's technical log on a cabin (journald); its text goes in the diagnostic export."""

RESTART_EXIT_CODE = 75
"""What `kiosk run` exits with when a technician asks for a restart (EX_TEMPFAIL).

The unit (packaging/systemd/telecabine-kiosk.service) has `Restart=always`, so
systemd starts the kiosk again after `RestartSec`; the distinct code tells the
journal (`status=75`) that the stop was asked for, not a crash. Restarts count
towards the unit's start limit (10 in 5 minutes) like any other.
"""

IDLE_LIMIT = timedelta(minutes=2)
"""Without a touch for this long, the maintenance session ends (issue 15)."""

SECRET_KEYS = frozenset({"credential", "username", "password", "secret", "token", "key"})
"""Configuration keys whose values never reach a screen or an export (and `*_key_file`)."""

REMOVED = "(removed)"

VERSIONED_PACKAGES = (
    "telecabine-kiosk",
    "PySide6-Essentials",
    "qasync",
    "bleak",
    "pyserial",
    "pyscard",
    "sqlcipher3",
    "aiortc",
    "aiohttp",
    "pydantic",
    "argon2-cffi",
)

_MEASURING = frozenset({DeviceKind.THERMOMETER, DeviceKind.OXIMETER, DeviceKind.TENSIOMETER})


class MaintenanceStore(Protocol):
    """The only store calls maintenance makes: counts, codes, integrity. No session content."""

    async def health(self, now: datetime | None = None) -> StoreHealth: ...

    async def list_quarantine(self) -> list[QuarantineItem]: ...

    async def verify_audit_chain(self) -> ChainVerdict: ...

    async def requeue(self, item_id: int, *, actor: str) -> None: ...


DriverFactory = Callable[[Device], Driver]
"""Builds a fresh driver for one configured device (`drivers.registry.build_driver`)."""

StoreVerifier = Callable[[], Sequence[str]]
"""A full read-only integrity check (`app.store.inspection.verify`) as lines; blocking."""


# -- what the screens get back: values, codes, no patient --------------------------------


@dataclass
class MaintenanceSession:
    """One technician's stay in maintenance mode; ends on leaving or after `IDLE_LIMIT`."""

    professional: Professional
    started_at: datetime
    last_touch: datetime
    ended: str | None = None  # "left", "idle": why it ended

    def idle_for(self, now: datetime) -> timedelta:
        return now - self.last_touch


@dataclass(frozen=True, slots=True)
class DeviceEntry:
    device_id: str
    kind: DeviceKind
    backend: str
    address: str | None  # BLE address or serial port: where the kiosk finds it


@dataclass(frozen=True, slots=True)
class ShownValue:
    """One decoded value of a device test: shown to the technician, then discarded."""

    quantity: str  # a code: "body-temperature", "spo2" …
    value: Decimal = field(repr=False)
    unit: str  # UCUM


@dataclass(frozen=True, slots=True)
class DeviceTest:
    """The end-to-end test of one device: steps reached, the value read, battery if told."""

    device_id: str
    kind: DeviceKind
    ok: bool
    steps: tuple[str, ...]  # codes: "connecting", "connected", "measuring", "reading", "checked"
    values: tuple[ShownValue, ...] = field(default=(), repr=False)
    battery: str | None = None  # "low" / "ok" when the device tells; None when it does not
    failure: str | None = None  # a code: drivers.events.FailureReason or "timeout"/"unavailable"


@dataclass(frozen=True)
class PrinterTest:
    """The test page's outcome: printed, or the printer's problem as a code."""

    printed: bool
    queue: str
    problem: str | None = None  # a PrintProblem value


@dataclass(frozen=True, slots=True)
class QuarantineRow:
    item_id: int
    age_s: int
    reason_code: str
    attempts: int


@dataclass(frozen=True, slots=True)
class OutboxSummary:
    unsent: int
    oldest_unsent_age_s: int | None
    quarantined: int
    buffer_bytes: int
    over_size: bool
    too_old: bool
    incidents: tuple[str, ...]  # open incident codes
    quarantine: tuple[QuarantineRow, ...]


@dataclass(frozen=True, slots=True)
class StoreCheck:
    ok: bool
    lines: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ClockStatus:
    utc: datetime
    synchronized: bool | None  # None: no time service tells us here
    source: str


@dataclass(frozen=True, slots=True)
class ConfigReload:
    """A validated reload: the dotted keys whose value changed (no value: secrets stay unsaid)."""

    changed: tuple[str, ...]


# -- pure helpers ------------------------------------------------------------------------

_HTTP = re.compile(r"\b(?:HTTP |with )(\d{3})\b")


def reason_code(sentence: str) -> str:
    """A code for a quarantine reason sentence; no text of the sentence is kept."""
    if "converted to FHIR" in sentence:
        return "fhir-conversion"
    if "already refused these very bytes" in sentence:
        return "refused-before"
    if "refused entry" in sentence:
        match = _HTTP.search(sentence)
        return f"entry-refused-{match.group(1)}" if match else "entry-refused"
    match = _HTTP.search(sentence)
    if match:
        return f"refused-http-{match.group(1)}"
    return "other"


def _is_secret(key: str) -> bool:
    return key in SECRET_KEYS or key.endswith(("_key_file", "_password", "_secret", "_token"))


def redacted_config(config: KioskConfig) -> tuple[tuple[str, str], ...]:
    """The configuration as (dotted key, value) lines, secrets replaced by `REMOVED`."""
    lines: list[tuple[str, str]] = []

    def walk(prefix: str, value: object) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                dotted = f"{prefix}.{key}" if prefix else str(key)
                if _is_secret(str(key)) and inner is not None:
                    lines.append((dotted, REMOVED))
                else:
                    walk(dotted, inner)
        elif isinstance(value, list):
            for index, inner in enumerate(value):
                walk(f"{prefix}[{index}]", inner)
        else:
            lines.append((prefix, "" if value is None else str(value)))

    walk("", config.model_dump(mode="json"))
    return tuple(lines)


_NOT_AUDITABLE = re.compile(r"[^A-Za-z0-9._-]")


def _audit_keys(problems: Sequence[ConfigProblem]) -> str:
    """The problems' dotted keys as the audit's tokens allow (`devices[1].x` -> `devices.1.x`)."""
    keys = (_NOT_AUDITABLE.sub(".", p.key).replace("..", ".").strip(".")[:40] for p in problems[:5])
    return ",".join(k or "-" for k in keys)


def _flat_values(config: KioskConfig) -> dict[str, str]:
    """Every dotted key with its value, secrets included: compared here, never shown."""
    flat: dict[str, str] = {}

    def walk(prefix: str, value: object) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), inner)
        elif isinstance(value, list):
            for index, inner in enumerate(value):
                walk(f"{prefix}[{index}]", inner)
        else:
            flat[prefix] = "" if value is None else str(value)

    walk("", config.model_dump(mode="json"))
    return flat


def changed_keys(old: KioskConfig, new: KioskConfig) -> tuple[str, ...]:
    """The dotted keys whose value differs (a secret's key too; no value is returned)."""
    a, b = _flat_values(old), _flat_values(new)
    return tuple(sorted(k for k in a.keys() | b.keys() if a.get(k) != b.get(k)))


def versions() -> tuple[tuple[str, str], ...]:
    found = [("python", platform.python_version())]
    for name in VERSIONED_PACKAGES:
        try:
            found.append((name, package_version(name)))
        except PackageNotFoundError:
            found.append((name, "not installed"))
    return tuple(found)


def clock_status(now: datetime, run_dir: Path = Path("/run/systemd/timesync")) -> ClockStatus:
    """systemd-timesyncd leaves `synchronized` in its run folder once the clock is set."""
    if (run_dir / "synchronized").exists():
        return ClockStatus(now, True, "systemd-timesyncd")
    if run_dir.exists():
        return ClockStatus(now, False, "systemd-timesyncd")
    return ClockStatus(now, None, "none")


def reports_battery(device: Device) -> bool:
    """Whether every reading of this device says its battery state (a low-battery flag or not).

    The serial monitor's status byte 2 carries a low-battery bit in every record
    (drivers/serial/accutorr.py); the BLE profiles the kiosk reads carry none.
    """
    return (
        device.kind.value == DeviceKind.TENSIOMETER.value and device_transport(device) == "serial"
    )


def device_entries(config: KioskConfig) -> tuple[DeviceEntry, ...]:
    return tuple(
        DeviceEntry(d.id, DeviceKind(d.kind.value), d.backend, d.ble_address or d.serial_port)
        for d in config.devices
    )


async def run_device_test(driver: Driver, timeout_s: float) -> DeviceTest:
    """Connect and read once (measuring devices), or the driver's own check (card, camera).

    The card reader and the camera are only checked: no card data, no image.
    """
    kind = DeviceKind(driver.kind.value)
    if kind not in _MEASURING:
        try:
            result = await asyncio.wait_for(driver.check(), timeout_s)
        except TimeoutError:
            return DeviceTest(driver.device_id, kind, False, (), failure="timeout")
        failure = None if result.ok else "check-failed"
        checked: tuple[str, ...] = ("checked",) if result.ok else ()
        return DeviceTest(driver.device_id, kind, result.ok, checked, failure=failure)
    steps: list[str] = []
    await driver.start()
    try:
        async with asyncio.timeout(timeout_s):
            async for event in driver.events():
                if isinstance(event, Connecting) and "connecting" not in steps:
                    steps.append("connecting")
                elif isinstance(event, Connected):
                    steps.append("connected")
                elif isinstance(event, Measuring):
                    steps.append("measuring")
                elif isinstance(event, Reading):
                    steps.append("reading")
                    values = tuple(ShownValue(v.quantity, v.value, v.unit) for v in event.values)
                    battery = "low" if "low-battery" in event.flags else None
                    return DeviceTest(
                        driver.device_id, kind, True, tuple(steps), values, battery=battery
                    )
                elif isinstance(event, Failed):
                    return DeviceTest(
                        driver.device_id, kind, False, tuple(steps), failure=str(event.reason)
                    )
    except TimeoutError:
        return DeviceTest(driver.device_id, kind, False, tuple(steps), failure="timeout")
    finally:
        with contextlib.suppress(Exception):
            await driver.stop()
    return DeviceTest(driver.device_id, kind, False, tuple(steps), failure="no-reading")


# -- the service -------------------------------------------------------------------------


class MaintenanceService:
    """What the technician's screens and `kiosk maintenance` call; every act is audited."""

    def __init__(
        self,
        accounts: AccountService,
        store: MaintenanceStore,
        config: KioskConfig,
        *,
        driver_factory: DriverFactory,
        store_verifier: StoreVerifier | None = None,
        clock: Callable[[], datetime] = utc_now,
        device_timeout_s: float | None = None,
        time_run_dir: Path = Path("/run/systemd/timesync"),
        config_path: Path | None = None,
        ble_scanner_backend: type[BaseBleakScanner] | None = None,
        ble_client_backend: type[BaseBleakClient] | None = None,
        scan_timeout_s: float = 5.0,
        bond_timeout_s: float = 30.0,
        export_dir: Path | None = None,
        export_roots: Sequence[Path] = (),
        log_dir: Path | None = None,
        journal_command: Sequence[str] | None = None,
        port_lister: PortLister | None = None,
        serial_by_id: Path = BY_ID,
        card_status: Callable[[KioskConfig], CardReaderReport] = card_reader_status,
        media: CallMedia | None = None,
        restarter: Callable[[], None] | None = None,
        on_reload: Callable[[KioskConfig], None] | None = None,
        uploader: BundleUploader | None = None,
        cupsd_conf: Path = CUPSD_CONF,
    ) -> None:
        self._accounts = accounts
        self._store = store
        self.config = config
        self._drivers = driver_factory
        self._verifier = store_verifier
        self._clock = clock
        self._device_timeout_s = device_timeout_s
        self._time_run_dir = time_run_dir
        self.config_path = config_path  # the site file a validated edit replaces
        self._scanner = ble_scanner_backend
        self._ble_client = ble_client_backend  # None: bleak's own (BlueZ)
        self._scan_timeout_s = scan_timeout_s
        self._bond_timeout_s = bond_timeout_s
        self._agent: PasskeyAgent | None = None  # BlueZ's, registered on the first passkey bond
        self.export_dir = export_dir  # where a USB stick is mounted (a diagnostic export)
        self.export_roots = tuple(export_roots)  # folders whose mounted children are offered too
        self.log_dir = log_dir  # the kiosk's technical logs (a diagnostic export)
        self._journal = journal_command
        self._port_lister = port_lister  # None: pyserial's comports()
        self._serial_by_id = serial_by_id
        self._card_status = card_status  # PC/SC's readers (`readers.card_reader_status`)
        self._media = media  # None: the site's own (`media_for_site`), as the waiting room
        self._restarter = restarter  # ends the kiosk with RESTART_EXIT_CODE (composition root)
        self._on_reload = on_reload  # hands a reloaded configuration to the running kiosk
        self.uploader = uploader  # the platform's diagnostics endpoint (None: the stick only)
        self._cupsd_conf = cupsd_conf  # the CUPS server's configuration (job retention)

    def now(self) -> datetime:
        """The service's clock (the screens time the sign-in page with it)."""
        return self._clock()

    # -- entering and leaving ----------------------------------------------------------

    async def enter(self, username: str, password: str, code: str) -> MaintenanceSession:
        """Both factors, then the technician's permission (`AuthError`/`PermissionDenied`)."""
        professional = await self._accounts.authenticate(
            username, password, code, permission=Permission.MAINTAIN_DEVICES
        )
        now = self._clock()
        await self._accounts.record_act(professional, "maintenance.enter", "ok")
        return MaintenanceSession(professional, now, now)

    def touch(self, session: MaintenanceSession) -> None:
        """A touch on a maintenance screen: the idle clock starts again."""
        if session.ended is None:
            session.last_touch = self._clock()

    def expired(self, session: MaintenanceSession) -> bool:
        return session.ended is not None or session.idle_for(self._clock()) >= IDLE_LIMIT

    async def leave(self, session: MaintenanceSession, *, idle: bool = False) -> None:
        if session.ended is not None:
            return
        session.ended = "idle" if idle else "left"
        await self._accounts.record_act(
            session.professional, "maintenance.leave", "ok", detail=f"why={session.ended}"
        )

    async def _begin(
        self, session: MaintenanceSession, permission: Permission, action: str
    ) -> Professional:
        if session.ended is None and session.idle_for(self._clock()) >= IDLE_LIMIT:
            await self.leave(session, idle=True)
        if session.ended is not None:
            await self._accounts.record_act(
                session.professional, action, "refused", detail="session-ended"
            )
            raise MaintenanceRefused(
                MaintenanceErrorReason.SESSION_ENDED,
                "The maintenance session has ended; sign in again from the welcome screen.",
            )
        await self._accounts.authorise(session.professional, permission)
        session.last_touch = self._clock()
        return session.professional

    async def _done(
        self,
        who: Professional,
        action: str,
        outcome: str = "ok",
        subject: str = "-",
        detail: str = "",
    ) -> None:
        await self._accounts.record_act(who, action, outcome, subject, detail)

    # -- what the technician may see ---------------------------------------------------

    async def devices(self, session: MaintenanceSession) -> tuple[DeviceEntry, ...]:
        who = await self._begin(session, Permission.MAINTAIN_DEVICES, "maintenance.devices")
        entries = device_entries(self.config)
        await self._done(who, "maintenance.devices", detail=f"count={len(entries)}")
        return entries

    async def test_device(self, session: MaintenanceSession, device_id: str) -> DeviceTest:
        """Connect, read once, hand the decoded value back for the screen only (never stored)."""
        who = await self._begin(session, Permission.MAINTAIN_DEVICES, "maintenance.device-test")
        device = next((d for d in self.config.devices if d.id == device_id), None)
        if device is None:
            await self._done(who, "maintenance.device-test", "refused", device_id, "unknown-device")
            raise MaintenanceRefused(
                MaintenanceErrorReason.UNKNOWN_DEVICE,
                f"No device is configured with the id '{device_id}'.",
            )
        timeouts = self.config.timeouts
        limit = self._device_timeout_s
        if limit is None:
            limit = float(timeouts.device_connect_s + timeouts.device_measure_s) + 5.0
        try:
            driver = self._drivers(device)
        except DeviceUnavailable as exc:
            result = DeviceTest(
                device.id,
                DeviceKind(device.kind.value),
                False,
                (),
                failure=f"unavailable-{exc.reason}",
            )
        else:
            result = await run_device_test(driver, limit)
        if result.ok and result.battery is None and reports_battery(device):
            result = replace(result, battery="ok")
        outcome = "ok" if result.ok else "failed"
        detail = f"steps={','.join(result.steps) or '-'}"
        if result.failure is not None:
            detail += f" failure={result.failure}"
        await self._done(who, "maintenance.device-test", outcome, device.id, detail)
        return result

    async def _outbox_summary(self, now: datetime) -> OutboxSummary:
        health = await self._store.health(now)
        rows = tuple(
            QuarantineRow(
                q.item_id,
                max(0, int((now - q.quarantined_at).total_seconds())),
                reason_code(q.reason),
                q.attempts,
            )
            for q in await self._store.list_quarantine()
        )
        age = health.oldest_unsent_age
        return OutboxSummary(
            unsent=health.unsent_sessions,
            oldest_unsent_age_s=None if age is None else max(0, int(age.total_seconds())),
            quarantined=health.quarantined,
            buffer_bytes=health.buffer_bytes,
            over_size=health.over_size,
            too_old=health.too_old,
            incidents=tuple(str(i.code) for i in health.open_incidents),
            quarantine=rows,
        )

    async def outbox(self, session: MaintenanceSession) -> OutboxSummary:
        who = await self._begin(session, Permission.INSPECT_STORE, "maintenance.outbox")
        summary = await self._outbox_summary(self._clock())
        await self._done(who, "maintenance.outbox", detail=f"unsent={summary.unsent}")
        return summary

    async def resend(self, session: MaintenanceSession, item_id: int) -> None:
        """A quarantined session goes back to the queue (once the cause is corrected)."""
        who = await self._begin(session, Permission.REQUEUE_OUTBOX, "maintenance.resend")
        subject = f"item={item_id}"
        if item_id not in {q.item_id for q in await self._store.list_quarantine()}:
            await self._done(who, "maintenance.resend", "refused", subject, "not-quarantined")
            raise MaintenanceRefused(
                MaintenanceErrorReason.NOT_QUARANTINED,
                f"Item {item_id} is not in quarantine; nothing was sent again.",
            )
        await self._store.requeue(item_id, actor=who.username)
        await self._done(who, "maintenance.resend", "ok", subject)

    async def verify_store(self, session: MaintenanceSession) -> StoreCheck:
        who = await self._begin(session, Permission.INSPECT_STORE, "maintenance.store-verify")
        if self._verifier is not None:
            lines = tuple(await asyncio.to_thread(self._verifier))
            ok = not any(line.startswith("BROKEN") for line in lines)
        else:
            verdict = await self._store.verify_audit_chain()
            lines, ok = (verdict.sentence(),), verdict.ok
        await self._done(who, "maintenance.store-verify", "ok" if ok else "broken")
        return StoreCheck(ok, lines)

    async def _network_report(self) -> NetworkReport:
        """The platform's steps, then each configured TURN server's (`turn.check_site_turn`:
        the site's credential, or one the platform mints for this test only)."""
        report = await check_network(self.config)
        turn = await check_site_turn(self.config)
        return replace(report, steps=report.steps + turn)

    async def network(self, session: MaintenanceSession) -> NetworkReport:
        """DNS, TCP, TLS (with the certificate's end date), the platform's health, then TURN:
        an allocation, the round trip and a throughput through the relay."""
        who = await self._begin(session, Permission.CHECK_NETWORK, "maintenance.network")
        report = await self._network_report()
        failed = next((s for s in report.steps if not s.ok), None)
        detail = "all-ok" if failed is None else f"failed={failed.name}"
        await self._done(who, "maintenance.network", "ok" if report.ok else "failed", detail=detail)
        return report

    async def configuration(self, session: MaintenanceSession) -> tuple[tuple[str, str], ...]:
        who = await self._begin(session, Permission.VIEW_CONFIGURATION, "maintenance.config-view")
        lines = redacted_config(self.config)
        await self._done(who, "maintenance.config-view")
        return lines

    async def versions(self, session: MaintenanceSession) -> tuple[tuple[str, str], ...]:
        who = await self._begin(session, Permission.MAINTAIN_DEVICES, "maintenance.versions")
        found = await asyncio.to_thread(versions)
        await self._done(who, "maintenance.versions")
        return found

    async def clock(self, session: MaintenanceSession) -> ClockStatus:
        who = await self._begin(session, Permission.MAINTAIN_DEVICES, "maintenance.clock")
        status = clock_status(self._clock().astimezone(UTC), self._time_run_dir)
        await self._done(who, "maintenance.clock", detail=f"synchronized={status.synchronized}")
        return status

    async def serial_ports(self, session: MaintenanceSession) -> SerialReport:
        """The cabin's serial ports (pyserial, by-id names) and whether each configured one is there."""
        who = await self._begin(session, Permission.MAINTAIN_DEVICES, "maintenance.serial-ports")
        config, by_id = self.config, self._serial_by_id
        if self._port_lister is None:
            report = await asyncio.to_thread(detect_serial_ports, config, by_id=by_id)
        else:
            report = await asyncio.to_thread(detect_serial_ports, config, self._port_lister, by_id)
        detail = f"ports={len(report.ports)} configured={len(report.configured)}"
        await self._done(
            who,
            "maintenance.serial-ports",
            "ok" if report.missing == 0 else "missing",
            detail=f"{detail} missing={report.missing}",
        )
        return report

    async def card_readers(self, session: MaintenanceSession) -> CardReaderReport:
        """The readers pcscd lists, a card in or not (never read), and the configured one's."""
        who = await self._begin(session, Permission.MAINTAIN_DEVICES, "maintenance.card-readers")
        report = await asyncio.to_thread(self._card_status, self.config)
        ok = report.service == "running" and report.missing == 0
        await self._done(
            who,
            "maintenance.card-readers",
            "ok" if ok else "missing",
            detail=f"service={report.service} readers={len(report.readers)} "
            f"missing={report.missing}",
        )
        return report

    # -- the printer: its queue, its retention, a page with no patient on it ----------------

    def _cups(self) -> CupsPrinter | None:
        section = self.config.printer
        if section is None:
            return None
        return CupsPrinter(section.queue, server=section.server, timeout_s=section.timeout_s)

    async def printer(self, session: MaintenanceSession) -> PrinterCheck | None:
        """The queue's state and the server's job retention (`check_printer`); None: no printer."""
        who = await self._begin(session, Permission.MAINTAIN_DEVICES, "maintenance.printer")
        cups = self._cups()
        if cups is None:
            await self._done(who, "maintenance.printer", "ok", detail="no-printer")
            return None
        check = await check_printer(cups, self._cupsd_conf)
        problem = check.queue_problem.value if check.queue_problem is not None else "-"
        await self._done(
            who,
            "maintenance.printer",
            "ok" if check.ok else "failed",
            cups.queue,
            f"ready={check.ready} retention_off={check.retention_off} problem={problem}",
        )
        return check

    async def print_test_page(self, session: MaintenanceSession) -> PrinterTest:
        """A fixed technical page (cabin id, date, queue): it takes no document, no identity."""
        who = await self._begin(session, Permission.MAINTAIN_DEVICES, "maintenance.printer-test")
        cups = self._cups()
        if cups is None:
            await self._done(who, "maintenance.printer-test", "refused", detail="no-printer")
            raise MaintenanceRefused(
                MaintenanceErrorReason.NO_PRINTER, "This cabin has no printer configured."
            )
        pdf = technical_test_page(self.config.site.cabin_id, cups.queue, self._clock())
        try:
            job = await cups.print_pdf(pdf, title="telecabine-test")
        except PrintError as exc:
            result = PrinterTest(False, cups.queue, exc.problem.value)
            detail = f"problem={exc.problem.value}"
        else:
            result = PrinterTest(True, cups.queue)
            detail = f"job={job}"
        outcome = "ok" if result.printed else "failed"
        await self._done(who, "maintenance.printer-test", outcome, cups.queue, detail)
        return result

    # -- camera, microphone, speaker: nothing recorded -----------------------------------

    def _media_now(self) -> CallMedia:
        return self._media if self._media is not None else media_for_site(self.config)

    async def _media_done(self, who: Professional, action: str, result: MediaTest) -> MediaTest:
        await self._done(who, action, "ok" if result.ok else "failed", detail=result.detail())
        return result

    async def camera_preview(
        self,
        session: MaintenanceSession,
        on_frame: Callable[[Image], None],
        *,
        seconds: float = 15.0,
        stop: asyncio.Event | None = None,
    ) -> MediaTest:
        """The camera's pictures to `on_frame` (painted, never kept) for `seconds` or until `stop`."""
        who = await self._begin(session, Permission.MAINTAIN_DEVICES, "maintenance.camera")
        from app.maintenance.media import preview_camera

        result = await preview_camera(
            self._media_now().camera(), on_frame, seconds=seconds, stop=stop
        )
        session.last_touch = self._clock()  # watching the preview is using the page
        return await self._media_done(who, "maintenance.camera", result)

    async def microphone_test(
        self,
        session: MaintenanceSession,
        on_level: Callable[[float], None],
        *,
        seconds: float = 10.0,
        stop: asyncio.Event | None = None,
    ) -> MediaTest:
        """The microphone's level (0..1) to `on_level` for `seconds` or until `stop`; no sound kept."""
        who = await self._begin(session, Permission.MAINTAIN_DEVICES, "maintenance.microphone")
        from app.maintenance.media import listen_microphone

        result = await listen_microphone(
            self._media_now().microphone(), on_level, seconds=seconds, stop=stop
        )
        session.last_touch = self._clock()
        return await self._media_done(who, "maintenance.microphone", result)

    async def speaker_test(self, session: MaintenanceSession, *, seconds: float = 1.0) -> MediaTest:
        """A short 1 kHz tone on the speaker."""
        who = await self._begin(session, Permission.MAINTAIN_DEVICES, "maintenance.speaker")
        from app.maintenance.media import play_tone

        result = await play_tone(self._media_now().speaker(), seconds=seconds)
        return await self._media_done(who, "maintenance.speaker", result)

    # -- configuration reload, restart -------------------------------------------------

    async def reload_config(self, session: MaintenanceSession) -> ConfigReload:
        """The site file read again and validated by the kiosk's own loader; refused: kept as is.

        The service (device tests, pairing, export) uses the new configuration at
        once and hands it to `on_reload`; what the rest of the kiosk built at start
        (the store, the platform's client, the screens) takes it at the next start.
        """
        who = await self._begin(session, Permission.EDIT_CONFIGURATION, "maintenance.config-reload")
        if self.config_path is None:
            await self._done(who, "maintenance.config-reload", "refused", detail="no-site-file")
            raise MaintenanceRefused(
                MaintenanceErrorReason.CONFIG_RELOAD_REFUSED,
                "This kiosk was not given its site file; there is nothing to reload.",
            )
        try:
            fresh = await asyncio.to_thread(load_config, self.config_path)
        except ConfigError as exc:
            keys = ", ".join(p.key or "-" for p in exc.problems[:5])
            await self._done(
                who,
                "maintenance.config-reload",
                "refused",
                detail=f"problems={len(exc.problems)} keys={_audit_keys(exc.problems)}"[:200],
            )
            raise MaintenanceRefused(
                MaintenanceErrorReason.CONFIG_RELOAD_REFUSED,
                f"The site file does not validate ({len(exc.problems)} problem(s) at: {keys}); "
                "the kiosk keeps the configuration it has.",
            ) from None
        changed = changed_keys(self.config, fresh)
        self.config = fresh
        if self._on_reload is not None:
            self._on_reload(fresh)
        await self._done(who, "maintenance.config-reload", "ok", detail=f"changed={len(changed)}")
        return ConfigReload(changed)

    async def restart(self, session: MaintenanceSession) -> None:
        """The kiosk ends with RESTART_EXIT_CODE and systemd starts it again (audited first)."""
        who = await self._begin(session, Permission.MAINTAIN_DEVICES, "maintenance.restart")
        if self._restarter is None:
            await self._done(who, "maintenance.restart", "refused", detail="no-restarter")
            raise MaintenanceRefused(
                MaintenanceErrorReason.RESTART_UNAVAILABLE,
                "Nothing here can restart the kiosk; use 'systemctl restart telecabine-kiosk'.",
            )
        # Audited before: once asked, the kiosk may be gone before anything else is written.
        await self._done(who, "maintenance.restart", "ok", detail=f"exit={RESTART_EXIT_CODE}")
        await self.leave(session)
        try:
            self._restarter()
        except Exception as exc:
            await self._done(who, "maintenance.restart", "failed", detail=type(exc).__name__)
            raise

    # -- BLE scan and pairing ----------------------------------------------------------

    def ble_targets(self, kind: DeviceKind | None = None) -> tuple[str, ...]:
        """The configured Bluetooth devices (of `kind`) a scanned address can be given to."""
        return tuple(
            d.id
            for d in self.config.devices
            if DeviceKind(d.kind.value) in BLE_KINDS and (kind is None or d.kind.value == kind)
        )

    async def scan(self, session: MaintenanceSession) -> ScanResult:
        who = await self._begin(session, Permission.MAINTAIN_DEVICES, "maintenance.ble-scan")
        result = await ble_scan(self._scanner, self._scan_timeout_s)
        await self._done(
            who,
            "maintenance.ble-scan",
            detail=f"health-devices={len(result.devices)} others={result.others}",
        )
        return result

    def ble_bonding(self, device_id: str) -> Bonding:
        """What `device_id` asks before it bonds (the site file's `bonding`; "none" if unknown)."""
        device = next((d for d in self.config.devices if d.id == device_id), None)
        return device.bonding if device is not None else "none"

    async def pair(
        self,
        session: MaintenanceSession,
        device_id: str,
        address: str,
        passkey: str | None = None,
    ) -> None:
        """The scanned `address` becomes `device_id`'s, in the site file (validated, atomic).

        A device whose `bonding` is not "none" is bonded first (`pairing.bond`, bleak's
        `pair()`), with the `passkey` the technician typed; a device that does not bond
        raises `BondRefused` and nothing is written. Audited: "maintenance.bond" started,
        then ok or refused with the reason (never the passkey).
        """
        who = await self._begin(session, Permission.EDIT_CONFIGURATION, "maintenance.pair")
        if self.config_path is None:
            await self._done(who, "maintenance.pair", "refused", device_id, "no-site-file")
            raise MaintenanceRefused(
                MaintenanceErrorReason.CONFIG_EDIT_REFUSED,
                "This kiosk was not given its site file; nothing can be paired here.",
            )
        before = next((d.ble_address for d in self.config.devices if d.id == device_id), None)
        bonding = self.ble_bonding(device_id)
        if bonding != "none":
            await self._done(who, "maintenance.bond", "started", device_id, f"bonding={bonding}")
            try:
                if bonding == "passkey" and self._ble_client is None and self._agent is None:
                    self._agent = await system_passkey_agent()  # BlueZ: the code needs an agent
                await bond(
                    address,
                    bonding,
                    passkey,
                    backend=self._ble_client,
                    timeout_s=self._bond_timeout_s,
                    agent=self._agent,
                )
            except BondRefused as exc:
                await self._done(
                    who, "maintenance.bond", "refused", device_id, f"reason={exc.failure}"
                )
                raise
            await self._done(who, "maintenance.bond", "ok", device_id, f"bonding={bonding}")
        try:
            self.config = await asyncio.to_thread(
                set_ble_address, self.config_path, device_id, address
            )
        except MaintenanceRefused as exc:
            await self._done(who, "maintenance.pair", "refused", device_id, str(exc.reason))
            raise
        await self._done(
            who, "maintenance.pair", "ok", device_id, f"address={address} before={before or '-'}"
        )

    # -- diagnostic export -------------------------------------------------------------

    async def _check(self, device: Device) -> CheckResult:
        kind = DeviceKind(device.kind.value)
        try:
            driver = self._drivers(device)
        except DeviceUnavailable as exc:
            return CheckResult(device.id, kind, False, f"unavailable ({exc.reason})")
        try:
            return await asyncio.wait_for(driver.check(), self._device_timeout_s or 15.0)
        except TimeoutError:
            return CheckResult(device.id, kind, False, "the check did not finish in time")
        except Exception as exc:  # noqa: BLE001 - one device's fault must not stop the export
            return CheckResult(device.id, kind, False, f"the check failed ({type(exc).__name__})")

    async def _hardware(self) -> dict[str, object]:
        """Serial ports and card readers for the bundle (no card read); a failure as its type."""
        found: dict[str, object] = {}
        try:
            if self._port_lister is None:
                ports = await asyncio.to_thread(
                    detect_serial_ports, self.config, by_id=self._serial_by_id
                )
            else:
                ports = await asyncio.to_thread(
                    detect_serial_ports, self.config, self._port_lister, self._serial_by_id
                )
            found["serial_ports"] = asdict(ports)
        except Exception as exc:  # noqa: BLE001 - one part's fault must not stop the export
            found["serial_ports"] = {"error": type(exc).__name__}
        try:
            found["card_readers"] = asdict(await asyncio.to_thread(self._card_status, self.config))
        except Exception as exc:  # noqa: BLE001
            found["card_readers"] = {"error": type(exc).__name__}
        return found

    def export_folders(self) -> tuple[Path, ...]:
        """Where a bundle may go now: `export_dir` if present, and each mounted stick."""
        found: list[Path] = []
        if self.export_dir is not None and self.export_dir.is_dir():
            found.append(self.export_dir)
        for root in self.export_roots:
            with contextlib.suppress(OSError):
                for child in sorted(root.iterdir()):
                    if child.is_dir() and os.path.ismount(child) and child not in found:
                        found.append(child)
        return tuple(found)

    async def _bundle_facts(self, who: Professional) -> BundleFacts:
        """The health-free values of a bundle, the same the pages show (never the store's)."""
        now = self._clock().astimezone(UTC)
        outbox = await self._outbox_summary(now)
        checks = tuple([await self._check(d) for d in self.config.devices])
        network = await self._network_report()
        clock = clock_status(now, self._time_run_dir)
        return BundleFacts(
            cabin_id=self.config.site.cabin_id,
            made_at=now,
            made_by=who.username,
            configuration=redacted_config(self.config),
            versions=await asyncio.to_thread(versions),
            devices=tuple(
                {"id": e.device_id, "kind": str(e.kind), "backend": e.backend, "address": e.address}
                for e in device_entries(self.config)
            ),
            checks=checks,
            outbox={
                **{k: v for k, v in asdict(outbox).items() if k != "quarantine"},
                "quarantine": [asdict(q) for q in outbox.quarantine],
            },
            network=asdict(network),
            hardware=await self._hardware(),
            clock={
                "utc": clock.utc.isoformat(),
                "synchronized": clock.synchronized,
                "source": clock.source,
            },
        )

    async def upload(self, session: MaintenanceSession) -> UploadReceipt:
        """The same bundle as `export`, sent to the platform with the cabin's token.

        Audited `maintenance.upload` with the platform's id for it and the bytes'
        SHA-256 (so the support desk and the cabin name the same bundle), or the
        refusal's code. No platform configured for it: refused, nothing built.
        """
        who = await self._begin(session, Permission.EXPORT_LOGS, "maintenance.upload")
        if self.uploader is None:
            await self._done(who, "maintenance.upload", "refused", detail="no-platform")
            raise MaintenanceRefused(
                MaintenanceErrorReason.UPLOAD_FAILED,
                "This cabin sends no bundle to the platform: export it to a USB stick.",
            )
        facts = await self._bundle_facts(who)
        journal = await asyncio.to_thread(read_journal, self._journal)
        data = await asyncio.to_thread(bundle_bytes, facts, self.log_dir, journal)
        try:
            receipt = await self.uploader.upload(data)
        except MaintenanceRefused as exc:
            await self._done(who, "maintenance.upload", "failed", detail=str(exc.reason))
            raise
        await self._done(
            who,
            "maintenance.upload",
            "ok",
            detail=f"id={receipt.bundle_id} sha256={receipt.sha256[:16]} bytes={receipt.size}",
        )
        return receipt

    async def export(self, session: MaintenanceSession, folder: Path | None = None) -> Path:
        """The diagnostic bundle, written to `folder` (one of `export_folders()`); its path.

        Without `folder`, the only folder there is. Any other path is refused:
        the screen offers folders, it does not take a path from outside.
        """
        who = await self._begin(session, Permission.EXPORT_LOGS, "maintenance.export")
        folders = self.export_folders()
        if folder is None and len(folders) == 1:
            folder = folders[0]
        if folder is None or folder not in folders:
            await self._done(who, "maintenance.export", "refused", detail="no-folder")
            raise MaintenanceRefused(
                MaintenanceErrorReason.EXPORT_FAILED,
                "No folder to export to: plug in the USB stick and try again.",
            )
        facts = await self._bundle_facts(who)
        journal = await asyncio.to_thread(read_journal, self._journal)
        try:
            path = await asyncio.to_thread(write_bundle, folder, facts, self.log_dir, journal)
        except OSError as exc:
            await self._done(who, "maintenance.export", "failed", detail=type(exc).__name__)
            raise MaintenanceRefused(
                MaintenanceErrorReason.EXPORT_FAILED,
                f"The bundle could not be written ({exc.strerror or type(exc).__name__}).",
            ) from None
        await self._done(who, "maintenance.export", "ok", detail=f"file={path.name}")
        return path

    # -- what the technician never gets ------------------------------------------------

    async def session_record(self, session: MaintenanceSession, session_id: str) -> None:
        """A session's content (identity, measurements …): refused to maintenance, audited.

        There is no way through this service to a patient's record; this method
        exists so that a screen or command asking for one gets a typed refusal
        and the attempt is in the audit log.
        """
        who = session.professional
        await self._done(who, "maintenance.session-record", "refused", "-", "health-data")
        raise HealthDataRefused(
            who.username, str(who.role), str(Permission.VIEW_SESSION_HEALTH_DATA)
        )


__all__ = [
    "IDLE_LIMIT",
    "REMOVED",
    "RESTART_EXIT_CODE",
    "ClockStatus",
    "ConfigReload",
    "DeviceEntry",
    "DeviceTest",
    "MaintenanceService",
    "MaintenanceSession",
    "MaintenanceStore",
    "OutboxSummary",
    "QuarantineRow",
    "ShownValue",
    "StoreCheck",
    "changed_keys",
    "clock_status",
    "device_entries",
    "reason_code",
    "redacted_config",
    "run_device_test",
    "versions",
]
