"""Diagnostic bundles a technician sends from a cabin (the reference platform's side).

- `POST /cabin/diagnostics` (Content-Type `application/gzip`, the cabin's Bearer
  token): one bundle as `app.maintenance.diagnostics.bundle_bytes` makes it.
  Checked before it is kept: a gzip'd tar of regular files only, with the names
  a bundle has (`manifest.json`, `configuration.txt`, …, `logs/<name>`; no
  absolute path, no `..`, no link), a manifest of format
  `telecabine-diagnostic/1` that says `"health_data": "none"` and names the
  cabin its token proved. Kept under `<folder>/<cabin>/` (0600, written aside
  then renamed). Answer `201 {"id", "sha256", "size"}`; the same bytes again
  from the same cabin answer `200` with the same id (a retry after a lost
  answer keeps one copy). Refusals: 401 no token, 403 another cabin's bundle,
  413 over `MAX_BUNDLE`, 415 another type, 400 not a bundle (one sentence).
- `GET /cabin/diagnostics`: the proving cabin's own bundles (id, size, time).

Why checked so closely: the support desk opens these files; a tar with `../`
or a link is a classic way to write outside the folder, and a manifest that
does not say "no health data" is not a bundle this kiosk made.

Registered by `create_app` (devtools/platform/app.py) with the folder beside
the platform's database.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import logging
import os
import re
import tarfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from aiohttp import web

from devtools.platform.cabins import proven_cabin, refusal

log = logging.getLogger(__name__)

DIAGNOSTICS_PATH = "/cabin/diagnostics"
MAX_BUNDLE = 24 * 1024 * 1024  # a dozen 2-MiB log tails, compressed, with room to spare
FORMAT = "telecabine-diagnostic/1"
FIXED_MEMBERS = frozenset(
    {
        "manifest.json",
        "configuration.txt",
        "versions.txt",
        "devices.json",
        "outbox.json",
        "clock.json",
        "network.json",
        "hardware.json",
    }
)
_LOG_NAME = re.compile(r"^logs/[A-Za-z0-9][A-Za-z0-9._-]{0,120}$")
_SAFE = re.compile(r"[^A-Za-z0-9-]")


class BundleRefused(ValueError):
    """The body is not a diagnostic bundle (the sender's fault); the sentence says why."""


@dataclass(frozen=True)
class ReceivedBundle:
    bundle_id: str
    cabin_id: str
    sha256: str
    size: int
    received_at: str
    made_by: str


def check_bundle(data: bytes) -> dict[str, Any]:
    """The bundle's manifest, once every member is one a bundle has; else `BundleRefused`."""
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
            manifest: dict[str, Any] | None = None
            for member in tar.getmembers():
                name = member.name
                path = PurePosixPath(name)
                if path.is_absolute() or ".." in path.parts:
                    raise BundleRefused(f"A member's path leaves the bundle ({name!r}).")
                if not member.isfile():
                    raise BundleRefused(f"A member is not a plain file ({name!r}).")
                if name not in FIXED_MEMBERS and not _LOG_NAME.match(name):
                    raise BundleRefused(f"A member is not one a bundle has ({name!r}).")
                if name == "manifest.json":
                    extracted = tar.extractfile(member)
                    if extracted is None:
                        raise BundleRefused("The manifest cannot be read.")
                    manifest = json.loads(extracted.read(64 * 1024))
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise BundleRefused(f"The body is not a gzip'd tar ({type(exc).__name__}).") from None
    except (ValueError, UnicodeDecodeError) as exc:
        if isinstance(exc, BundleRefused):
            raise
        raise BundleRefused("The manifest is not JSON.") from None
    if not isinstance(manifest, dict):
        raise BundleRefused("The bundle has no manifest.")
    if manifest.get("format") != FORMAT:
        raise BundleRefused(f"The manifest's format is not {FORMAT}.")
    if manifest.get("health_data") != "none":
        raise BundleRefused('The manifest does not say "health_data": "none".')
    if not isinstance(manifest.get("cabin_id"), str) or not manifest["cabin_id"]:
        raise BundleRefused("The manifest names no cabin.")
    return manifest


class DiagnosticsFolder:
    """Bundles on disk, one folder per cabin; an index file per cabin (JSON lines)."""

    def __init__(self, folder: Path, now: Callable[[], datetime]) -> None:
        self.folder = Path(folder)
        self.now = now

    def _cabin_dir(self, cabin_id: str) -> Path:
        path = self.folder / _SAFE.sub("-", cabin_id)
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
        return path

    def bundles(self, cabin_id: str) -> list[ReceivedBundle]:
        index = self._cabin_dir(cabin_id) / "index.jsonl"
        if not index.exists():
            return []
        return [ReceivedBundle(**json.loads(line)) for line in index.read_text().splitlines()]

    def keep(self, cabin_id: str, data: bytes, made_by: str) -> tuple[ReceivedBundle, bool]:
        """The bundle kept (and True), or the one already kept with the same bytes (False)."""
        digest = hashlib.sha256(data).hexdigest()
        for known in self.bundles(cabin_id):
            if known.sha256 == digest:
                return known, False
        at = self.now().astimezone(UTC)
        bundle_id = f"{_SAFE.sub('-', cabin_id)}-{at.strftime('%Y%m%dT%H%M%SZ')}-{digest[:12]}"
        where = self._cabin_dir(cabin_id)
        target = where / f"{bundle_id}.tar.gz"
        temporary = where / f".{bundle_id}.part"
        try:
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, target)
        except BaseException:
            with contextlib.suppress(OSError):
                temporary.unlink()
            raise
        received = ReceivedBundle(
            bundle_id, cabin_id, digest, len(data), at.isoformat(), made_by[:64]
        )
        with (where / "index.jsonl").open("a") as index:
            index.write(json.dumps(received.__dict__) + "\n")
        return received, True

    def path_of(self, bundle: ReceivedBundle) -> Path:
        return self._cabin_dir(bundle.cabin_id) / f"{bundle.bundle_id}.tar.gz"


