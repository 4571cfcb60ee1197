"""The site configuration picks serial or BLE for the blood-pressure monitor (issue 16)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from drivers.ble.blood_pressure_driver import BloodPressureDriver
from drivers.registry import build_driver, device_transport
from drivers.serial.tensiometer import TensiometerDriver
from kiosk_config.loader import load_config
from kiosk_config.schema import Device

EXAMPLES = Path(__file__).resolve().parents[2] / "kiosk_config" / "examples"


def test_transport_written_or_read_from_the_protocol() -> None:
    ble = Device(id="bp", kind="tensiometer", transport="ble", ble_address="00:11:22:33:44:55")
    assert (ble.tensiometer_transport(), device_transport(ble)) == ("ble", "ble")
    assert isinstance(build_driver(ble), BloodPressureDriver)
    by_protocol = Device(
        id="bp", kind="tensiometer", protocol="ble-bps", ble_address="00:11:22:33:44:55"
    )
    assert isinstance(build_driver(by_protocol), BloodPressureDriver)
    serial = Device(id="bp", kind="tensiometer", transport="serial", serial_port="/dev/ttyUSB0")
    assert device_transport(serial) == "serial"
    assert isinstance(build_driver(serial), TensiometerDriver)


@pytest.mark.parametrize(
    ("fields", "sentence"),
    [
        ({"transport": "ble", "serial_port": "/dev/ttyUSB0"}, "needs 'ble_address'"),
        ({"transport": "serial", "ble_address": "00:11:22:33:44:55"}, "needs 'serial_port'"),
        (
            {"transport": "ble", "protocol": "accutorr", "ble_address": "00:11:22:33:44:55"},
            "not protocol 'accutorr'",
        ),
        (
            {"transport": "serial", "protocol": "ble-bps", "serial_port": "/dev/ttyUSB0"},
            "is Bluetooth, not a serial tensiometer",
        ),
        ({"transport": "usb", "serial_port": "/dev/ttyUSB0"}, "'serial' or 'ble'"),
    ],
)
def test_a_transport_that_does_not_fit_is_refused(fields: dict[str, str], sentence: str) -> None:
    with pytest.raises(ValidationError, match=sentence):
        Device.model_validate({"id": "bp", "kind": "tensiometer", **fields})


def test_transport_is_for_the_tensiometer_only() -> None:
    with pytest.raises(ValidationError, match="'transport' is for a tensiometer"):
        Device(id="o", kind="oximeter", transport="ble", ble_address="00:11:22:33:44:55")


def test_the_demo_switches_to_ble_by_its_file(tmp_path: Path) -> None:
    site = (EXAMPLES / "demo.toml").read_text("utf-8")
    assert 'transport = "serial"' in site
    ble = site.replace('transport = "serial"', 'transport = "ble"').replace(
        'protocol = "accutorr"', 'protocol = "ble-bps"'
    )
    path = tmp_path / "site.toml"
    path.write_text(ble, "utf-8")
    (bp,) = [d for d in load_config(path).devices if d.id == "bp-1"]
    assert device_transport(bp) == "ble"
