"""Person tests need an X server of their own, xdotool and ImageMagick's `import`."""

from __future__ import annotations

import os

import pytest

from tests.person.xserver import missing_tools


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    missing = missing_tools()
    if not missing:
        return
    if os.environ.get("CI") == "true" and any("person" in item.keywords for item in items):
        raise pytest.UsageError(
            f"CI=true but {', '.join(missing)} missing: the person tests cannot run "
            "(scripts/setup.sh installs xvfb xdotool imagemagick)"
        )
    skip = pytest.mark.skip(
        reason=f"person tests need {', '.join(missing)} (apt: xvfb xdotool imagemagick)"
    )
    for item in items:
        if "person" in item.keywords:
            item.add_marker(skip)
