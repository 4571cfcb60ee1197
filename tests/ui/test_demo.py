"""The headless demo: a scripted patient through the whole way, screenshots and a report.

The demo runs the real world in its own process: the reference platform with
signalling, pcscd + vpcd for the card, the BLE and serial simulators, the
real aiortc call answered by the scripted doctor, and the real uplink.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_headless_demo_writes_a_png_per_screen_and_a_report(tmp_path: Path) -> None:
    out = tmp_path / "demo-out"
    env = {"PATH": "/usr/sbin:/usr/bin:/bin", "QT_QPA_PLATFORM": "offscreen", "HOME": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-m", "app.cli", "demo", "--out", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=150,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.startswith("demo: no screen found, running headless")
    assert "propagateSizeHints" not in result.stderr
    report = json.loads((out / "report.json").read_text("utf-8"))
    screens = [s["screen"] for s in report["screens"]]
    for needed in (
        "welcome",
        "emergency-check",
        "information",
        "identification",
        "confirm-identity",
        "consent",
        "orientation",
        "measurements",
        "waiting-room",
        "call",
        "end",
        "stop-confirm",
    ):
        assert needed in screens, needed
    assert {s["language"] for s in report["screens"]} == {"fr", "en", "ar"}
    files = sorted(p.name for p in out.glob("*.png"))
    assert files == sorted(s["file"] for s in report["screens"])
    assert files[0] == "01-welcome-fr.png"
    assert report["refused_choices"] == []
    assert report["incidents"] == []
    # INSi through the platform's relay: the card's provisional identity is recovered.
    identity = report["identity"]
    assert identity["statuses"] == ["PROV", "RECUP"], identity
    assert identity["insi_outcome"] is None
    assert identity["status_line"] != ""
    print(f"\ndemo: {report['total_seconds']} s, {len(report['screens'])} screens")
    # The call: the doctor named before video, pictures and text both ways, two documents.
    call = report["call"]
    assert call["doctor"] == "Dr Claire Martin"
    assert call["doctor_shown_before_video"] is True
    print(
        f"frames: {call['remote_frames_on_screen']} on screen, {call['self_view_frames']} self "
        f"view, {call['frames_received_by_doctor']} at the doctor"
    )
    assert call["remote_frames_on_screen"] > 0
    assert call["self_view_frames"] > 0
    assert call["frames_received_by_doctor"] > 0
    assert call["text_from_doctor_shown"] is True
    assert call["text_from_patient_received"] is True
    assert call["documents"] == [
        {"kind": "report", "title": "Compte rendu de téléconsultation"},
        {"kind": "prescription", "title": "Ordonnance"},
    ]
    # Each QR code holds the platform's minted link, and that page really serves the document.
    links = call["document_links"]
    assert sorted(links) == ["demo-doc-1", "demo-doc-2"]
    for url in links.values():
        token = url.rsplit("/", 1)[1]
        assert "/patient/documents/" in url and len(token) >= 43 and "demo-doc" not in token
    # The session's bundle reached the reference platform after the patient left.
    sync = report["sync"]
    assert sync["bundle_reached_platform"] is True
    assert sync["resources_at_platform"]["Patient"] == 1
    assert sync["resources_at_platform"]["Encounter"] == 1
    assert sync["resources_at_platform"]["Observation"] >= 4
    assert report["devices_left_out"] == []
    # The screens of the call, in order: identity alone, then video, then the examination
    # (the stethoscope's placement drawn); then the end.
    order = [s["screen"] for s in report["screens"]]
    first_call = order.index("call")
    assert order[first_call : first_call + 4] == ["call", "call", "call", "end"]
    exam = call["examination"]
    assert exam["stethoscope_blocks"] > 25 and exam["otoscope_frames"] > 10
    assert exam["stills_kept"] == 1


def test_headless_demo_fails_plainly_with_a_site_without_card_reader(tmp_path: Path) -> None:
    from kiosk_config import EXAMPLES

    site = (EXAMPLES / "demo.toml").read_text("utf-8")
    start = site.index('[[devices]]\nid = "reader-1"')
    end = site.index("[[devices]]", start + 1)
    config = tmp_path / "no-reader.toml"
    config.write_text(site[:start] + site[end:], "utf-8")
    out = tmp_path / "demo-out"
    env = {"PATH": "/usr/sbin:/usr/bin:/bin", "QT_QPA_PLATFORM": "offscreen", "HOME": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-m", "app.cli", "demo", "--headless", "--config", str(config)]
        + ["--out", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        "demo: failed: The demo site has no card reader to insert the card in."
    )
    report = json.loads((out / "report.json").read_text("utf-8"))
    assert report["failed"] == "The demo site has no card reader to insert the card in."
