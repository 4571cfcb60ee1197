"""The official OTLP protobuf classes (`opentelemetry-proto`), needed by the heartbeat tests.

Skip on a developer's machine without them; FAIL under CI=true, like the
repository's other tests that need a part from outside: CI must never pass
by not running them. Pin (dev extras): `opentelemetry-proto==1.45.2`.
"""

from __future__ import annotations

import importlib.util
import os

import pytest


def require_otlp_proto() -> None:
    if importlib.util.find_spec("opentelemetry.proto") is not None:
        return
    sentence = (
        "opentelemetry-proto is not installed: the heartbeat's bytes cannot be checked "
        "against the official OTLP definitions (pip install opentelemetry-proto==1.45.2)."
    )
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(sentence)
    pytest.skip(sentence, allow_module_level=True)
