"""The diagnostic export: one tar.gz a technician carries away on a USB stick.

What goes in (and only that): the kiosk's technical logs (the logging rules
keep health data and identity out of them: docs/runtime.md), the
configuration with its secrets removed, the versions, the devices and their
checks, the outbox's counts, ages and quarantine reason codes, the clock.
What never goes in: anything read from a session (identity, consent,
measurement, trace text, document); the bundle is built from the same
health-free values the maintenance screens show, not from the store.

Written as a temporary file in the chosen folder, flushed, then renamed:
a stick pulled out half-way leaves no file that looks complete.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import tarfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

from drivers.base import CheckResult

LOG_TAIL_BYTES = 2 * 1024 * 1024
"""Per log file, the last 2 MiB: what happened lately is what a support desk needs."""


@dataclass(frozen=True, slots=True)
class BundleFacts:
    """The health-free values a bundle is made of (the service gathers them)."""

    cabin_id: str
    made_at: datetime
    made_by: str  # the technician's username
    configuration: tuple[tuple[str, str], ...]
    versions: tuple[tuple[str, str], ...]
    devices: tuple[dict[str, str | None], ...]
    checks: tuple[CheckResult, ...]
    outbox: dict[str, object]
    clock: dict[str, object]
    network: dict[str, object]
    hardware: dict[str, object] = field(default_factory=dict)  # serial ports, card readers


def bundle_name(cabin_id: str, at: datetime) -> str:
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in cabin_id)
    return f"telecabine-diagnostic-{safe}-{at.strftime('%Y%m%dT%H%M%SZ')}.tar.gz"


def _add(tar: tarfile.TarFile, name: str, data: bytes, at: datetime) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = int(at.timestamp())
    info.mode = 0o644
    tar.addfile(info, io.BytesIO(data))


def _json(value: object) -> bytes:
    return (json.dumps(value, indent=2, ensure_ascii=False, default=str) + "\n").encode()


def _log_files(log_dir: Path | None) -> list[Path]:
    if log_dir is None or not log_dir.is_dir():
        return []
    return sorted(p for p in log_dir.iterdir() if p.is_file() and ".log" in p.name)


def _tail(path: Path) -> bytes:
    size = path.stat().st_size
    with path.open("rb") as handle:
        if size > LOG_TAIL_BYTES:
            handle.seek(size - LOG_TAIL_BYTES)
        return handle.read(LOG_TAIL_BYTES)


def read_journal(command: Sequence[str] | None, timeout_s: float = 30.0) -> bytes | None:
    """The kiosk's journal as text (its last `LOG_TAIL_BYTES`), or None where there is none."""
    if not command:
        return None
    try:
        done = subprocess.run(  # noqa: S603 - a fixed command, no shell, no input from outside
            list(command), capture_output=True, timeout=timeout_s, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode != 0:
        return None
    return done.stdout[-LOG_TAIL_BYTES:]


def write_bundle(
    folder: Path, facts: BundleFacts, log_dir: Path | None, journal: bytes | None = None
) -> Path:
    """The bundle in `folder` (a USB stick's mount point); returns its path."""
    folder = Path(folder)
    target = folder / bundle_name(facts.cabin_id, facts.made_at)
    temporary = folder / f".{target.name}.{os.getpid()}.part"
    logs = _log_files(log_dir)
    manifest = {
        "format": "telecabine-diagnostic/1",
        "cabin_id": facts.cabin_id,
        "made_at": facts.made_at.isoformat(),
        "made_by": facts.made_by,
        "contains": [
            "configuration.txt",
            "versions.txt",
            "devices.json",
            "outbox.json",
            "clock.json",
            "network.json",
            *(["hardware.json"] if facts.hardware else []),
            *(f"logs/{p.name}" for p in logs),
            *(["logs/journal.txt"] if journal is not None else []),
        ],
        "health_data": "none",
    }
    at = facts.made_at
    try:
        with temporary.open("wb") as raw:
            with tarfile.open(fileobj=raw, mode="w:gz") as tar:
                _add(tar, "manifest.json", _json(manifest), at)
                config = "".join(f"{k} = {v}\n" for k, v in facts.configuration)
                _add(tar, "configuration.txt", config.encode(), at)
                versions = "".join(f"{n} {v}\n" for n, v in facts.versions)
                _add(tar, "versions.txt", versions.encode(), at)
                devices = {
                    "configured": list(facts.devices),
                    "checks": [{**asdict(c), "kind": str(c.kind)} for c in facts.checks],
                }
                _add(tar, "devices.json", _json(devices), at)
                _add(tar, "outbox.json", _json(facts.outbox), at)
                _add(tar, "clock.json", _json(facts.clock), at)
                _add(tar, "network.json", _json(facts.network), at)
                if facts.hardware:
                    _add(tar, "hardware.json", _json(facts.hardware), at)
                for path in logs:
                    _add(tar, f"logs/{path.name}", _tail(path), at)
                if journal is not None:
                    _add(tar, "logs/journal.txt", journal, at)
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise
    return target
