"""Issue 16, done when: the headless demo, its site switched to the BLE blood-pressure monitor
and the BerryMed oximeter by the configuration alone, measures through the flow and sends
the session's bundle to the platform (the demo's own reference platform, a real process)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from kiosk_config import EXAMPLES

ROOT = Path(__file__).resolve().parents[2]


def ble_site(tmp_path: Path) -> Path:
    site = (EXAMPLES / "demo.toml").read_text("utf-8")
    site, n_transport = re.subn(r'^transport = "serial".*$', 'transport = "ble"', site, flags=re.M)
    site, n_protocol = re.subn(r'^protocol = "accutorr"$', 'protocol = "ble-bps"', site, flags=re.M)
    site, n_oxi = re.subn(
        r'^(id = "oxi-1"\nkind = "oximeter"\nbackend = "simulated")$',
        r'\1\nprotocol = "berrymed"',
        site,
        flags=re.M,
    )
    assert (n_transport, n_protocol, n_oxi) == (1, 1, 1)
    site = site.replace('data_dir = "var/demo"', f'data_dir = "{tmp_path / "data"}"')
    path = tmp_path / "ble.toml"
    path.write_text(site, "utf-8")
    return path


def test_headless_demo_measures_over_ble_and_berrymed(tmp_path: Path) -> None:
    out = tmp_path / "demo-out"
    env = {"PATH": "/usr/sbin:/usr/bin:/bin", "QT_QPA_PLATFORM": "offscreen", "HOME": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-m", "app.cli", "demo", "--headless", "--config", str(ble_site(tmp_path))]
        + ["--out", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads((out / "report.json").read_text("utf-8"))
    assert report["incidents"] == [] and report["devices_left_out"] == []
    sync = report["sync"]
    assert sync["bundle_reached_platform"] is True
    # at least temperature, SpO2 and its pulse, blood pressure and its pulse (6 seen)
    assert sync["resources_at_platform"]["Observation"] >= 5
    assert any(name.endswith("measurements-fr.png") for name in map(str, out.iterdir()))
