"""`kiosk devices decode blood-pressure|cuff-pressure|date-time|berrymed` and `check` on the new simulators."""

from __future__ import annotations

import json
from pathlib import Path

from kiosk_config import EXAMPLES
from tests.drivers.test_devices_cli import kiosk

CAPTURES = Path(__file__).resolve().parent / "captures"

NEW_DEVICES = """
[[devices]]
id = "bp-ble"
kind = "tensiometer"
backend = "simulated"
protocol = "ble-bps"

[[devices]]
id = "oxi-bm"
kind = "oximeter"
backend = "simulated"
protocol = "berrymed"
"""


def test_decode_blood_pressure_capture() -> None:
    result = kiosk(
        "decode",
        "blood-pressure",
        (CAPTURES / "bp_measurement_mmhg_full.bin").read_bytes().hex(" "),
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "kind": "blood-pressure",
        "systolic": {"value": "121", "unit": "mm[Hg]"},
        "diastolic": {"value": "81", "unit": "mm[Hg]"},
        "mean": {"value": "94", "unit": "mm[Hg]"},
        "measure_again": False,
        "timestamp": "2026-12-02T10:30:00",
        "pulse_rate": {"value": "72", "unit": "/min"},
        "user_id": 1,
        "measurement_status": 0,
        "flags": [],
    }


def test_decode_cuff_pressure_and_date_time() -> None:
    result = kiosk("decode", "cuff-pressure", "00 8E 00 FF 07 FF 07")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["cuff_pressure"] == {"value": "142", "unit": "mm[Hg]"}
    result = kiosk("decode", "date-time", "EA:07:0C:02:14:0F:07")
    assert json.loads(result.stdout)["date_time"] == "2026-12-02T20:15:07"


def test_decode_blood_pressure_nan_is_a_sentence_and_exit_1() -> None:
    result = kiosk("decode", "blood-pressure", "00 FF07 5000 5D00")
    assert result.returncode == 1
    assert json.loads(result.stdout)["error"] == {
        "reason": "no-valid-reading",
        "message": "The Blood Pressure Measurement (0x2A35) carries no valid reading: the "
        "systolic pressure is the special value NaN.",
    }


def test_decode_berrymed_stream_with_garbage() -> None:
    result = kiosk("decode", "berrymed", (CAPTURES / "berrymed_garbage.bin").read_bytes().hex())
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["skipped"] == [
        {"length": 3, "reason": "noise"},
        {"length": 2, "reason": "cut-frame"},
    ]
    assert [(f["spo2"], f["pulse_rate"], f["pleth"]) for f in out["frames"]] == [
        (98, 75, 52),
        (95, 130, 64),
        (98, 75, 52),
    ]
    assert out["frames"][0]["flags"] == ["pulse-beep"]


def test_decode_berrymed_longer_packets_refused() -> None:
    result = kiosk(
        "decode", "berrymed", (CAPTURES / "berrymed_longer_packets.bin").read_bytes().hex()
    )
    assert result.returncode == 1
    assert json.loads(result.stdout)["error"]["reason"] == "longer-packets"


def test_check_finds_the_ble_monitor_and_the_berrymed_simulators(tmp_path: Path) -> None:
    site = tmp_path / "site.toml"
    site.write_text((EXAMPLES / "demo.toml").read_text(encoding="utf-8") + NEW_DEVICES, "utf-8")
    result = kiosk("check", "--config", str(site), "--only", "bp-ble", "--only", "oxi-bm", "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    rows = {r["id"]: r for r in json.loads(result.stdout)}
    assert rows["bp-ble"]["detail"].endswith("service 1810 with 2 measurement characteristic(s)")
    assert rows["oxi-bm"]["detail"].endswith(
        "service BerryMed transparent UART with 1 measurement characteristic(s)"
    )
