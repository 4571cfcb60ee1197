"""The diagnostic bundle uploaded to the reference platform with the cabin's token.

Real parts: the SQLCipher store with canary patients, the accounts, the
maintenance service, the kiosk's `CabinAuth`, the reference platform with
enrolled cabins and `add_diagnostics_routes` (registered here, as create_app
will). No canary and no secret reaches the platform; a wrong cabin, no
token, a dropped network each end in the one typed refusal, audited.
"""

from __future__ import annotations

import io
import json
import secrets
import socket
import tarfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.maintenance.diagnostics import BundleFacts, PlatformBundleUploader, bundle_bytes
from app.maintenance.errors import MaintenanceErrorReason, MaintenanceRefused
from app.maintenance.roles import Role
from app.maintenance.technician import MaintenanceService, MaintenanceSession
from app.store import AsyncStore, FileKeySource
from app.sync.transport import CabinAuth, CabinCredential
from devtools.platform.cabins import Cabin, CabinRegistry
from devtools.platform.diagnostics import (
    BundleRefused,
    DiagnosticsFolder,
    add_diagnostics_routes,
    check_bundle,
)
from devtools.platform.signalling import install  # the cabin token's endpoint
from devtools.platform.testing import running_platform
from drivers.simulators import SimulatorHub
from tests.maintenance.conftest import GOOD_PASSWORD, FakeClock, audit_rows
from tests.maintenance.world import (
    SECRETS,
    Canary,
    accounts_on,
    code,
    enrol,
    fill_with_canaries,
    load,
    service_for,
    write_site,
)

pytestmark = pytest.mark.timeout(120)

CABIN = "MAINT-CAB-01"


@dataclass
class Upload:
    service: MaintenanceService
    session: MaintenanceSession
    store: AsyncStore
    canary: Canary
    base_url: str
    secret: bytes
    folder: DiagnosticsFolder
    received: Path


@pytest.fixture
async def upload(tmp_path: Path) -> AsyncIterator[Upload]:
    clock = FakeClock()
    config = load(write_site(tmp_path))
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "kiosk.log").write_text("sync: 1 session sent\nstore: opened\n")
    store = await AsyncStore.open(tmp_path / "data", FileKeySource(tmp_path / "data"), clock)
    hub = SimulatorHub(config.devices, fast=True)
    await hub.start()
    secret = secrets.token_bytes(32)
    cabins = CabinRegistry([Cabin(CABIN, secret), Cabin("OTHER-CAB-02", secrets.token_bytes(32))])
    received = tmp_path / "received"
    folders: list[DiagnosticsFolder] = []

    def routes(app: aiohttp.web.Application) -> None:
        folders.append(add_diagnostics_routes(app, received))

    try:
        canary = await fill_with_canaries(store, clock)
        accounts = accounts_on(store, clock)
        totp_secret = await enrol(accounts, "paul.tech", Role.TECHNICIAN)
        service = service_for(accounts, store, config, hub, clock, log_dir=logs)
        session = await service.enter("paul.tech", GOOD_PASSWORD, code(totp_secret, clock))
        async with running_platform(tmp_path, cabins=cabins, extensions=(install, routes)) as (
            url,
            _h,
        ):
            yield Upload(service, session, store, canary, url, secret, folders[0], received)
    finally:
        await hub.stop()
        await store.close()


def _uploader(u: Upload, cabin: str = CABIN, secret: bytes | None = None) -> PlatformBundleUploader:
    credential = CabinCredential(cabin, secret or u.secret)
    return PlatformBundleUploader(u.base_url, auth=CabinAuth(credential, u.base_url))


def _text_of(path: Path) -> str:
    with tarfile.open(path) as tar:
        return b"".join(
            extracted.read()
            for member in tar.getmembers()
            if (extracted := tar.extractfile(member)) is not None
        ).decode()


async def test_the_bundle_reaches_the_platform_with_the_cabin_token_and_no_canary(
    upload: Upload,
) -> None:
    upload.service.uploader = _uploader(upload)
    receipt = await upload.service.upload(upload.session)
    [kept] = upload.folder.bundles(CABIN)
    assert kept.bundle_id == receipt.bundle_id and kept.sha256 == receipt.sha256
    assert kept.made_by == "paul.tech"
    path = upload.folder.path_of(kept)
    assert path.stat().st_mode & 0o777 == 0o600 and path.stat().st_size == receipt.size
    text = _text_of(path)
    assert "store: opened" in text and "entry-refused-422" in text
    for word in (*upload.canary.words(), *SECRETS):
        assert word not in text, word
    rows = await audit_rows(upload.store)
    [row] = [r for r in rows if r[1] == "maintenance.upload"]
    assert row[2] == "ok" and f"id={receipt.bundle_id}" in row[4]
    for row in rows:
        for word in upload.canary.words():
            assert word not in repr(row)


async def test_the_same_bytes_again_keep_one_copy(upload: Upload) -> None:
    data = bundle_bytes(_facts(CABIN), None)
    uploader = _uploader(upload)
    first, again = await uploader.upload(data), await uploader.upload(data)
    assert first == again
    assert len(upload.folder.bundles(CABIN)) == 1


