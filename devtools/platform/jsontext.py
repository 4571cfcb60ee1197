"""FHIR JSON on the platform side, decimals kept digit for digit.

The platform stores what it receives without rounding: a 36.60 stays 36.60.
(Its own small writer: the platform must not depend on the kiosk's code.)
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

_string = json.JSONEncoder(ensure_ascii=False).encode


def loads(data: bytes | str) -> Any:
    return json.loads(data, parse_float=Decimal)


def dumps(value: Any, indent: int | None = None) -> str:
    out: list[str] = []
    _write(value, out, indent, 0)
    return "".join(out)


def _write(value: Any, out: list[str], indent: int | None, level: int) -> None:
    if value is None:
        out.append("null")
    elif value is True or value is False:
        out.append("true" if value else "false")
    elif isinstance(value, str):
        out.append(_string(value))
    elif isinstance(value, Decimal):
        out.append(format(value, "f"))
    elif isinstance(value, int):
        out.append(str(value))
    elif isinstance(value, float):
        out.append(repr(value))
    elif isinstance(value, dict):
        if not value:
            out.append("{}")
            return
        out.append("{")
        for i, (key, item) in enumerate(value.items()):
            if i:
                out.append(",")
            _newline(out, indent, level + 1)
            out.append(_string(key))
            out.append(": " if indent is not None else ":")
            _write(item, out, indent, level + 1)
        _newline(out, indent, level)
        out.append("}")
    elif isinstance(value, list | tuple):
        if not value:
            out.append("[]")
            return
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            _newline(out, indent, level + 1)
            _write(item, out, indent, level + 1)
        _newline(out, indent, level)
        out.append("]")
    else:
        raise TypeError(f"cannot write a {type(value).__name__} as JSON")


def _newline(out: list[str], indent: int | None, level: int) -> None:
    if indent is not None:
        out.append("\n" + " " * (indent * level))
