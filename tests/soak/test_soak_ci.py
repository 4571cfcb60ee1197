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
# Ten minutes are ~8 sessions, 4 of them in the second half: the slope there is coarse (the
# floor of each cycle moves +-7 MiB and the first ~5 sessions still warm up). Measured on 2
# shared cores: flat runs -47 and +249 MiB/h; the growth found (before the heap was trimmed
# after each call) +571 MiB/h at this pace. This limit catches a per-call leak of that size;
# the 2-hour soak (scripts/soak.sh, 12 MiB/h) is the flat-RSS verdict. docs/runtime.md.
RSS_LIMIT_MIB_PER_HOUR = float(os.environ.get("SOAK_RSS_LIMIT", "400"))

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
    assert verdict["rss_flat"], (
        f"RSS grows {verdict['rss_slope_mib_per_hour']} MiB per hour over the second half "
        f"(limit {verdict['rss_limit_mib_per_hour']}; {figures['verdict_basis']}); "
        f"samples in {out / 'soak.json'}"
    )
    assert code == 0
