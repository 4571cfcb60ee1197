"""docs/domain.md's diagrams and grid are the flow's table, drawn: a stale document fails here."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "domain_doc.py"


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("domain_doc", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


doc = _script()


def test_the_committed_document_is_up_to_date() -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--check"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr + "\nrun: .venv/bin/python scripts/domain_doc.py"


def test_a_stale_block_is_reported_then_rewritten_keeping_the_prose(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    page = tmp_path / "domain.md"
    page.write_text(f"# Prose before\n\n{doc.BEGIN}\nold drawing\n{doc.END}\n\nProse after.\n")
    assert doc.main(["--check", "--doc", str(page)]) == 1
    assert "is stale: run .venv/bin/python scripts/domain_doc.py" in capsys.readouterr().err
    assert doc.main(["--doc", str(page)]) == 0
    text = page.read_text()
    assert text.startswith("# Prose before\n\n" + doc.BEGIN)
    assert text.endswith(doc.END + "\n\nProse after.\n")
    assert "old drawing" not in text
    assert doc.main(["--check", "--doc", str(page)]) == 0
    assert doc.main(["--doc", str(page)]) == 0  # nothing to write
    assert page.read_text() == text


@pytest.mark.parametrize(
    "text",
    ["no markers", f"{doc.BEGIN}\n{doc.BEGIN}\n{doc.END}", f"{doc.END}\n{doc.BEGIN}"],
)
def test_missing_or_repeated_markers_are_refused(text: str) -> None:
    with pytest.raises(SystemExit, match="markers are missing or repeated"):
        doc.rewrite(text)


def test_the_diagram_has_the_moves_the_hand_drawn_one_missed() -> None:
    block = doc.render()
    assert "WAITING_ROOM --> DEGRADED: PlatformUnreachable / CallMediaCheckFailed / Tick (" in block
    assert "ORIENTATION --> END: ConsentDecided (withdrawn)" in block
    assert "CALL --> END: ConsentDecided (withdrawn) / HangUp / CallEnded" in block
    assert "CALL --> CALL: StartMeasurement / MeasurementTaken" in block
    # moves from nearly every step are listed, not drawn from each
    assert "- `EmergencyDeclared` → EMERGENCY_EXIT from 14 steps" in block
    assert "CONSENT --> EMERGENCY_EXIT" not in block
    assert (
        "INACTIVITY_WARNING --> under: ChooseLanguage / SetAccessibility / Touched / StillHere"
        in block
    )


def test_the_grid_has_a_row_per_event_and_a_column_per_state() -> None:
    lines = doc.grid()
    header = next(line for line in lines if line.startswith("| event |"))
    assert header.count("|") == 2 + len(doc.CODES)
    rows = {line.split(" | ")[0]: line for line in lines if line.startswith("| `")}
    assert len(rows) == len({event for (_state, event) in doc.TRANSITIONS})
    assert rows["| `IdentityObtained`"].count("· BEN IDC") == 1
    assert rows["| `StopCancelled`"].endswith("| ↩ |  |  |  |")


def test_a_note_on_a_move_the_table_no_longer_has_stops_the_script(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(doc.WHEN, ("WELCOME", "Begin", "CALL"), "never")
    with pytest.raises(
        SystemExit, match=r"Notes on moves the diagram does not draw: \[\('WELCOME'"
    ):
        doc.render()
