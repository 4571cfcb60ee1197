"""CI runs the package check, and the check can run (issue 14).

`packaging/ci/check-deb.sh` had never run as CI would call it: it was committed
without its executable bit ("Permission denied"), and `.ci/run` did not call it.
These are cheap guards; the check itself (build, lintian, a throwaway Debian 13
root) runs in `.ci/run`, as root.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = ("packaging/build-deb.sh", "packaging/ci/check-deb.sh", "packaging/ci/fill-site.py")


@pytest.mark.parametrize("script", SCRIPTS)
def test_the_packaging_scripts_are_executable_in_git_and_on_disk(script: str) -> None:
    staged = subprocess.run(
        ["git", "ls-files", "--stage", "--", script],  # noqa: S607 - git from PATH, as the build
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert staged, f"{script} is not in git"
    assert staged[0] == "100755", f"{script} is committed as {staged[0]}, not executable"
    assert os.access(ROOT / script, os.X_OK)


@pytest.mark.parametrize("script", [s for s in SCRIPTS if s.endswith(".sh")])
def test_the_shell_scripts_parse(script: str) -> None:
    subprocess.run(["bash", "-n", str(ROOT / script)], check=True)  # noqa: S607


def test_ci_runs_the_package_check_after_the_tests_and_before_ruff() -> None:
    """Started after the suite, beside the soak, and waited for (its exit code counts) before ruff."""
    lines = [
        line.strip()
        for line in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.lstrip().startswith(("#", "echo"))
    ]
    check = next(i for i, line in enumerate(lines) if line.startswith("packaging/ci/check-deb.sh"))
    wait = next(i for i, line in enumerate(lines) if line.startswith('wait "$deb_pid"'))
    assert lines.index("./scripts/test.sh") < check < wait < lines.index(".venv/bin/ruff check .")


def test_the_check_fails_on_an_unexplained_lintian_warning_not_on_overrides() -> None:
    """lintian 2.116 with --show-overrides counts overridden warnings for --fail-on and
    exits 2 on a clean package: the check reads the E:/W: lines itself."""
    text = (ROOT / "packaging" / "ci" / "check-deb.sh").read_text(encoding="utf-8")
    call = re.search(r"^lintian (.*)$", text, flags=re.MULTILINE)
    assert call is not None
    assert "--fail-on none" in call.group(1)
    assert "--show-overrides" in call.group(1)
    assert "grep -q '^[EW]:' \"$work/lintian.txt\"" in text
