"""A cabin for maintenance tests: the real store full of canary patients, real accounts,
the site file on disk, and the simulators behind bleak's injected backend."""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

from app.domain.identity import (
    CollectionMethod,
    IdentityDocument,
    IdentityStatus,
    InsOid,
    InsTraits,
    PatientIdentity,
    Sex,
    parse_nir,
)
from app.domain.measurements import DeviceSource, MeasurementKind, Quantity, make_measurement
from app.domain.trace import IncidentCode, TraceEntry, TraceKind
from app.maintenance import totp
from app.maintenance.hashing import PasswordHashing
from app.maintenance.media import CallMedia
from app.maintenance.ports import BY_ID, PortLister
from app.maintenance.readers import CardReaderReport, card_reader_status
from app.maintenance.roles import Role
from app.maintenance.service import AccountService
from app.maintenance.store_binding import StoreAccountRepository, StoreAuditSink
from app.maintenance.technician import MaintenanceService
from app.printing.check import CUPSD_CONF
from app.store import AsyncStore, StoreIncidentCode
from drivers.registry import build_driver
from drivers.simulators import SimulatorHub
from kiosk_config import KioskConfig
from kiosk_config.loader import load_config
from tests.maintenance.conftest import CHEAP, GOOD_PASSWORD, FakeClock
from vocabulary.nir import nir_key

SITE = """\
languages = ["fr", "en", "ar"]

[site]
cabin_id = "MAINT-CAB-01"
name = "Pharmacie de maintenance"
phone = "01 23 45 67 00"
insee_code = "75056"
mode = "test"

[site.address]
street = "1 place de la Mairie"
postal_code = "75001"
city = "Paris"

[platform]
url = "http://127.0.0.1:9"
client_key_file = "/etc/telecabine/cabin-secret.key"

[[platform.ice_servers]]
urls = ["turn:turn.example.net:3478"]
username = "turn-user-SECRET"
credential = "turn-credential-SECRET"

[storage]
data_dir = "{data_dir}"

[[devices]]
id = "thermo-1"
kind = "thermometer"
backend = "simulated"

[[devices]]
id = "oxi-1"
kind = "oximeter"
backend = "simulated"
"""

SECRETS = ("turn-user-SECRET", "turn-credential-SECRET", "cabin-secret.key")


@dataclass
class Canary:
    name: str
    nir: str
    value: str  # a measured value no device test makes

    def words(self) -> tuple[str, ...]:
        return (self.name, self.nir, self.nir[:13], self.value)


async def fill_with_canaries(store: AsyncStore, clock: FakeClock) -> Canary:
    """Two finished sessions of a canary patient; one quarantined with the name in its reason."""
    canary = "CANARY" + uuid.uuid4().hex[:12]
    nir13 = "2" + "61" + "07" + "75" + "1" + f"{random.randrange(100):02d}" + "123"
    nir = f"{nir13}{nir_key(nir13):02d}"
    identity = PatientIdentity(
        traits=InsTraits(
            birth_name=f"{canary}-birth-name",
            birth_first_names=(f"{canary}-first",),
            birth_date=date(1961, 7, 14),
            sex=Sex.FEMALE,
            birth_place_insee="69123",
            first_name_used=f"{canary}-used-first",
            used_name=f"{canary}-used-name",
        ),
        status=IdentityStatus.QUAL,
        method=CollectionMethod.CV,
        identifier=parse_nir(nir),
        ins_oid=InsOid.TEST,
        verified_by="marie.ph",
        verification_document=IdentityDocument.PASSPORT,
        validation_date=date(2025, 5, 1),
    )
    for sid in ("canary-1", "canary-2"):
        await store.begin_session(sid, "MAINT-CAB-01")
        await store.record_identity(sid, identity)
        await store.record_measurement(
            sid,
            make_measurement(
                f"{sid}-m1",
                MeasurementKind.BODY_TEMPERATURE,
                {Quantity.BODY_TEMPERATURE: Decimal("39.17")},
                DeviceSource("thermo-1"),
                clock(),
            ),
        )
        await store.record_trace(
            sid,
            TraceEntry(
                clock(), TraceKind.INCIDENT, incident=IncidentCode.DEVICE_FAILED, message=canary
            ),
        )
        await store.end_session(sid, "completed")
    item = await store.outbox_for_session("canary-2")
    assert item is not None
    await store.quarantine(
        item.item_id,
        f"The platform refused entry 1 (Patient) of this session with 422: name {canary}.",
    )
    await store.record_incident(
        StoreIncidentCode.SESSION_QUARANTINED, "One session is in quarantine.", actor="sync"
    )
    return Canary(canary, nir, "39.17")


def write_site(folder: Path) -> Path:
    data_dir = folder / "data"
    path = folder / "site.toml"
    path.write_text(SITE.format(data_dir=data_dir), encoding="utf-8")
    return path


def accounts_on(store: AsyncStore, clock: FakeClock) -> AccountService:
    return AccountService(
        StoreAccountRepository(store, actor="cli:test"),
        StoreAuditSink(store),
        hashing=PasswordHashing(CHEAP),
        clock=clock,
    )


async def enrol(accounts: AccountService, username: str, role: Role) -> str:
    """A new account; its TOTP secret."""
    enrolment = await accounts.create_account(
        username,
        username.replace(".", " ").title(),
        role,
        GOOD_PASSWORD,
        rpps=None,
        actor="cli:test",
    )
    return enrolment.totp_secret


def code(secret: str, clock: FakeClock) -> str:
    """A fresh code: the clock moves to the next 30-s step first (one use per code)."""
    clock.advance(30)
    return totp.code_at(secret, clock())


def service_for(
    accounts: AccountService,
    store: AsyncStore,
    config: KioskConfig,
    hub: SimulatorHub,
    clock: FakeClock,
    *,
    config_path: Path | None = None,
    time_run_dir: Path = Path("/nonexistent/timesync"),
    export_dir: Path | None = None,
    log_dir: Path | None = None,
    port_lister: PortLister | None = None,
    serial_by_id: Path = BY_ID,
    card_status: Callable[[KioskConfig], CardReaderReport] = card_reader_status,
    media: CallMedia | None = None,
    restarter: Callable[[], None] | None = None,
    on_reload: Callable[[KioskConfig], None] | None = None,
    cupsd_conf: Path | None = None,
) -> MaintenanceService:
    """Wired as the assembly would (see docs/maintenance.md, "Wiring")."""
    return MaintenanceService(
        accounts,
        store,
        config,
        driver_factory=lambda d: build_driver(
            d, config.timeouts, hub=hub, site_mode=config.site.mode.value
        ),
        clock=clock,
        device_timeout_s=10.0,
        time_run_dir=time_run_dir,
        config_path=config_path,
        ble_scanner_backend=hub.air.scanner_backend(),
        ble_client_backend=hub.air.client_backend(),
        bond_timeout_s=2.0,
        scan_timeout_s=0.3,
        export_dir=export_dir,
        log_dir=log_dir,
        port_lister=port_lister,
        serial_by_id=serial_by_id,
        card_status=card_status,
        media=media,
        restarter=restarter,
        on_reload=on_reload,
        cupsd_conf=cupsd_conf if cupsd_conf is not None else CUPSD_CONF,
    )


def load(path: Path) -> KioskConfig:
    return load_config(path)
