"""The technician's service below the screens: what it reaches, what it refuses, the audit.

Real parts: the SQLCipher store full of canary patients, real accounts (argon2id + TOTP),
the registry's drivers on the simulators behind bleak's injected backend.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.maintenance.errors import (
    HealthDataRefused,
    MaintenanceErrorReason,
    MaintenanceRefused,
    PermissionDenied,
)
from app.maintenance.roles import Role
from app.maintenance.technician import (
    IDLE_LIMIT,
    REMOVED,
    MaintenanceService,
    MaintenanceSession,
    clock_status,
    reason_code,
)
from app.store import AsyncStore, FileKeySource
from drivers.simulators import SimulatorHub
from tests.maintenance.conftest import GOOD_PASSWORD, FakeClock, audit_rows
from tests.maintenance.world import (
    SECRETS,
    Canary,
    accounts_on,
    code,
    enrol,
    fill_with_canaries,
    load,
    service_for,
    write_site,
)


@dataclass
class Cabin:
    store: AsyncStore
    clock: FakeClock
    hub: SimulatorHub
    service: MaintenanceService
    canary: Canary
    tech_secret: str
    assistant_secret: str


@pytest.fixture
async def cabin(tmp_path: Path) -> AsyncIterator[Cabin]:
    clock = FakeClock()
    site = write_site(tmp_path)
    config = load(site)
    store = await AsyncStore.open(tmp_path / "data", FileKeySource(tmp_path / "data"), clock)
    hub = SimulatorHub(config.devices, fast=True)
    await hub.start()
    try:
        canary = await fill_with_canaries(store, clock)
        accounts = accounts_on(store, clock)
        tech = await enrol(accounts, "paul.tech", Role.TECHNICIAN)
        assistant = await enrol(accounts, "marie.ph", Role.ASSISTANT)
        service = service_for(accounts, store, config, hub, clock, config_path=site)
        yield Cabin(store, clock, hub, service, canary, tech, assistant)
    finally:
        await hub.stop()
        await store.close()


async def _enter(cabin: Cabin) -> MaintenanceSession:
    return await cabin.service.enter(
        "paul.tech", GOOD_PASSWORD, code(cabin.tech_secret, cabin.clock)
    )


def _no_canary(cabin: Cabin, seen: object) -> None:
    text = repr(seen) + str(seen)
    for word in cabin.canary.words():
        assert word not in text
    for secret in SECRETS:
        assert secret not in text


async def test_every_reach_of_the_technician_shows_no_patient_and_is_audited(cabin: Cabin) -> None:
    session = await _enter(cabin)
    service = cabin.service
    devices = await service.devices(session)
    outbox = await service.outbox(session)
    verify = await service.verify_store(session)
    config_lines = await service.configuration(session)
    found_versions = await service.versions(session)
    clock = await service.clock(session)
    test = await service.test_device(session, "thermo-1")
    for item in (devices, outbox, verify, config_lines, found_versions, clock, test):
        _no_canary(cabin, item)
    assert [d.device_id for d in devices] == ["thermo-1", "oxi-1"]
    assert outbox.unsent == 2 and outbox.quarantined == 1
    [row] = outbox.quarantine
    assert row.reason_code == "entry-refused-422"
    assert "session-quarantined" in outbox.incidents
    assert verify.ok
    config = dict(config_lines)
    assert config["platform.ice_servers[0].credential"] == REMOVED
    assert config["platform.ice_servers[0].username"] == REMOVED
    assert config["platform.client_key_file"] == REMOVED
    assert config["site.cabin_id"] == "MAINT-CAB-01"
    assert dict(found_versions)["telecabine-kiosk"]
    assert clock.synchronized is None
    assert test.ok and test.steps[-1] == "reading"
    [value] = test.values
    assert (value.quantity, str(value.value), value.unit) == ("body-temperature", "36.8", "Cel")
    assert test.battery is None  # the thermometer does not tell
    await service.leave(session)
    rows = await audit_rows(cabin.store)
    acts = [(a, act, outcome) for a, act, outcome, _s, _d in rows if act.startswith("maintenance.")]
    assert acts == [
        ("paul.tech", "maintenance.enter", "ok"),
        ("paul.tech", "maintenance.devices", "ok"),
        ("paul.tech", "maintenance.outbox", "ok"),
        ("paul.tech", "maintenance.store-verify", "ok"),
        ("paul.tech", "maintenance.config-view", "ok"),
        ("paul.tech", "maintenance.versions", "ok"),
        ("paul.tech", "maintenance.clock", "ok"),
        ("paul.tech", "maintenance.device-test", "ok"),
        ("paul.tech", "maintenance.leave", "ok"),
    ]
    for row_ in rows:
        _no_canary(cabin, row_)
        assert "36.8" not in repr(row_)  # the value read was shown, never kept


async def test_a_session_record_is_refused_to_maintenance_and_the_attempt_audited(
    cabin: Cabin,
) -> None:
    session = await _enter(cabin)
    with pytest.raises(HealthDataRefused) as caught:
        await cabin.service.session_record(session, "canary-1")
    assert isinstance(caught.value, PermissionDenied)
    rows = await audit_rows(cabin.store)
    assert ("paul.tech", "maintenance.session-record", "refused", "-", "health-data") in rows


async def test_an_assistant_cannot_enter_maintenance(cabin: Cabin) -> None:
    with pytest.raises(PermissionDenied):
        await cabin.service.enter(
            "marie.ph", GOOD_PASSWORD, code(cabin.assistant_secret, cabin.clock)
        )
    rows = await audit_rows(cabin.store)
    assert any(r[0] == "marie.ph" and r[1] == "authorise" and r[2] == "refused" for r in rows)
    assert not any(r[1] == "maintenance.enter" for r in rows)


async def test_two_minutes_without_a_touch_end_the_session(cabin: Cabin) -> None:
    session = await _enter(cabin)
    cabin.clock.advance(IDLE_LIMIT.total_seconds() - 1)
    cabin.service.touch(session)
    cabin.clock.advance(IDLE_LIMIT.total_seconds() - 1)
    await cabin.service.versions(session)  # still alive: the touch restarted the clock
    cabin.clock.advance(IDLE_LIMIT.total_seconds())
    assert cabin.service.expired(session)
    with pytest.raises(MaintenanceRefused) as caught:
        await cabin.service.outbox(session)
    assert caught.value.reason is MaintenanceErrorReason.SESSION_ENDED
    with pytest.raises(MaintenanceRefused):  # once ended, a touch does not revive it
        cabin.service.touch(session)
        await cabin.service.versions(session)
    rows = await audit_rows(cabin.store)
    assert ("paul.tech", "maintenance.leave", "ok", "-", "why=idle") in rows


async def test_a_device_that_does_not_answer_fails_with_a_code(cabin: Cabin) -> None:
    session = await _enter(cabin)
    cabin.hub.set_fault("thermo-1", "absent")
    result = await cabin.service.test_device(session, "thermo-1")
    assert not result.ok and result.values == ()
    assert result.failure is not None and re.fullmatch(r"[a-z-]+", result.failure)
    with pytest.raises(MaintenanceRefused) as caught:
        await cabin.service.test_device(session, "nope-1")
    assert caught.value.reason is MaintenanceErrorReason.UNKNOWN_DEVICE


def test_clock_status_reads_timesyncd(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    now = datetime(2026, 12, 3, tzinfo=UTC)
    assert clock_status(now, tmp_path / "absent").synchronized is None
    assert clock_status(now, tmp_path).synchronized is False
    (tmp_path / "synchronized").touch()
    assert clock_status(now, tmp_path).synchronized is True


@given(st.text())
def test_a_quarantine_reason_becomes_a_code_that_keeps_none_of_its_words(text: str) -> None:
    out = reason_code(text)
    assert re.fullmatch(
        r"fhir-conversion|refused-before|entry-refused(-\d{3})?|refused-http-\d{3}|other", out
    )


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        (
            "The platform refused this session for good with HTTP 422: x; it is kept",
            "refused-http-422",
        ),
        ("The platform refused entry 1 (Patient) of this session with 400: y", "entry-refused-400"),
        ("The session could not be converted to FHIR (KeyError).", "fhir-conversion"),
        ("The platform already refused these very bytes for good; …", "refused-before"),
        ("something else", "other"),
    ],
)
def test_reason_codes(sentence: str, expected: str) -> None:
    assert reason_code(sentence) == expected


async def test_the_bundle_goes_only_to_an_offered_folder(cabin: Cabin, tmp_path: Path) -> None:
    session = await _enter(cabin)
    service = cabin.service
    assert service.export_folders() == ()
    with pytest.raises(MaintenanceRefused) as caught:
        await service.export(session)
    assert caught.value.reason is MaintenanceErrorReason.EXPORT_FAILED
    usb = tmp_path / "usb"
    usb.mkdir()
    (tmp_path / "media" / "not-mounted").mkdir(parents=True)
    service.export_dir = usb
    service.export_roots = (tmp_path / "media", Path("/"))
    folders = service.export_folders()
    assert folders[0] == usb and tmp_path / "media" / "not-mounted" not in folders
    assert Path("/proc") in folders  # a mount point under a root is offered
    with pytest.raises(MaintenanceRefused):
        await service.export(session, tmp_path)  # not offered: refused, nothing written
    assert [p.name for p in tmp_path.iterdir() if p.suffix == ".gz"] == []
    bundle = await service.export(session, usb)
    assert bundle.parent == usb and bundle.name.endswith(".tar.gz")
    rows = await audit_rows(cabin.store)
    outcomes = [r[2] for r in rows if r[1] == "maintenance.export"]
    assert outcomes == ["refused", "refused", "ok"]


async def test_the_oximeter_is_tested_end_to_end_too(cabin: Cabin) -> None:
    session = await _enter(cabin)
    result = await cabin.service.test_device(session, "oxi-1")
    assert result.ok, result.failure
    assert {v.quantity for v in result.values} == {"spo2", "heart-rate"}
    assert result.steps[0] == "connecting" and result.steps[-1] == "reading"


async def test_the_serial_blood_pressure_monitor_is_tested_on_its_pty(tmp_path: Path) -> None:
    clock = FakeClock()
    site = write_site(tmp_path)
    site.write_text(
        site.read_text()
        + '\n[[devices]]\nid = "bp-1"\nkind = "tensiometer"\nbackend = "simulated"\n'
        + 'protocol = "accutorr"\n'
    )
    config = load(site)
    store = await AsyncStore.open(tmp_path / "data", FileKeySource(tmp_path / "data"), clock)
    hub = SimulatorHub(config.devices, fast=True, workdir=tmp_path)
    await hub.start()
    try:
        accounts = accounts_on(store, clock)
        secret = await enrol(accounts, "paul.tech", Role.TECHNICIAN)
        service = service_for(accounts, store, config, hub, clock)
        session = await service.enter("paul.tech", GOOD_PASSWORD, code(secret, clock))
        result = await service.test_device(session, "bp-1")
    finally:
        await hub.stop()
        await store.close()
    assert result.ok, result.failure
    assert {"systolic", "diastolic"} <= {v.quantity for v in result.values}
    assert result.battery == "ok"  # its status byte says so in every record


async def test_a_quarantined_session_is_sent_again_once(cabin: Cabin) -> None:
    session = await _enter(cabin)
    [row] = (await cabin.service.outbox(session)).quarantine
    await cabin.service.resend(session, row.item_id)
    after = await cabin.service.outbox(session)
    assert after.quarantined == 0 and after.quarantine == () and after.unsent == 2
    with pytest.raises(MaintenanceRefused) as caught:
        await cabin.service.resend(session, row.item_id)
    assert caught.value.reason is MaintenanceErrorReason.NOT_QUARANTINED
    rows = await audit_rows(cabin.store)
    resends = [(r[0], r[2], r[4]) for r in rows if r[1] == "maintenance.resend"]
    assert resends == [("paul.tech", "ok", ""), ("paul.tech", "refused", "not-quarantined")]
    assert any(r[0] == "paul.tech" and r[1] == "outbox.requeue" for r in rows)