async def test_no_token_and_another_cabin_are_refused_and_nothing_is_kept(upload: Upload) -> None:
    data = bundle_bytes(_facts(CABIN), None)
    with pytest.raises(MaintenanceRefused) as anonymous:
        await PlatformBundleUploader(upload.base_url).upload(data)
    assert anonymous.value.reason is MaintenanceErrorReason.UPLOAD_FAILED
    assert "HTTP 401" in str(anonymous.value)
    other = _uploader(upload, "OTHER-CAB-02", secrets.token_bytes(32))
    with pytest.raises(MaintenanceRefused, match="HTTP 401"):  # a wrong secret: no token
        await other.upload(data)
    async with aiohttp.ClientSession() as http:
        auth = CabinAuth(CabinCredential(CABIN, upload.secret), upload.base_url)
        headers = {**await auth.headers(http), "Content-Type": "application/gzip"}
        other_cabins = bundle_bytes(_facts("OTHER-CAB-02"), None)
        async with http.post(
            upload.base_url + "/cabin/diagnostics", data=other_cabins, headers=headers
        ) as r:
            assert r.status == 403
        async with http.post(
            upload.base_url + "/cabin/diagnostics",
            data=data,
            headers={**headers, "Content-Type": "application/json"},
        ) as r:
            assert r.status == 415
        async with http.post(
            upload.base_url + "/cabin/diagnostics", data=b"x" * 100, headers=headers
        ) as r:
            assert r.status == 400
        async with http.get(upload.base_url + "/cabin/diagnostics", headers=headers) as r:
            assert await r.json() == []
    assert upload.folder.bundles(CABIN) == [] and upload.folder.bundles("OTHER-CAB-02") == []


async def test_a_dropped_network_is_one_audited_refusal(upload: Upload) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    upload.service.uploader = PlatformBundleUploader(f"http://127.0.0.1:{port}", timeout_s=5)
    with pytest.raises(MaintenanceRefused) as refused:
        await upload.service.upload(upload.session)
    assert refused.value.reason is MaintenanceErrorReason.UPLOAD_FAILED
    assert "USB stick" in str(refused.value)
    rows = await audit_rows(upload.store)
    assert ("maintenance.upload", "failed", "upload-failed") in {(r[1], r[2], r[4]) for r in rows}


async def test_without_an_uploader_the_upload_is_refused_before_anything_is_built(
    upload: Upload,
) -> None:
    upload.service.uploader = None
    with pytest.raises(MaintenanceRefused, match="USB stick"):
        await upload.service.upload(upload.session)


# -- the platform's check of what it receives -------------------------------------------


def _facts(cabin: str) -> BundleFacts:
    from datetime import UTC, datetime

    return BundleFacts(
        cabin_id=cabin,
        made_at=datetime(2026, 12, 3, 12, 0, tzinfo=UTC),
        made_by="paul.tech",
        configuration=(("site.cabin_id", cabin),),
        versions=(("python", "3.13"),),
        devices=(),
        checks=(),
        outbox={"unsent": 0},
        clock={},
        network={},
    )


def _tar(members: dict[str, bytes], *, link: str | None = None) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        if link is not None:
            info = tarfile.TarInfo(link)
            info.type = tarfile.SYMTYPE
            info.linkname = "/etc/passwd"
            tar.addfile(info)
    return raw.getvalue()


GOOD_MANIFEST = json.dumps(
    {"format": "telecabine-diagnostic/1", "cabin_id": CABIN, "health_data": "none"}
).encode()


def test_the_kiosks_own_bundle_passes_the_platforms_check() -> None:
    assert check_bundle(bundle_bytes(_facts(CABIN), None))["cabin_id"] == CABIN


@pytest.mark.parametrize(
    ("members", "link", "sentence"),
    [
        ({"manifest.json": GOOD_MANIFEST, "../escape": b"x"}, None, "leaves the bundle"),
        ({"manifest.json": GOOD_MANIFEST, "/etc/cron.d/x": b"x"}, None, "leaves the bundle"),
        ({"manifest.json": GOOD_MANIFEST}, "logs/link.log", "not a plain file"),
        ({"manifest.json": GOOD_MANIFEST, "patients.csv": b"x"}, None, "not one a bundle has"),
        ({"configuration.txt": b"x"}, None, "no manifest"),
        ({"manifest.json": b"{"}, None, "not JSON"),
        (
            {"manifest.json": GOOD_MANIFEST.replace(b'"none"', b'"some"')},
            None,
            '"health_data": "none"',
        ),
    ],
)
def test_a_body_that_is_not_a_bundle_is_refused_with_its_sentence(
    members: dict[str, bytes], link: str | None, sentence: str
) -> None:
    with pytest.raises(BundleRefused, match=sentence.replace("(", r"\(")):
        check_bundle(_tar(members, link=link))


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2048))
def test_any_bytes_are_a_bundle_or_one_refusal(data: bytes) -> None:
    try:
        check_bundle(data)
    except BundleRefused:
        pass


@settings(max_examples=50, deadline=None)
@given(st.dictionaries(st.text(min_size=1, max_size=30), st.binary(max_size=64), max_size=5))
def test_any_tar_is_a_bundle_or_one_refusal(members: dict[str, bytes]) -> None:
    try:
        check_bundle(_tar({k: v for k, v in members.items() if "\x00" not in k}))
    except BundleRefused:
        pass
