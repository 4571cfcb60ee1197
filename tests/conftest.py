"""Suite-wide settings. Each room keeps its own fixtures in its own conftest."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
