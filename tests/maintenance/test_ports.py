"""Serial port detection: real terminals (ptys) under udev-like by-id names, pyserial's API.

A pty is a real character device; a `ListPortInfo` is what pyserial's
`comports()` returns, filled as its sysfs reader fills it for a USB adapter.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from serial.tools.list_ports_common import ListPortInfo

from app.maintenance.ports import detect_serial_ports
from app.maintenance.roles import Role
from app.store import AsyncStore, FileKeySource
from drivers.simulators import SimulatorHub
from kiosk_config import KioskConfig
from tests.maintenance.conftest import GOOD_PASSWORD, FakeClock, audit_rows
from tests.maintenance.world import (
    accounts_on,
    code,
    enrol,
    fill_with_canaries,
    load,
    service_for,
    write_site,
)

FTDI = "usb-FTDI_FT232R_USB_UART_A10KZ3QX-if00-port0"


@pytest.fixture
def pty() -> Iterator[str]:
    """A real terminal device: the tensiometer's adapter stands for it."""
    main, secondary = os.openpty()
    try:
        yield os.ttyname(secondary)
    finally:
        os.close(main)
        os.close(secondary)


def _site(tmp_path: Path, port: str) -> KioskConfig:
    site = write_site(tmp_path)
    site.write_text(
        site.read_text()
        + f'\n[[devices]]\nid = "bp-1"\nkind = "tensiometer"\nserial_port = "{port}"\n'
        + 'protocol = "accutorr"\n'
    )
    return load(site)


def _adapter(device: str) -> ListPortInfo:
    info = ListPortInfo(device, skip_link_detection=True)
    info.vid, info.pid = 0x0403, 0x6001
    info.manufacturer, info.product = "FTDI", "FT232R USB UART"
    return info


def test_the_configured_by_id_name_leads_to_the_listed_adapter(tmp_path: Path, pty: str) -> None:
    by_id = tmp_path / "by-id"
    by_id.mkdir()
    (by_id / FTDI).symlink_to(pty)
    config = _site(tmp_path, str(by_id / FTDI))
    other = ListPortInfo("/dev/ttyS0", skip_link_detection=True)  # listed, not a tty here
    report = detect_serial_ports(config, lambda: [_adapter(pty), other], by_id)
    [configured] = report.configured
    assert configured.device_id == "bp-1" and configured.found
    assert configured.resolves_to == os.path.realpath(pty)
    ports = {p.device: p for p in report.ports}
    adapter = ports[os.path.realpath(pty)]
    assert adapter.usb_id == "0403:6001" and adapter.description == "FTDI FT232R USB UART"
    assert adapter.links == (str(by_id / FTDI),) and adapter.used_by == ("bp-1",)
    assert ports["/dev/ttyS0"].used_by == () and ports["/dev/ttyS0"].description == "-"
    assert report.missing == 0


def test_a_configured_port_that_pyserial_does_not_list_is_shown_too(
    tmp_path: Path, pty: str
) -> None:
    """A pty, a console port: no adapter to describe, but it is there and it is used."""
    report = detect_serial_ports(_site(tmp_path, pty), list, tmp_path / "none")
    [port] = report.ports
    assert port.device == os.path.realpath(pty) and port.usb_id is None
    assert port.used_by == ("bp-1",) and report.configured[0].found


@pytest.mark.parametrize("kind", ["absent", "regular-file", "dangling-link"])
def test_a_port_that_is_not_a_terminal_is_not_found(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "ttyUSB9"
    if kind == "regular-file":
        path.write_text("")
    elif kind == "dangling-link":
        path.symlink_to(tmp_path / "unplugged")
    report = detect_serial_ports(_site(tmp_path, str(path)), list, tmp_path / "none")
    [configured] = report.configured
    assert not configured.found and configured.resolves_to is None
    assert report.ports == () and report.missing == 1


def test_pyserial_s_own_listing_runs_on_this_machine(tmp_path: Path, pty: str) -> None:
    """The default lister is pyserial's comports(): whatever this machine has, no error."""
    report = detect_serial_ports(_site(tmp_path, pty), by_id=tmp_path / "none")
    assert os.path.realpath(pty) in {p.device for p in report.ports}
    for port in report.ports:
        assert port.device.startswith("/dev/")


async def test_the_service_lists_ports_audited_with_no_patient(tmp_path: Path, pty: str) -> None:
    clock = FakeClock()
    config = _site(tmp_path, "/dev/serial/by-id/usb-unplugged-if00-port0")
    by_id = tmp_path / "by-id"
    by_id.mkdir()
    (by_id / FTDI).symlink_to(pty)
    store = await AsyncStore.open(tmp_path / "data", FileKeySource(tmp_path / "data"), clock)
    hub = SimulatorHub([d for d in config.devices if d.backend == "simulated"], fast=True)
    try:
        canary = await fill_with_canaries(store, clock)
        accounts = accounts_on(store, clock)
        secret = await enrol(accounts, "paul.tech", Role.TECHNICIAN)
        service = service_for(
            accounts,
            store,
            config,
            hub,
            clock,
            port_lister=lambda: [_adapter(pty)],
            serial_by_id=by_id,
        )
        session = await service.enter("paul.tech", GOOD_PASSWORD, code(secret, clock))
        report = await service.serial_ports(session)
        rows = await audit_rows(store)
    finally:
        await store.close()
    assert report.missing == 1 and report.ports[0].links == (str(by_id / FTDI),)
    for word in canary.words():
        assert word not in repr(report)
    assert (
        "paul.tech",
        "maintenance.serial-ports",
        "missing",
        "-",
        "ports=1 configured=1 missing=1",
    ) in rows
