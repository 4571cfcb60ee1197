"""Is this file ready to run a cabin? What `kiosk config check` adds to the schema.

The schema (`kiosk_config.schema`) says whether a file *can* be read: types,
ranges, URL schemes, non-empty paths. A file can be valid and still be the
untouched cabin template: a "CHANGE ME" credential, the template's example
cabin name, `platform.example.org`, certificate files that are not there.
`check_config` refuses those too, with the same sentences (key, value found,
what was expected), and returns the things worth a technician's look that do
not stop a cabin (no site phone, a serial port not plugged in) as warnings.

Paths are checked as the kiosk opens them: relative to the current folder
(in production they must be absolute: systemd starts the kiosk in `/`).
"""

from __future__ import annotations

import ipaddress
import os
import re
import ssl
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from kiosk_config.errors import ConfigError, ConfigProblem
from kiosk_config.loader import EXAMPLES, parse_toml, read_config_bytes, shown_value, validate
from kiosk_config.schema import KioskConfig, Mode

TEMPLATE = EXAMPLES / "cabin-template.toml"

PLACEHOLDER = re.compile(r"change[\s_.-]*me", re.IGNORECASE)
"""The template's marker, in any case and spacing: CHANGE ME, change_me, ChangeMe."""

_RESERVED_SUFFIXES = (".example", ".invalid", ".test", ".localhost")
_EXAMPLE_DOMAINS = ("example.com", "example.org", "example.net")


@dataclass(frozen=True)
class CheckReport:
    """A configuration ready for a cabin, and what deserves a look without stopping it."""

    config: KioskConfig
    warnings: tuple[ConfigProblem, ...] = ()


def check_config(path: str | Path, *, template: Path | None = TEMPLATE) -> CheckReport:
    """The configuration in `path` if it is ready to run a cabin, else a `ConfigError`.

    On top of `load_config`: no placeholder and no value the cabin template marks
    "CHANGE ME" left as it is; no example host (example.org, *.test, …; in
    production no localhost either); every certificate and key file present,
    readable and usable; in production, absolute paths.
    """
    source = str(path)
    raw = parse_toml(read_config_bytes(path), source)
    config = validate(raw, source)
    errors: dict[str, ConfigProblem] = {}
    warnings: list[ConfigProblem] = []

    def error(problem: ConfigProblem) -> None:
        errors.setdefault(problem.key, problem)  # one sentence per key, the first found

    leaves = list(_leaves(raw))
    for key, value in leaves:
        if isinstance(value, str) and PLACEHOLDER.search(value):
            error(
                ConfigProblem(
                    key,
                    shown_value(value),
                    "is a placeholder of the cabin template: expected this cabin's own value",
                )
            )
    production = config.site.mode is Mode.PRODUCTION
    for key, url, host in _hosts(config):
        reason = host_problem(host, production=production)
        if reason is not None:
            error(ConfigProblem(key, shown_value(url), reason))
    for problem in _file_problems(config, production=production):
        error(problem)
    if template is not None:
        marked = template_placeholders(template)
        for key, value in leaves:
            if not isinstance(value, list) and value in marked.get(_pattern(key), ()):
                error(
                    ConfigProblem(
                        key,
                        shown_value(value),
                        "is the cabin template's example value (marked CHANGE ME):"
                        " expected this cabin's own value",
                    )
                )
    for index, device in enumerate(config.devices):
        if device.backend == "real" and device.serial_port is not None:
            unusable = _stat(Path(device.serial_port))
            if isinstance(unusable, str):
                key = f"devices[{index}].serial_port"
                error(ConfigProblem(key, shown_value(device.serial_port), unusable))
    if errors:
        order = {key: index for index, (key, _) in enumerate(leaves)}
        found = sorted(errors.values(), key=lambda p: order.get(p.key, len(order)))
        raise ConfigError(source, found)

    if config.site.phone is None:
        warnings.append(
            ConfigProblem(
                "site.phone",
                "",
                "is not set: the doctor's summary will have no number to call the site back",
            )
        )
    if production and not config.nearby_places:
        warnings.append(
            ConfigProblem(
                "nearby_places",
                "",
                "is empty: a patient who cannot have a teleconsultation is told of no place to go",
            )
        )
    for index, device in enumerate(config.devices):
        if device.backend == "real" and device.serial_port is not None:
            key = f"devices[{index}].serial_port"
            if _stat(Path(device.serial_port)) is False:
                warnings.append(
                    ConfigProblem(
                        key,
                        shown_value(device.serial_port),
                        "does not exist now: is the device plugged in?",
                    )
                )
    return CheckReport(config, tuple(warnings))


