"""The reference platform: conditional-create semantics, atomicity, validation, search, CLI."""

from __future__ import annotations

import asyncio
import copy
import json
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from app.sync.fhir_bundle import session_bundle
from app.sync.fhir_json import dump_bytes
from devtools.platform.testing import running_platform
from tests.sync.sessions import TEST_SITE, full_session, small_session

ROOT = Path(__file__).resolve().parents[2]
HEADERS = {"Content-Type": "application/fhir+json"}


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


async def post(http: aiohttp.ClientSession, url: str, bundle: Any) -> tuple[int, Any]:
    body = bundle if isinstance(bundle, bytes) else dump_bytes(bundle)
    async with http.post(url + "/", data=body, headers=HEADERS) as r:
        assert r.content_type == "application/fhir+json"
        return r.status, json.loads(await r.read())


def statuses(response: dict[str, Any]) -> list[str]:
    return [e["response"]["status"] for e in response["entry"]]


async def test_first_post_creates_everything_a_repeat_creates_nothing(
    tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    bundle = session_bundle(full_session(), TEST_SITE)
    async with running_platform(tmp_path) as (url, platform):
        status, first = await post(http, url, bundle)
        assert status == 200 and first["type"] == "transaction-response"
        assert statuses(first) == ["201 Created"] * 25
        assert platform.store.count() == 25
        status, again = await post(http, url, bundle)
        assert statuses(again) == ["200 OK"] * 25
        assert [e["response"]["location"] for e in again["entry"]] == [
            e["response"]["location"] for e in first["entry"]
        ]
        assert platform.store.count() == 25
        # A second session shares the cabin's Location and Devices only.
        status, other = await post(http, url, session_bundle(full_session("S-0002"), TEST_SITE))
        assert statuses(other)[:4] == ["200 OK"] * 4
        assert statuses(other)[4:] == ["201 Created"] * 21
        assert platform.store.count() == 46


async def test_references_point_at_the_created_or_existing_resources(
    tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    async with running_platform(tmp_path) as (url, platform):
        await post(http, url, session_bundle(full_session(), TEST_SITE))
        (patient,) = platform.resources("Patient")
        for obs in platform.resources("Observation"):
            assert obs["subject"] == {"reference": f"Patient/{patient['id']}", "type": "Patient"}
            assert obs["meta"]["versionId"] == "1"
        (location,) = platform.resources("Location")
        devices = platform.resources("Device")
        assert {d["location"]["reference"] for d in devices} == {f"Location/{location['id']}"}
        # The repeat of another session resolves its references to the existing Location.
        await post(http, url, session_bundle(small_session("S-9"), TEST_SITE))
        enc = [
            e
            for e in platform.resources("Encounter")
            if e["identifier"][0]["value"].endswith("S-9/encounter")
        ]
        assert enc[0]["location"][0]["location"]["reference"] == f"Location/{location['id']}"


async def test_several_matches_fail_the_whole_transaction_with_412(
    tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    bundle = session_bundle(small_session("S-1"), TEST_SITE)
    patient_entry = next(e for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient")
    unconditional = copy.deepcopy(patient_entry)
    del unconditional["request"]["ifNoneExist"]
    async with running_platform(tmp_path) as (url, platform):
        for _ in range(2):  # two Patients with the same identifier, created blindly
            status, _r = await post(
                http,
                url,
                {"resourceType": "Bundle", "type": "transaction", "entry": [unconditional]},
            )
            assert status == 200
        assert platform.store.count("Patient") == 2
        status, outcome = await post(http, url, bundle)
        assert status == 412
        assert outcome["resourceType"] == "OperationOutcome"
        assert outcome["issue"][0]["code"] == "duplicate"
        assert (
            outcome["issue"][0]["diagnostics"]
            == "Entry 3: the condition matches 2 Patient resources."
        )
        assert platform.store.count() == 2  # nothing of the bundle landed


async def test_a_bad_reference_rolls_back_the_entries_before_it(
    tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    bundle = session_bundle(small_session("S-1"), TEST_SITE)
    bundle["entry"][-1]["resource"]["entity"][0]["what"]["reference"] = (
        "urn:uuid:00000000-0000-0000-0000-000000000000"
    )
    async with running_platform(tmp_path) as (url, platform):
        status, outcome = await post(http, url, bundle)
        assert status == 422
        assert outcome["issue"][0]["diagnostics"] == (
            "Entry 11: reference urn:uuid:00000000-0000-0000-0000-000000000000 is not in the bundle."
        )
        assert platform.store.count() == 0


async def test_invalid_resources_and_bodies_get_an_operation_outcome(
    tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    bundle = session_bundle(small_session("S-1"), TEST_SITE)
    bundle["entry"][3]["resource"]["colour"] = "blue"
    async with running_platform(tmp_path) as (url, platform):
        status, outcome = await post(http, url, bundle)
        assert status == 400
        assert outcome["issue"][0]["code"] == "structure"
        assert outcome["issue"][0]["expression"] == ["entry.3.resource.colour"]
        status, outcome = await post(http, url, b"{not json")
        assert (status, outcome["issue"][0]["diagnostics"]) == (400, "The body is not valid JSON.")
        status, outcome = await post(http, url, {"resourceType": "Bundle", "type": "batch"})
        assert (status, outcome["issue"][0]["code"]) == (422, "not-supported")
        put = copy.deepcopy(session_bundle(small_session("S-2"), TEST_SITE))
        put["entry"][0]["request"]["method"] = "PUT"
        status, outcome = await post(http, url, put)
        assert (status, outcome["issue"][0]["diagnostics"]) == (
            400,
            "Entry 0: only POST is supported.",
        )
        assert platform.store.count() == 0


async def test_search_by_identifier_and_tag_read_and_health(
    tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    async with running_platform(tmp_path) as (url, platform):
        await post(http, url, session_bundle(small_session("S-1"), TEST_SITE))
        async with http.get(
            f"{url}/Patient", params={"identifier": "urn:telecabine:CAB-T1|CAB-T1/S-1/patient"}
        ) as r:
            found = await r.json(content_type=None)
        assert (found["type"], found["total"]) == ("searchset", 1)
        pid = found["entry"][0]["resource"]["id"]
        assert found["entry"][0]["fullUrl"] == f"{url}/Patient/{pid}"
        async with http.get(
            f"{url}/Patient", params={"identifier": "urn:telecabine:CAB-T1|nope"}
        ) as r:
            assert (await r.json(content_type=None))["total"] == 0
        async with http.get(
            f"{url}/AuditEvent", params={"_tag": "urn:telecabine:CAB-T1|CAB-T1/S-1/audit/0001-wipe"}
        ) as r:
            assert (await r.json(content_type=None))["total"] == 1
        async with http.get(f"{url}/Patient", params={"name": "x"}) as r:
            assert r.status == 400
        async with http.get(f"{url}/Patient/{pid}") as r:
            assert (await r.json(content_type=None))["id"] == pid
        async with http.get(f"{url}/Patient/unknown") as r:
            assert r.status == 404
        async with http.get(f"{url}/health") as r:
            assert (r.status, await r.json()) == (200, {"status": "ok"})
        platform.set_healthy(False)
        async with http.get(f"{url}/health") as r:
            assert r.status == 503


async def test_extensions_add_routes_without_touching_fhir_ones(
    tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    async def hello(request: web.Request) -> web.Response:
        return web.Response(text="console")

    def console(app: web.Application) -> None:
        app.router.add_get("/console/", hello)

    async with running_platform(tmp_path, extensions=[console]) as (url, platform):
        async with http.get(f"{url}/console/") as r:
            assert await r.text() == "console"
        async with http.get(f"{url}/Patient") as r:
            assert (await r.json(content_type=None))["total"] == 0
        routes = [r.canonical for r in platform.app.router.resources()]
        assert routes[0] == "/" and routes[-1] == "/console/"


async def test_dump_prints_every_stored_resource_as_a_collection(
    tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    db = tmp_path / "p.sqlite3"
    async with running_platform(tmp_path, db_path=db) as (url, _platform):
        await post(http, url, session_bundle(full_session(), TEST_SITE))
    result = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "devtools.platform", "dump", "--db", str(db)],
        capture_output=True,
        cwd=ROOT,
        timeout=60,
        check=True,
    )
    dumped = json.loads(result.stdout)
    assert (dumped["resourceType"], dumped["type"], len(dumped["entry"])) == (
        "Bundle",
        "collection",
        25,
    )
    assert b'"value": 36.60' in result.stdout  # the device's precision, still there
    missing = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "devtools.platform", "dump", "--db", str(tmp_path / "none.sqlite3")],
        capture_output=True,
        cwd=ROOT,
        timeout=60,
    )
    assert (missing.returncode, missing.stderr.strip()) == (
        1,
        f"No platform database at {tmp_path / 'none.sqlite3'}.".encode(),
    )


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _start_cli(tmp_path: Path, *args: str) -> tuple[asyncio.subprocess.Process, int]:
    port = _free_port()
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "devtools.platform",
        "--port",
        str(port),
        "--db",
        str(tmp_path / "p.sqlite3"),
        *args,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    return proc, port


async def _wait_healthy(port: int) -> None:
    async with aiohttp.ClientSession() as http, asyncio.timeout(20):
        while True:
            try:
                async with http.get(f"http://127.0.0.1:{port}/health") as r:
                    assert r.status == 200
                    return
            except aiohttp.ClientConnectionError:
                await asyncio.sleep(0.1)


async def test_platform_runs_alone_from_the_command_line_and_authenticates_kiosks(
    tmp_path: Path,
) -> None:
    secret = tmp_path / "cabin.secret"
    secret.write_text("ab" * 32)
    proc, port = await _start_cli(tmp_path, "--cabin", f"CAB-CLI-01:{secret}:dr-martin")
    try:
        assert proc.stdout is not None
        line = await asyncio.wait_for(proc.stdout.readline(), 30)
        assert line.decode().startswith(f"platform: http://127.0.0.1:{port}/")
        await _wait_healthy(port)
        async with aiohttp.ClientSession() as http:
            async with http.post(f"http://127.0.0.1:{port}/", data=b"{}", headers=HEADERS) as r:
                assert r.status == 401  # the normal way in: an anonymous kiosk is refused
    finally:
        proc.terminate()
        _, stderr = await asyncio.wait_for(proc.communicate(), 20)
    assert b"OPEN TEST MODE" not in stderr


async def test_the_command_line_refuses_to_run_open_unless_asked_and_then_says_it_loudly(
    tmp_path: Path,
) -> None:
    proc, _ = await _start_cli(tmp_path)
    out, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 2 and out == b""
    assert b"--open-test-mode" in err and b"--cabin" in err
    bad = tmp_path / "short.secret"
    bad.write_text("abcd")
    proc, _ = await _start_cli(tmp_path, "--cabin", f"CAB-CLI-01:{bad}")
    _, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 2 and b"fewer than 32 bytes" in err
    proc, port = await _start_cli(tmp_path, "--open-test-mode")
    try:
        assert proc.stderr is not None
        banner = await asyncio.wait_for(proc.stderr.readline(), 30)
        assert banner.startswith(b"!!! OPEN TEST MODE: kiosks are NOT authenticated")
        await _wait_healthy(port)
        async with aiohttp.ClientSession() as http:
            async with http.post(f"http://127.0.0.1:{port}/", data=b"{}", headers=HEADERS) as r:
                assert r.status != 401  # asked by name: anonymous kiosks pass
    finally:
        proc.terminate()
        await asyncio.wait_for(proc.wait(), 20)


def test_a_platform_built_without_cabins_is_refused_unless_open_mode_is_asked(
    tmp_path: Path,
) -> None:
    from devtools.platform.app import create_app
    from devtools.platform.cabins import CabinRegistry, OpenTestModeNotAsked
    from devtools.platform.signalling import install

    with pytest.raises(OpenTestModeNotAsked, match="open test mode"):
        create_app(tmp_path / "a.sqlite3")
    with pytest.raises(OpenTestModeNotAsked):
        install(web.Application())  # the signalling alone, on a bare application
    with pytest.raises(ValueError, match="exclude"):
        create_app(tmp_path / "b.sqlite3", cabins=CabinRegistry([]), open_test_mode=True)
    install(web.Application(), open_test_mode=True)  # asked by name: allowed
    install(web.Application(), cabins=CabinRegistry([]))  # enforced, nobody enrolled yet
