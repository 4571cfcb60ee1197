"""Reads a site configuration file and turns pydantic's findings into sentences."""

from __future__ import annotations

import difflib
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from kiosk_config.errors import ConfigError, ConfigProblem
from kiosk_config.schema import KioskConfig

EXAMPLES = Path(__file__).parent / "examples"

MAX_BYTES = 256 * 1024
"""A site file is a few kilobytes; anything this big is not one (and is not read further)."""
MAX_DEPTH = 8
"""Tables and arrays nest at most 4 deep in the schema (platform.ice_servers[0].urls[0])."""


def load_config(path: str | Path) -> KioskConfig:
    """The configuration in `path`, checked against the schema, or a `ConfigError`.

    Whatever the file holds (binary, not UTF-8, huge, nested a thousand deep),
    the only exception is `ConfigError`, whose problems are sentences.
    """
    return parse_config(read_config_bytes(path), str(path))


def read_config_bytes(path: str | Path) -> bytes:
    source = str(path)
    try:
        with Path(path).open("rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ConfigError(
            source, [ConfigProblem("(file)", "", f"cannot be read ({reason})")]
        ) from None
    except ValueError as exc:  # a NUL byte in the path
        raise ConfigError(
            source, [ConfigProblem("(file)", "", f"cannot be read ({exc})")]
        ) from None
    return data


def parse_config(text: str | bytes, source: str = "<config>") -> KioskConfig:
    """Parse and validate TOML text (or the bytes of a file, which must be UTF-8)."""
    return validate(parse_toml(text, source), source)


def parse_toml(text: str | bytes, source: str = "<config>") -> dict[str, Any]:
    """The raw TOML tables of a site file; every way it can be unusable is a `ConfigError`."""
    size = len(text.encode("utf-8", "surrogatepass")) if isinstance(text, str) else len(text)
    if size > MAX_BYTES:
        raise _file_error(
            source, f"is larger than {MAX_BYTES // 1024} KiB: expected a site file of a few KiB"
        )
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise _file_error(
                source,
                f"is not UTF-8 text (byte 0x{text[exc.start]:02x} at offset {exc.start}):"
                " expected a TOML file saved as UTF-8",
            ) from None
    text = text.removeprefix("\ufeff")  # a byte-order mark some editors write
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _file_error(source, f"is not valid TOML ({exc})") from None
    except RecursionError:
        raise _file_error(source, _TOO_DEEP) from None
    except (ValueError, MemoryError) as exc:  # e.g. an integer of thousands of digits
        raise _file_error(source, f"is not valid TOML ({type(exc).__name__})") from None
    if _depth(raw) > MAX_DEPTH:
        raise _file_error(source, _TOO_DEEP)
    return raw


_TOO_DEEP = f"nests tables or arrays more than {MAX_DEPTH} deep: expected a site configuration"


def _file_error(source: str, expected: str) -> ConfigError:
    return ConfigError(source, [ConfigProblem("(file)", "", expected)])


def _depth(value: object) -> int:
    """How deep tables and arrays nest, without recursion (a hostile file may nest deeply)."""
    deepest = 0
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, depth)
        if depth > MAX_DEPTH:
            return depth
        stack.extend((child, depth + 1) for child in children)
    return deepest


def validate(raw: dict[str, Any], source: str) -> KioskConfig:
    try:
        return KioskConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(source, [_problem(err, raw) for err in exc.errors()]) from None
    except RecursionError:
        raise _file_error(source, _TOO_DEEP) from None


def _dotted(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


def _model_at(loc: tuple[int | str, ...]) -> type[BaseModel] | None:
    """The schema model that owns the last key of `loc`, to suggest its field names."""
    model: Any = KioskConfig
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part)
        if field is None:
            return None
        annotation = field.annotation
        args = getattr(annotation, "__args__", ())
        candidates = [annotation, *args]
        model = next(
            (c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)), None
        )
        if model is None:
            return None
    return model if isinstance(model, type) else None


def _problem(err: Any, raw: dict[str, Any]) -> ConfigProblem:
    loc: tuple[int | str, ...] = tuple(err["loc"])
    key = _dotted(loc)
    kind = err["type"]
    value = "" if kind == "missing" else shown_value(err.get("input"))
    if kind == "extra_forbidden":
        model = _model_at(loc)
        hint = None
        if model is not None and loc:
            close = difflib.get_close_matches(str(loc[-1]), list(model.model_fields), n=1)
            if close:
                hint = f"Did you mean '{close[0]}'?"
        return ConfigProblem(key, "", "is not a known key", hint)
    if kind == "missing":
        model = _model_at(loc)
        desc = None
        if model is not None and loc:
            field = model.model_fields.get(str(loc[-1]))
            desc = field.description if field else None
        expected = "is required" + (f" ({desc})" if desc else "")
        return ConfigProblem(key, "", expected)
    return ConfigProblem(key, value, f"expected {_expected(err)}")


def shown_value(value: object) -> str:
    """The bad value as the technician wrote it, short and on one line."""
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list | tuple):
        return f"an array of {len(value)}"
    text = repr(value)
    return text if len(text) <= 80 else text[:70] + "…" + text[-8:]


def _expected(err: Any) -> str:
    msg = str(err["msg"])
    ctx = err.get("ctx") or {}
    if err["type"] == "string_pattern_mismatch":
        return f"a value matching {ctx.get('pattern')}"
    if err["type"] == "literal_error":
        return f"one of {ctx.get('expected')}"
    if err["type"] == "value_error":
        return msg.removeprefix("Value error, ")
    return msg[0].lower() + msg[1:] if msg else "a valid value"
