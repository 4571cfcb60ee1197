"""An examination still reaches the platform: kept encrypted, sent with the bundle, stored.

The still is the otoscope simulator's picture, encoded as the call encodes
it; it is kept in the real SQCipher store (the file holds none of its bytes in
clear), drained by the kiosk's own sender to the reference platform (the
DocumentReference lands there, linked to the Patient and the Encounter), and
the same bundle is accepted by the independent FHIR engine
(@medplum/fhir-router, validation on).
"""

from __future__ import annotations

import base64
import json
import random
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.call.events import ExamStillKept
from app.call.exam import ear_canal, encode_jpeg
from app.call.exam_keeper import StillKeeper
from app.call.exam_still import ExamDevice, ExamStill
from app.store import AsyncStore
from app.store.errors import InvalidValue
from app.store.exam_stills import STILL_KIND, keep_still, still_title
from app.sync.fhir_bundle import session_bundle
from app.sync.sender import Sender
from app.sync.store_adapter import StoreOutbox, snapshot_from_record
from app.sync.transport import PlatformClient
from devtools.platform.testing import running_platform
from tests.fhirserver.conftest import running_engine
from tests.sync.fakes import FakeClock
from tests.sync.sessions import T0, TEST_SITE, qualified

SESSION = "S-EXAM-1"
FHIR = {"Content-Type": "application/fhir+json"}


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def kept_session(store: AsyncStore, jpeg: bytes) -> None:
    await store.begin_session(SESSION, TEST_SITE.cabin_id)
    await store.record_identity(SESSION, qualified())
    await keep_still(store, SESSION, still_id="still-1", device="otoscope", jpeg=jpeg)
    await store.end_session(SESSION, "completed")


def still_reference(bundle: dict[str, object]) -> dict[str, object]:
    entries = bundle["entry"]
    assert isinstance(entries, list)
    found = [
        e["resource"]
        for e in entries
        if e["resource"]["resourceType"] == "DocumentReference"
        and e["resource"]["type"]["coding"][0]["code"] == STILL_KIND
    ]
    assert len(found) == 1, found
    resource: dict[str, object] = found[0]
    return resource


async def test_a_still_is_kept_encrypted_and_reaches_the_platform_with_the_bundle(
    tmp_path: Path, store: AsyncStore, http: aiohttp.ClientSession
) -> None:
    jpeg = encode_jpeg(ear_canal())
    await kept_session(store, jpeg)
    # Encrypted at rest: no run of the picture's bytes is in any file of the store.
    for path in (tmp_path / "store").rglob("*"):
        if path.is_file():
            assert jpeg[200:264] not in path.read_bytes(), path

    snapshot = snapshot_from_record(await store.session_bundle_source(SESSION))
    bundle = session_bundle(snapshot, TEST_SITE)
    reference = still_reference(bundle)
    attachment = reference["content"][0]["attachment"]  # type: ignore[index]
    assert attachment["contentType"] == "image/jpeg"
    assert base64.b64decode(attachment["data"]) == jpeg
    assert attachment["title"] == "Photo d'examen n° 1 (otoscope)"

    # The kiosk's own sender drains it to the reference platform, which keeps it.
    async with running_platform(tmp_path) as (url, platform):
        client = PlatformClient(http, url, request_timeout_s=10.0)
        sender = Sender(
            StoreOutbox(store),
            client,
            TEST_SITE,
            clock=FakeClock(T0),
            random=random.Random(3).random,
        )
        report = await sender.drain_once()
        assert report.acknowledged == 1, report
        stored = [
            r
            for r in platform.resources("DocumentReference")
            if r["type"]["coding"][0]["code"] == STILL_KIND
        ]
        assert len(stored) == 1
        assert base64.b64decode(stored[0]["content"][0]["attachment"]["data"]) == jpeg
        patient = platform.resources("Patient")[0]
        encounter = platform.resources("Encounter")[0]
        assert stored[0]["subject"]["reference"] == f"Patient/{patient['id']}"
        assert stored[0]["context"]["encounter"][0]["reference"] == f"Encounter/{encounter['id']}"

    # The independent engine validates the same bundle and keeps the picture.
    async with running_engine(transactions=True) as engine:
        async with http.post(engine, data=json.dumps(bundle), headers=FHIR) as response:
            outcome = await response.json(content_type=None)
            assert response.status == 200, outcome
        async with http.get(f"{engine}/DocumentReference", headers=FHIR) as response:
            found = await response.json(content_type=None)
        contents = [
            e["resource"]["content"][0]["attachment"]["contentType"] for e in found["entry"]
        ]
        assert contents == ["image/jpeg"]


