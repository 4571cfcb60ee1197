"""`kiosk devices check` and `kiosk devices decode`, run as the technician runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from drivers.serial.accutorr import PatientRecord
from kiosk_config import EXAMPLES

ROOT = Path(__file__).resolve().parents[2]


def kiosk(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app.cli", "devices", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=timeout,
        check=False,
    )


def test_check_demo_measuring_devices_against_the_simulators() -> None:
    result = kiosk(
        "check",
        "--config",
        str(EXAMPLES / "demo.toml"),
        "--only",
        "thermo-1",
        "--only",
        "oxi-1",
        "--only",
        "bp-1",
        "--json",
    )
    assert result.returncode == 0, result.stderr
    rows = {r["id"]: r for r in json.loads(result.stdout)}
    assert list(rows) == ["thermo-1", "oxi-1", "bp-1"]
    assert all(r["ok"] and r["backend"] == "simulated" for r in rows.values())
    assert rows["thermo-1"]["detail"].endswith("service 1809 with 1 measurement characteristic(s)")
    assert rows["oxi-1"]["detail"].endswith("service 1822 with 2 measurement characteristic(s)")
    assert rows["bp-1"]["detail"].endswith("at 9600 baud answers the accutorr alive check")


def test_check_demo_shows_all_five_devices_ok() -> None:
    """The demo configuration as the technician runs it: $KIOSK_CONFIG, plain text."""
    env = {**os.environ, "KIOSK_CONFIG": str(EXAMPLES / "demo.toml")}
    result = subprocess.run(
        [sys.executable, "-m", "app.cli", "devices", "check"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    rows = [line.split(maxsplit=4) for line in result.stdout.splitlines()]
    assert [(r[0], r[1], r[2], r[3]) for r in rows] == [
        ("ok", "reader-1", "card-reader", "simulated"),
        ("ok", "camera-1", "camera", "simulated"),
        ("ok", "thermo-1", "thermometer", "simulated"),
        ("ok", "oxi-1", "oximeter", "simulated"),
        ("ok", "bp-1", "tensiometer", "simulated"),
    ]
    details = {r[1]: r[4] for r in rows}
    assert details["reader-1"] == (
        "Reader 'Virtual PCD 00 00' is connected; no card is inserted; profile vitale2-public."
    )
    assert details["camera-1"] == "The simulated camera gives 640x480 images; profile apcv-test1."
    assert "Traceback" not in result.stderr


def test_check_bad_config_is_a_sentence(tmp_path: Path) -> None:
    bad = tmp_path / "site.toml"
    bad.write_text("[site]\n", encoding="utf-8")
    result = kiosk("check", "--config", str(bad))
    assert result.returncode == 2
    assert "problem(s)" in result.stderr and "Traceback" not in result.stderr


def test_decode_thermometer() -> None:
    result = kiosk("decode", "thermometer", "07", "da:03:00:ff", "ea070b170a1e0f", "06")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "kind": "thermometer",
        "value": "98.6",
        "unit": "[degF]",
        "flags": ["fahrenheit", "site:mouth"],
        "timestamp": "2026-11-23T10:30:15",
        "temperature_type": "mouth",
    }


def test_decode_oximeter_spot_and_continuous() -> None:
    spot = kiosk("decode", "oximeter-spot", "02 6200 4800 8000")
    assert json.loads(spot.stdout) == {
        "kind": "oximeter-spot",
        "spo2": {"value": "98", "unit": "%"},
        "pulse_rate": {"value": "72", "unit": "/min"},
        "timestamp": None,
        "measurement_status": ["validated-data"],
        "device_sensor_status": [],
        "pulse_amplitude_index": None,
        "device_clock_not_set": False,
    }
    cont = kiosk("decode", "oximeter-continuous", "11 6100 4600 ff07 4800 34f0")
    assert json.loads(cont.stdout)["fast"] == ["NaN", "72"]
    assert json.loads(cont.stdout)["pulse_amplitude_index"] == "5.2"


def test_decode_tensiometer_record() -> None:
    record = bytes(PatientRecord(None, 72, 120, 93, 80, 1, 0, 0, 0))
    result = kiosk("decode", "tensiometer", record.hex())
    out = json.loads(result.stdout)
    assert result.returncode == 0
    assert (out["systolic"], out["spo2"], out["flags"]) == (
        {"value": 120, "unit": "mm[Hg]"},
        {"value": None, "unit": "%"},
        ["cuff-error"],
    )


def test_decode_bad_bytes_exit_non_zero_with_the_message() -> None:
    result = kiosk("decode", "oximeter-spot", "00 ff07 4800")
    assert result.returncode == 1
    assert json.loads(result.stdout)["error"] == {
        "reason": "no-valid-reading",
        "message": "The PLX Spot-check Measurement (0x2A5E) carries no valid reading: "
        "the SpO2 is the special value NaN.",
    }
    assert result.stderr.strip() == json.loads(result.stdout)["error"]["message"]
    result = kiosk("decode", "tensiometer", "50 3a 31")
    assert result.returncode == 1
    assert result.stderr.strip() == "The record does not end with <CR><LF>."
    result = kiosk("decode", "thermometer", "0g")
    assert result.returncode == 1
    assert result.stderr.strip() == "The text is not hexadecimal bytes."


def test_decode_card_response() -> None:
    result = kiosk("decode", "card", "6a 82")
    out = json.loads(result.stdout)
    assert result.returncode == 0, result.stderr
    assert (out["kind"], out["status_word"]) == ("card", "6A82")
