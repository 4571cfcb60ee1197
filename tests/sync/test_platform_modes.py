"""The sender against the reference platform answering like real servers do.

Strict isolation (few conditional entries per transaction), entry-level
outcomes (one refused entry inside a 200), update-create with client ids and
documents as Binary: every strategy drains exactly once, a refused session is
quarantined and the ones behind it go on, resending creates nothing new.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import aiohttp
import pytest

from app.sync.fhir_bundle import session_bundle
from app.sync.sender import Sender, SenderSettings
from app.sync.transport import PlatformClient
from app.sync.upload import Strategy, UploadSettings
from devtools.platform.testing import PlatformHandle, running_platform
from devtools.platform.transaction import FhirOptions
from tests.sync.fakes import FakeClock, MemoryOutbox
from tests.sync.sessions import T0, TEST_SITE, rich_session, small_session


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


def make(outbox: MemoryOutbox, http: aiohttp.ClientSession, url: str, **upload: object) -> Sender:
    return Sender(
        outbox,
        PlatformClient(http, url),
        TEST_SITE,
        clock=FakeClock(T0),
        random=random.Random(2).random,
        settings=SenderSettings(upload=UploadSettings(**upload)),  # type: ignore[arg-type]
    )


def kiosk_tokens(platform: PlatformHandle) -> list[tuple[str, ...]]:
    db = platform.store._db
    return [
        tuple(r)
        for r in db.execute(
            "SELECT type, param, system, value FROM tokens WHERE system LIKE 'urn:telecabine:%'"
        )
    ]


def sessions() -> list:  # type: ignore[type-arg]
    big = bytes(range(256)) * 4000  # 1 MB: over the inline limit (base64 > 1 MiB)
    return [
        small_session("S-1"),
        rich_session("S-2", big_document=big),
        small_session("S-3"),
        rich_session("S-4"),
    ]


async def test_strict_isolation_refuses_big_conditional_transactions_and_the_split_passes(
    tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    options = FhirOptions(max_conditional_entries=8)
    async with running_platform(tmp_path, fhir=options) as (url, platform):
        # A kiosk told the server has no limit is refused whole (400) and quarantines.
        unsplit = make(MemoryOutbox(sessions()[:1]), http, url, max_conditional_entries=100)
        assert (await unsplit.drain_once()).quarantined == 1
        assert "strict isolation" in (unsplit._outbox.items[0].reason or "")  # type: ignore[attr-defined]
        assert platform.store.count() == 0
        outbox = MemoryOutbox(sessions())
        sender = make(outbox, http, url)  # default: 8 entries per conditional transaction
        report = await sender.drain_once()
        assert (report.acknowledged, report.quarantined) == (4, 0)
        assert sender.stats.strategy == Strategy.CONDITIONAL_CREATE
        assert outbox.acknowledged_order == ["S-1", "S-2", "S-3", "S-4"]
        tokens = kiosk_tokens(platform)
        assert len(tokens) == len(set(tokens))
        # Later chunks point at what earlier chunks created (no dangling reference).
        for obs in platform.resources("Observation"):
            pid = obs["subject"]["reference"].split("/")[1]
            assert platform.store.read("Patient", pid) is not None
        # The large document went as hashes only (conditional create: no Binary).
        docs = platform.resources("DocumentReference")
        assert any("data" not in d["content"][0]["attachment"] for d in docs)
        again = make(MemoryOutbox(sessions()), http, url)
        assert (await again.drain_once()).acknowledged == 4
        assert sorted(kiosk_tokens(platform)) == sorted(tokens)


async def test_one_entry_refused_inside_a_200_quarantines_that_session_only(
    tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    # A media type with a trailing space: the kiosk's checks let it through, a validating
    # server refuses that one DocumentReference (not a FHIR `code`).
    base = rich_session("S-BAD")
    odd = replace(base.documents[0], media_type="application/pdf ")
    bad = replace(base, documents=(odd, *base.documents[1:]))
    options = FhirOptions(entry_outcomes=True)
    async with running_platform(tmp_path, fhir=options) as (url, platform):
        outbox = MemoryOutbox([small_session("S-1"), bad, small_session("S-3")])
        sender = make(outbox, http, url, max_conditional_entries=100)
        report = await sender.drain_once()
        assert (report.acknowledged, report.quarantined) == (2, 1)
        assert outbox.acknowledged_order == ["S-1", "S-3"]
        reason = outbox.items[1].reason or ""
        assert reason.startswith("The platform refused entry ")
        assert "(DocumentReference) of this session with 400 (structure" in reason
        assert "application/pdf" not in reason
        # The entries the platform accepted stay there (docs/sync.md: what a technician does).
        assert platform.store.count("Patient") == 3
        assert platform.store.count("Encounter") == 3
        assert platform.store.count("DocumentReference") == 1  # S-BAD's other document


async def test_update_create_puts_client_ids_and_documents_as_binary(
    tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    async with running_platform(tmp_path, fhir=FhirOptions(update_create=True)) as (url, platform):
        outbox = MemoryOutbox(sessions())
        sender = make(outbox, http, url)
        report = await sender.drain_once()
        assert (report.acknowledged, report.quarantined) == (4, 0)
        assert sender.stats.strategy == Strategy.UPDATE_CREATE
        patient = platform.resources("Patient")[0]
        bundle = session_bundle(sessions()[0], TEST_SITE)
        full_url = next(
            e["fullUrl"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient"
        )
        assert patient["id"] == full_url.removeprefix("urn:uuid:")
        docs = [
            d
            for d in platform.resources("DocumentReference")
            if "url" in d["content"][0]["attachment"]
        ]
        assert len(docs) == 1
        binary_id = docs[0]["content"][0]["attachment"]["url"].removeprefix("Binary/")
        from devtools.platform.app import BINARIES_KEY

        assert platform.app[BINARIES_KEY][binary_id][1] == bytes(range(256)) * 4000
        tokens = kiosk_tokens(platform)
        again = make(MemoryOutbox(sessions()), http, url)
        assert (await again.drain_once()).acknowledged == 4
        assert sorted(kiosk_tokens(platform)) == sorted(tokens)
        assert len(tokens) == len(set(tokens))


async def test_the_choice_is_read_from_the_capability_statement_and_logged(
    tmp_path: Path, http: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="app.sync.sender")
    async with running_platform(tmp_path) as (url, _platform):
        sender = make(MemoryOutbox([replace(small_session("S-1"))]), http, url)
        assert await sender.strategy() is Strategy.CONDITIONAL_CREATE
    (line,) = [r.getMessage() for r in caplog.records if "strategy" in r.getMessage()]
    assert line == (
        "sync: server 'Télécabine reference platform 2' (FHIR 4.0.1): strategy conditional-create, "
        "at most 8 entries per transaction, documents inline up to 786432 bytes, larger ones "
        "by size and hashes only"
    )