DIAGNOSTICS_KEY = web.AppKey("platform_diagnostics", DiagnosticsFolder)


async def upload_handler(request: web.Request) -> web.Response:
    proven, refused = proven_cabin(request)
    if refused is not None:
        return refused
    if request.content_type != "application/gzip":
        return refusal(415, "Only application/gzip (a diagnostic bundle) is accepted here.")
    if request.content_length is not None and request.content_length > MAX_BUNDLE:
        return refusal(413, "The bundle is too large.")
    data = await request.content.read(MAX_BUNDLE + 1)
    if len(data) > MAX_BUNDLE:
        return refusal(413, "The bundle is too large.")
    try:
        manifest = check_bundle(data)
    except BundleRefused as exc:
        return refusal(400, str(exc))
    cabin_id = str(manifest["cabin_id"])
    if proven is not None and cabin_id != proven:
        log.warning("diagnostic bundle refused: it speaks for another cabin than its token's")
        return refusal(403, "A cabin may only send its own diagnostic bundle.")
    folder = request.app[DIAGNOSTICS_KEY]
    kept, new = folder.keep(cabin_id, data, str(manifest.get("made_by", "")))
    log.info("diagnostic bundle %s from %s (%d bytes)", kept.bundle_id, cabin_id, kept.size)
    return web.json_response(
        {"id": kept.bundle_id, "sha256": kept.sha256, "size": kept.size},
        status=201 if new else 200,
    )


async def list_handler(request: web.Request) -> web.Response:
    proven, refused = proven_cabin(request)
    if refused is not None:
        return refused
    cabin = proven or request.query.get("cabin", "")
    folder = request.app[DIAGNOSTICS_KEY]
    return web.json_response(
        [
            {"id": b.bundle_id, "size": b.size, "received_at": b.received_at}
            for b in folder.bundles(cabin)
        ]
        if cabin
        else []
    )


def add_diagnostics_routes(
    app: web.Application,
    folder: str | Path,
    *,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> DiagnosticsFolder:
    """Register `POST`/`GET /cabin/diagnostics`; bundles go under `folder` (made 0700).

    Called again on the same application (a test naming its own folder after
    `create_app` registered the default), it moves the folder and adds no route.
    """
    Path(folder).mkdir(parents=True, exist_ok=True, mode=0o700)
    if DIAGNOSTICS_KEY in app:
        app[DIAGNOSTICS_KEY].folder = Path(folder)
        app[DIAGNOSTICS_KEY].now = now
        return app[DIAGNOSTICS_KEY]
    kept = DiagnosticsFolder(Path(folder), now)
    app[DIAGNOSTICS_KEY] = kept
    app.router.add_post(DIAGNOSTICS_PATH, upload_handler)
    app.router.add_get(DIAGNOSTICS_PATH, list_handler)
    return kept