def test_only_a_jpeg_still_with_a_plain_id_is_kept() -> None:
    assert still_title("still-12", "dermatoscope") == "Photo d'examen n° 12 (dermatoscope)"
    for still_id, device in (("still-0", "otoscope"), ("x", "otoscope"), ("still-1", "ear")):
        with pytest.raises(InvalidValue):
            still_title(still_id, device)


async def test_what_is_not_a_jpeg_is_refused(store: AsyncStore) -> None:
    await store.begin_session(SESSION, TEST_SITE.cabin_id)
    with pytest.raises(InvalidValue):
        await keep_still(store, SESSION, still_id="still-1", device="otoscope", jpeg=b"%PDF-1.4")


async def test_the_still_keeper_writes_each_still_the_call_reports(store: AsyncStore) -> None:
    jpeg = encode_jpeg(ear_canal())
    await store.begin_session(SESSION, TEST_SITE.cabin_id)
    await store.record_identity(SESSION, qualified())
    failures: list[Exception] = []
    keeper = StillKeeper(store, device="dermatoscope", on_failure=failures.append)
    still = ExamStill("still-1", ExamDevice.OTOSCOPE, jpeg, 640, 480, T0)
    keeper(ExamStillKept(still, SESSION))
    keeper(ExamStillKept(ExamStill("still-2", ExamDevice.OTOSCOPE, b"nope", 1, 1, T0), SESSION))
    await keeper.drain()
    assert keeper.kept == 1 and [type(f) for f in failures] == [InvalidValue]
    snapshot = snapshot_from_record(await store.session_bundle_source(SESSION))
    reference = still_reference(session_bundle(snapshot, TEST_SITE))
    attachment = reference["content"][0]["attachment"]  # type: ignore[index]
    assert attachment["title"] == "Photo d'examen n° 1 (dermatoscope)"


async def test_a_reconnected_call_s_still_1_does_not_overwrite_the_first_call_s(
    store: AsyncStore,
) -> None:
    """A cut and a reconnection make a new call in the same session, numbering from 1 again."""
    first, second = encode_jpeg(ear_canal()), encode_jpeg(ear_canal()) + b"\x00"
    await store.begin_session(SESSION, TEST_SITE.cabin_id)
    await store.record_identity(SESSION, qualified())
    ids = [
        await keep_still(store, SESSION, still_id="still-1", device="otoscope", jpeg=jpeg)
        for jpeg in (first, second)
    ]
    assert len(set(ids)) == 2
    record = await store.session_bundle_source(SESSION)
    kept = sorted(d.content or b"" for d in record.documents if d.kind == STILL_KIND)
    assert kept == sorted([first, second])


@given(st.text(max_size=20), st.sampled_from(["otoscope", "dermatoscope", "ear", ""]))
def test_a_still_title_names_its_number_and_device_or_is_refused(
    still_id: str, device: str
) -> None:
    try:
        title = still_title(still_id, device)
    except InvalidValue:
        return
    number = still_id.removeprefix("still-")
    assert title == f"Photo d'examen n° {number} ({device})"
    assert number.isdigit() and not number.startswith("0") and still_id == f"still-{number}"
