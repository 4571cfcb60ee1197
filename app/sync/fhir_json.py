"""FHIR JSON bytes, with decimals kept digit for digit.

Why not `json.dumps`: it has no way to write a `Decimal` as a JSON number, and
going through `float` turns 36.60 into 36.6 (the device's precision is lost)
or worse. FHIR says a decimal keeps its written precision, so we write the
digits ourselves. The output is deterministic (insertion order, no spaces), so
the same session always gives the same bytes: a retried bundle is identical.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

_string = json.JSONEncoder(ensure_ascii=False).encode


def dumps(value: Any) -> str:
    parts: list[str] = []
    _write(value, parts)
    return "".join(parts)


def dump_bytes(value: Any) -> bytes:
    return dumps(value).encode("utf-8")


def loads(data: bytes | str) -> Any:
    """Parse FHIR JSON keeping decimals as `Decimal` (never through float)."""
    return json.loads(data, parse_float=Decimal)


def _write(value: Any, out: list[str]) -> None:
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, str):
        out.append(_string(value))
    elif isinstance(value, Decimal):
        out.append(_decimal(value))
    elif isinstance(value, int):
        out.append(str(value))
    elif isinstance(value, float):
        raise TypeError("floats lose precision in FHIR JSON; use Decimal")
    elif isinstance(value, Mapping):
        out.append("{")
        first = True
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError("JSON object keys must be strings")
            if not first:
                out.append(",")
            first = False
            out.append(_string(key))
            out.append(":")
            _write(item, out)
        out.append("}")
    elif isinstance(value, Sequence):
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            _write(item, out)
        out.append("]")
    else:
        raise TypeError(f"cannot write a {type(value).__name__} as FHIR JSON")


def _decimal(value: Decimal) -> str:
    if not value.is_finite():
        raise ValueError("FHIR decimals are finite numbers")
    text = format(value, "f")  # positional notation, exactly the digits held
    if text.startswith("-0") and value.is_zero():
        text = text[1:]
    return text