def host_problem(host: str, *, production: bool) -> str | None:
    """Why `host` cannot be the platform's or a TURN server's host, or None."""
    name = host.lower().rstrip(".").strip("[]")
    if name in _EXAMPLE_DOMAINS or name.endswith(tuple("." + d for d in _EXAMPLE_DOMAINS)):
        return "is an example host (RFC 2606): expected a real host name"
    if name.endswith(_RESERVED_SUFFIXES) or name in {s[1:] for s in _RESERVED_SUFFIXES}:
        if name == "localhost" or name.endswith(".localhost"):
            return _loopback(production)
        return "is a reserved test name (RFC 2606): expected a real host name"
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return None
    if address.is_loopback or address.is_unspecified:
        return _loopback(production)
    return None


def _loopback(production: bool) -> str | None:
    if production:
        return 'is this computer itself: expected the platform\'s host (or mode = "test")'
    return None


def template_placeholders(template: Path) -> dict[str, list[object]]:
    """Key pattern -> values of the template's lines commented "CHANGE ME".

    Array indices become `[*]`: `devices[*].ble_address`,
    `platform.ice_servers[*].urls[*]`. The template is read as text, since TOML
    parsers drop comments.
    """
    try:
        lines = template.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return {}
    table = ""
    marked: dict[str, list[object]] = {}
    for line in lines:
        stripped = line.strip()
        header = re.fullmatch(r"(\[\[?)\s*([A-Za-z0-9_.-]+)\s*\]\]?\s*(#.*)?", stripped)
        if header:
            table = header.group(2) + ("[*]" if header.group(1) == "[[" else "")
            continue
        assignment = re.fullmatch(r"([A-Za-z0-9_-]+)\s*=\s*(.*)", stripped)
        if assignment is None or "#" not in line:
            continue
        if not PLACEHOLDER.search(line.rsplit("#", 1)[1]):
            continue
        try:
            value = tomllib.loads("v = " + assignment.group(2))["v"]
        except tomllib.TOMLDecodeError:
            continue
        key = f"{table}.{assignment.group(1)}" if table else assignment.group(1)
        if isinstance(value, list):
            marked.setdefault(key + "[*]", []).extend(value)
        else:
            marked.setdefault(key, []).append(value)
    return marked


def _pattern(key: str) -> str:
    return re.sub(r"\[\d+\]", "[*]", key)


def _leaves(value: object, key: str = "") -> Iterator[tuple[str, object]]:
    """(dotted key, value) of every scalar and of every array of scalars in a raw TOML table."""
    if isinstance(value, dict):
        for name, child in value.items():
            yield from _leaves(child, f"{key}.{name}" if key else str(name))
    elif isinstance(value, list):
        if all(not isinstance(item, dict | list) for item in value):
            yield key, value
        for index, item in enumerate(value):
            yield from _leaves(item, f"{key}[{index}]")
    else:
        yield key, value


def _hosts(config: KioskConfig) -> Iterator[tuple[str, str, str]]:
    """(key, URL, host) of every URL of the configuration."""
    host = urlsplit(config.platform.url).hostname or ""
    yield "platform.url", config.platform.url, host
    for i, server in enumerate(config.platform.ice_servers):
        for j, url in enumerate(server.urls):
            ice_host = url.split(":", 1)[1].split("?", 1)[0]
            ice_host = ice_host.rsplit(":", 1)[0] if not ice_host.endswith("]") else ice_host
            yield f"platform.ice_servers[{i}].urls[{j}]", url, ice_host


