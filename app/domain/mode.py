"""Whether the site runs for real patients or for the demo and the tests.

The domain keeps its own enum (same values as `kiosk_config.Mode`) so that
it depends on no configuration object: `RunMode(config.site.mode.value)`.
"""

from __future__ import annotations

import enum


class RunMode(enum.StrEnum):
    PRODUCTION = "production"
    TEST = "test"
