"""The validated, atomic edit of the site file, and the scan's filter (real bleak, simulated air)."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.maintenance.errors import MaintenanceErrorReason, MaintenanceRefused
from app.maintenance.pairing import scan, set_ble_address
from drivers.ble.sim_air import SimulatedAir, SimulatedPeripheral
from drivers.ble.sim_devices import SimulatedOximeter, SimulatedThermometer
from kiosk_config.loader import load_config
from tests.maintenance.world import write_site


def test_the_address_is_written_and_the_comments_stay(tmp_path: Path) -> None:
    site = write_site(tmp_path)
    site.write_text(
        site.read_text().replace('id = "thermo-1"', '# the ear thermometer\nid = "thermo-1"')
    )
    site.chmod(0o640)
    config = set_ble_address(site, "thermo-1", "C4:11:22:33:44:55")
    assert {d.id: d.ble_address for d in config.devices}["thermo-1"] == "C4:11:22:33:44:55"
    assert load_config(site) == config  # what the kiosk reads next time
    assert "# the ear thermometer" in site.read_text()
    assert site.stat().st_mode & 0o777 == 0o640
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


@pytest.mark.parametrize(
    ("device", "address", "reason"),
    [
        ("thermo-1", "not-an-address", MaintenanceErrorReason.CONFIG_EDIT_REFUSED),
        ("nope-1", "C4:11:22:33:44:55", MaintenanceErrorReason.UNKNOWN_DEVICE),
    ],
)
def test_an_edit_the_kiosk_would_refuse_writes_nothing(
    tmp_path: Path, device: str, address: str, reason: MaintenanceErrorReason
) -> None:
    site = write_site(tmp_path)
    before = site.read_bytes()
    with pytest.raises(MaintenanceRefused) as caught:
        set_ble_address(site, device, address)
    assert caught.value.reason is reason
    assert site.read_bytes() == before


def test_a_device_without_bluetooth_has_no_address(tmp_path: Path) -> None:
    site = write_site(tmp_path)
    site.write_text(
        site.read_text()
        + '\n[[devices]]\nid = "bp-1"\nkind = "tensiometer"\nbackend = "simulated"\n'
    )
    before = site.read_bytes()
    with pytest.raises(MaintenanceRefused) as caught:
        set_ble_address(site, "bp-1", "C4:11:22:33:44:55")
    assert caught.value.reason is MaintenanceErrorReason.CONFIG_EDIT_REFUSED
    assert site.read_bytes() == before


async def test_the_scan_names_health_devices_only_and_counts_the_rest() -> None:
    air = SimulatedAir()
    air.add(SimulatedThermometer("C4:11:22:33:44:55", "SIM-THERMO new"))
    air.add(SimulatedOximeter("C4:11:22:33:44:66", "SIM-OXI new"))
    air.add(SimulatedPeripheral("D0:00:00:00:00:01", "iPhone de Marie Dupont", []))
    try:
        result = await scan(air.scanner_backend(), 0.2)
    finally:
        air.close()
    assert [(d.address, d.name, str(d.kind)) for d in result.devices] == [
        ("C4:11:22:33:44:66", "SIM-OXI new", "oximeter"),
        ("C4:11:22:33:44:55", "SIM-THERMO new", "thermometer"),
    ]
    assert result.others == 1
    assert "Marie" not in repr(result)