def _file_problems(config: KioskConfig, *, production: bool) -> Iterator[ConfigProblem]:
    platform = config.platform
    files = {
        "platform.ca_file": platform.ca_file,
        "platform.client_cert_file": platform.client_cert_file,
        "platform.client_key_file": platform.client_key_file,
        "platform.cabin_key_file": platform.cabin_key_file,
    }
    usable = True
    for key, path in files.items():
        if path is None:
            continue
        problem = _file_problem(key, path, production=production)
        if problem is not None:
            usable = False
            yield problem
    if platform.client_key_file is not None and platform.client_cert_file is None:
        yield ConfigProblem(
            "platform.client_key_file",
            shown_value(str(platform.client_key_file)),
            "is given without 'platform.client_cert_file': expected both, or neither",
        )
    elif usable:
        yield from _tls_problems(config)
    data_dir = config.storage.data_dir
    if production and not data_dir.is_absolute():
        yield ConfigProblem(
            "storage.data_dir",
            shown_value(str(data_dir)),
            "is a relative path: expected an absolute path in production (e.g. /var/lib/telecabine)",
        )
        return
    found = _stat(data_dir)
    if isinstance(found, str):
        yield ConfigProblem("storage.data_dir", shown_value(str(data_dir)), found)
    elif found and not data_dir.is_dir():
        yield ConfigProblem(
            "storage.data_dir", shown_value(str(data_dir)), "is not a folder: expected a folder"
        )
    elif not found:
        ancestor = next((p for p in data_dir.absolute().parents if _stat(p) is True), None)
        if ancestor is None or not ancestor.is_dir():
            yield ConfigProblem(
                "storage.data_dir",
                shown_value(str(data_dir)),
                "cannot be created (no existing folder above it): expected a folder path",
            )


def _stat(path: Path) -> bool | str:
    """Whether `path` exists, or why the system cannot even tell (a sentence's end).

    `Path.exists` raises for a name too long for the file system or a
    folder that cannot be searched (it answers False for a NUL byte);
    `kiosk config check` must say so, not show a traceback.
    """
    try:
        return path.exists()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        return f"cannot be looked at ({reason}): expected a usable path"


def _file_problem(key: str, path: Path, *, production: bool) -> ConfigProblem | None:
    shown = shown_value(str(path))
    if production and not path.is_absolute():
        return ConfigProblem(key, shown, "is a relative path: expected an absolute path")
    found = _stat(path)
    if isinstance(found, str):
        return ConfigProblem(key, shown, found)
    try:
        if not found:
            where = "" if path.is_absolute() else f" (from {Path.cwd()})"
            return ConfigProblem(key, shown, f"does not exist{where}: expected an existing file")
        if not path.is_file():
            return ConfigProblem(key, shown, "is not a file: expected a PEM file")
    except OSError as exc:
        return ConfigProblem(key, shown, f"cannot be read ({exc.strerror}): expected a file")
    if not os.access(path, os.R_OK):
        return ConfigProblem(key, shown, "cannot be read by this user: expected a readable file")
    return None


def _tls_problems(config: KioskConfig) -> Iterator[ConfigProblem]:
    """The certificate files are loaded as the sync loads them, so a bad pair shows here."""
    platform = config.platform
    context = ssl.create_default_context()
    if platform.ca_file is not None:
        try:
            context.load_verify_locations(cafile=str(platform.ca_file))
        except (ssl.SSLError, OSError, ValueError) as exc:
            yield ConfigProblem(
                "platform.ca_file",
                shown_value(str(platform.ca_file)),
                f"is not a PEM CA certificate ({_reason(exc)})",
            )
    if platform.client_cert_file is not None:
        key = platform.client_key_file
        try:
            context.load_cert_chain(
                str(platform.client_cert_file), str(key) if key else None, password=_no_password
            )
        except (ssl.SSLError, OSError, ValueError) as exc:
            yield ConfigProblem(
                "platform.client_cert_file",
                shown_value(str(platform.client_cert_file)),
                "is not a PEM certificate with its unencrypted key"
                f" ('platform.client_key_file') ({_reason(exc)})",
            )


def _no_password() -> bytes:
    raise ValueError("the key is encrypted; the kiosk starts unattended, with no one to type it")


def _reason(exc: BaseException) -> str:
    if isinstance(exc, ssl.SSLError) and exc.reason:
        return str(exc.reason)
    return str(exc) or type(exc).__name__
