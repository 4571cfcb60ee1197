"""CI's soak: the windowed kiosk for 10 minutes of back-to-back sessions with calls.

Run apart from the main suite (pyproject's addopts ignore tests/soak): .ci/run does

    .venv/bin/python -m pytest -p no:cacheprovider -o addopts="" -m soak tests/soak/test_soak_ci.py

SOAK_MINUTES shortens or lengthens it (a quick check: SOAK_MINUTES=3); the
figures stay in SOAK_OUT (default: the test's temporary folder).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from tests.person.xserver import missing_tools
from tests.soak import soak_kiosk

MINUTES = float(os.environ.get("SOAK_MINUTES", "10"))
# Ten minutes are ~8 sessions, 4 of them in the second half: too few to judge RSS (the floor
# of each cycle moves +-7 MiB and the first ~5 sessions still warm up). Measured on 2 shared
# cores, fixed tree: -47, +249, +476 MiB/h; before the fix +571. So a 10-minute run gates on
# crashes, hangs and sessions and prints the slope; from 30 minutes on (or with
# SOAK_RSS_LIMIT set) RSS must be flat. docs/runtime.md.
JUDGE_RSS = MINUTES >= 30 or "SOAK_RSS_LIMIT" in os.environ
RSS_LIMIT_MIB_PER_HOUR = float(os.environ.get("SOAK_RSS_LIMIT", "12"))

pytestmark = [
    pytest.mark.soak,
    pytest.mark.integration,
    pytest.mark.timeout(int(MINUTES * 60 + 600)),
    pytest.mark.skipif(bool(missing_tools()), reason="the soak needs Xvfb (apt: xvfb)"),
]


def test_ten_minutes_of_sessions_with_calls(tmp_path: Path) -> None:
    out = Path(os.environ.get("SOAK_OUT", str(tmp_path / "soak")))
    code = soak_kiosk.main(
        [
            "--minutes",
            str(MINUTES),
            "--out",
            str(out),
            "--sample-every",
            "10",
            "--call-seconds",
            "30",
            "--rss-limit",
            str(RSS_LIMIT_MIB_PER_HOUR),
        ]
    )
    figures = json.loads((out / "soak.json").read_text("utf-8"))
    sys.stdout.write(soak_kiosk.table(figures) + "\n")
    assert figures.get("crash") is None, figures.get("crash")
    assert not figures.get("hung"), "the kiosk stopped answering (see kiosk.log)"
    assert figures["sessions_completed"] >= max(1, int(MINUTES / 3)), figures["failures"]
    assert figures["sessions_failed"] == 0, figures["failures"]
    verdict = figures["verdict"]
    assert verdict["none_refs_stable"], verdict
    assert not JUDGE_RSS or verdict["rss_flat"], (
        f"RSS grows {verdict['rss_slope_mib_per_hour']} MiB per hour over the second half "
        f"(limit {verdict['rss_limit_mib_per_hour']}; {figures['verdict_basis']}); "
        f"samples in {out / 'soak.json'}"
    )
    assert code == 0 or not JUDGE_RSS  # 1: the RSS verdict, not judged on a short run
