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

Or uploaded to the platform (`PlatformBundleUploader`): the same bytes
(`bundle_bytes`, one builder for both ways out, so the canary test of the
one is the test of the other), POSTed to `UPLOAD_PATH` with the cabin's
token (`app.sync.transport.CabinAuth`, the channel every kiosk request
uses), over the site's TLS. Why both: a support desk far away gets the
bundle without anyone carrying a stick, and a cabin whose network is the
problem still has the stick.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import tarfile
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from app.maintenance.errors import MaintenanceErrorReason, MaintenanceRefused
from app.sync.errors import SyncError
from app.sync.transport import CabinAuth, NetworkFailure, authorised_send, ssl_context_for
from drivers.base import CheckResult

if TYPE_CHECKING:
    import ssl

    from kiosk_config import KioskConfig

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


def bundle_bytes(facts: BundleFacts, log_dir: Path | None, journal: bytes | None = None) -> bytes:
    """The bundle's tar.gz bytes: what the stick gets and what the platform gets."""
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
    raw = io.BytesIO()
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
    return raw.getvalue()


def write_bundle(
    folder: Path, facts: BundleFacts, log_dir: Path | None, journal: bytes | None = None
) -> Path:
    """The bundle in `folder` (a USB stick's mount point); returns its path."""
    folder = Path(folder)
    target = folder / bundle_name(facts.cabin_id, facts.made_at)
    temporary = folder / f".{target.name}.{os.getpid()}.part"
    data = bundle_bytes(facts, log_dir, journal)
    try:
        with temporary.open("wb") as raw:
            raw.write(data)
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise
    return target


# -- to the platform ------------------------------------------------------------------------

UPLOAD_PATH = "/cabin/diagnostics"
"""The platform's endpoint for a bundle (devtools/platform/diagnostics.py is the reference)."""

CONTENT_TYPE = "application/gzip"
UPLOAD_TIMEOUT_S = 120.0  # 2 MiB of logs per file over a pharmacy's uplink


@dataclass(frozen=True, slots=True)
class UploadReceipt:
    """What the platform answered: its id for the bundle, the bytes' SHA-256 and size."""

    bundle_id: str
    sha256: str
    size: int


class BundleUploader(Protocol):
    """Where an uploaded bundle goes (the platform; a test's fake)."""

    async def upload(self, data: bytes) -> UploadReceipt: ...


class PlatformBundleUploader:
    """POSTs one bundle to the platform with the cabin's token; the receipt or a refusal.

    A fresh aiohttp session per upload: a technician uploads a few times a
    year, and nothing is left open behind the maintenance page. Every failure
    is `MaintenanceRefused(UPLOAD_FAILED)` with a sentence for the technician:
    the network's reason, or the platform's HTTP status (never its body).
    """

    def __init__(
        self,
        base_url: str,
        *,
        auth: CabinAuth | None = None,
        ssl_context: ssl.SSLContext | None = None,
        timeout_s: float = UPLOAD_TIMEOUT_S,
    ) -> None:
        self.url = base_url.rstrip("/") + UPLOAD_PATH
        self._auth = auth
        self._ssl: ssl.SSLContext | bool = ssl_context if ssl_context is not None else True
        self._timeout_s = timeout_s

    @classmethod
    def for_config(cls, config: KioskConfig) -> PlatformBundleUploader:
        platform = config.platform
        tls = ssl_context_for(platform) if platform.url.startswith("https:") else None
        return cls(platform.url, auth=CabinAuth.for_config(config), ssl_context=tls)

    async def upload(self, data: bytes) -> UploadReceipt:
        import aiohttp

        try:
            async with aiohttp.ClientSession() as session:
                reply = await authorised_send(
                    session,
                    self._auth,
                    "POST",
                    self.url,
                    data,
                    {"Content-Type": CONTENT_TYPE, "Accept": "application/json"},
                    timeout=aiohttp.ClientTimeout(total=self._timeout_s),
                    ssl=self._ssl,
                    max_reply=64 * 1024,
                )
        except NetworkFailure as exc:
            raise MaintenanceRefused(
                MaintenanceErrorReason.UPLOAD_FAILED,
                f"The bundle could not be sent: {exc} Try again, or export it to a USB stick.",
            ) from None
        if reply.status not in (200, 201):
            raise MaintenanceRefused(
                MaintenanceErrorReason.UPLOAD_FAILED,
                f"The platform refused the bundle (HTTP {reply.status}).",
            )
        try:
            answer = json.loads(reply.body)
            receipt = UploadReceipt(str(answer["id"]), str(answer["sha256"]), int(answer["size"]))
        except (ValueError, KeyError, TypeError):
            raise MaintenanceRefused(
                MaintenanceErrorReason.UPLOAD_FAILED, "The platform's answer could not be read."
            ) from None
        if receipt.size != len(data):
            raise MaintenanceRefused(
                MaintenanceErrorReason.UPLOAD_FAILED,
                "The platform received a different bundle than the one sent.",
            )
        return receipt


class ConfiguredUploader:
    """A `PlatformBundleUploader` for the configuration of the moment (a reload may change
    the platform's address), made at each upload; a cabin secret that cannot be read is
    the technician's refusal, not a crash."""

    def __init__(self, config: Callable[[], KioskConfig]) -> None:
        self._config = config

    async def upload(self, data: bytes) -> UploadReceipt:
        try:
            uploader = PlatformBundleUploader.for_config(self._config())
        except SyncError as exc:
            raise MaintenanceRefused(
                MaintenanceErrorReason.UPLOAD_FAILED,
                f"The cabin cannot prove itself to the platform: {exc}",
            ) from None
        return await uploader.upload(data)
