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


def load_config(path: str | Path) -> KioskConfig:
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(
            source, [ConfigProblem("(file)", "", f"cannot be read ({exc.strerror})")]
        ) from exc
    return parse_config(text, source)


def parse_config(text: str, source: str = "<config>") -> KioskConfig:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            source, [ConfigProblem("(file)", "", f"is not valid TOML ({exc})")]
        ) from exc
    try:
        return KioskConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(source, [_problem(err, raw) for err in exc.errors()]) from exc


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
    value = "" if kind == "missing" else repr(err.get("input"))
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
