"""The independent engine really validates: what is not valid FHIR R4 is refused.

Without this, "accepted by the engine" would prove nothing. Each resource here
breaks one rule of the R4 base definitions that the kiosk's bundles must keep
(no empty string, no unknown property, required elements, code and date
formats); the engine refuses each with 400 and an OperationOutcome naming the
path, stores none of them, and accepts the same resource once corrected.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from tests.fhirserver.conftest import running_engine

FHIR = {"Content-Type": "application/fhir+json"}
INVALID: dict[str, tuple[dict[str, Any], str]] = {
    "an empty given name": (
        {"resourceType": "Patient", "name": [{"family": "X", "given": [""]}]},
        "Patient.name[0].given[0]",
    ),
    "an unknown property": ({"resourceType": "Patient", "nickname": "x"}, "Patient.nickname"),
    "a missing required element": (
        {"resourceType": "Observation", "status": "final"},
        "Observation.code",
    ),
    "a month 13": ({"resourceType": "Patient", "birthDate": "1950-13"}, "Patient.birthDate"),
    "a code with a trailing space": (
        {
            "resourceType": "DocumentReference",
            "status": "current",
            "content": [{"attachment": {"contentType": "application/pdf "}}],
        },
        "DocumentReference.content[0].attachment.contentType",
    ),
}


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def test_the_engine_refuses_what_is_not_valid_fhir(http: aiohttp.ClientSession) -> None:
    async with running_engine(transactions=True) as url:
        for case, (resource, path) in INVALID.items():
            async with http.post(
                f"{url}/{resource['resourceType']}", data=json.dumps(resource), headers=FHIR
            ) as r:
                outcome = await r.json(content_type=None)
                assert r.status == 400, (case, outcome)
            assert outcome["resourceType"] == "OperationOutcome", case
            assert any(path in i.get("expression", []) for i in outcome["issue"]), (case, outcome)
        # The same in a transaction: refused as a whole, with the entry's path.
        bundle = {
            "resourceType": "Bundle",
            "type": "transaction",
            "entry": [
                {
                    "fullUrl": "urn:uuid:0b9d2c55-3b0e-4d52-9f0e-000000000001",
                    "resource": INVALID["an empty given name"][0],
                    "request": {"method": "POST", "url": "Patient"},
                }
            ],
        }
        async with http.post(url + "/", data=json.dumps(bundle), headers=FHIR) as r:
            assert r.status == 400, await r.text()
        async with http.get(f"{url}/$tokens") as r:
            assert await r.json(content_type=None) == []  # nothing stored
        async with http.get(f"{url}/$stats") as r:
            stats = await r.json(content_type=None)
        assert stats["refused"] == len(INVALID) + 1
        corrected = {"resourceType": "Patient", "name": [{"family": "X", "given": ["Y"]}]}
        async with http.post(f"{url}/Patient", data=json.dumps(corrected), headers=FHIR) as r:
            assert r.status == 201, await r.text()
