"""What a test does when a real part (pcscd, vpcd...) is missing here.

Why: on a developer's machine without pcscd the card tests skip, saying why;
in CI (the CI environment variable is set) the real parts are installed by
scripts/setup.sh, so a missing one is a broken environment and must fail,
never turn into a quiet green run with the card tests skipped.
"""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def running_in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def missing_real_part(message: str) -> NoReturn:
    """Skip with `message`, or fail with it under CI."""
    if running_in_ci():
        pytest.fail(
            f"{message} CI is set, so this real part must be present "
            "(scripts/setup.sh installs it); failing instead of skipping.",
            pytrace=False,
        )
    pytest.skip(message)
