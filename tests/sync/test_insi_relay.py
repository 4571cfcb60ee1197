"""The reference platform's INSi relay (`POST /insi/query`), over real HTTP."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devtools.platform.insi import (
    DEMO_OID,
    INSI_KEY,
    TEST_OID,
    InsiDirectory,
    InsRecord,
    install,
    set_insi_available,
)
from devtools.platform.testing import PlatformHandle, running_platform
from kiosk_demo.cards import EXPIRED, FAMILY, REFUSES_READ, SINGLE_ADULT

AT = datetime(2026, 11, 23, 9, 30, 5, tzinfo=UTC)

HOARAU = {
    "nir": SINGLE_ADULT.beneficiaries[0].nir,
    "birthName": "HOARAU",
    "firstNames": ["MARIE", "JOSEE"],
    "birthDate": "1990-05-14",
    "sex": "female",
}


async def _post(url: str, body: bytes | dict[str, Any]) -> tuple[int, dict[str, str], Any]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    async with aiohttp.ClientSession() as http:
        async with http.post(
            url + "/insi/query",
            data=data,
            headers={"Content-Type": "application/json"},
            timeout=aiohttp.ClientTimeout(total=5),
        ) as r:
            raw = await r.read()
            return r.status, dict(r.headers), json.loads(raw)


@pytest.fixture
async def relay(tmp_path: Path) -> AsyncIterator[tuple[str, PlatformHandle]]:
    def extension(app: Any) -> None:
        install(app, now=lambda: AT)

    async with running_platform(tmp_path, extensions=(extension,)) as running:
        yield running


def _outcome(issue: str, code: str, sentence: str) -> dict[str, Any]:
    return {
        "resourceType": "OperationOutcome",
        "issue": [
            {
                "severity": "error",
                "code": issue,
                "diagnostics": sentence,
                "details": {"coding": [{"system": "urn:telecabine:insi-outcome", "code": code}]},
            }
        ],
    }


async def test_a_card_patient_gets_the_ins_and_the_ins_traits(
    relay: tuple[str, PlatformHandle],
) -> None:
    url, _ = relay
    status, headers, body = await _post(url, HOARAU)
    assert status == 200
    assert headers["Content-Type"] == "application/json; charset=utf-8"
    assert body == {
        "ins": {"value": SINGLE_ADULT.beneficiaries[0].nir, "kind": "NIR", "oid": TEST_OID},
        "traits": {
            "birthName": "HOARAU",
            "birthFirstNames": ["MARIE-JOSEE", "ANNE"],
            "birthDate": "1990-05-14",
            "sex": "female",
            "birthPlace": "97411",
        },
        "interrogatedAt": "2026-11-23T09:30:05Z",
    }


@pytest.mark.parametrize(
    ("person", "sex", "first_names", "place"),
    [
        (FAMILY.beneficiaries[0], "male", ["PAUL", "ANTOINE"], "2A004"),
        (FAMILY.beneficiaries[1], "female", ["LEA", "CAMILLE"], "75056"),
        (FAMILY.beneficiaries[2], "male", ["TOM"], "2B033"),
        (EXPIRED.beneficiaries[0], "male", ["MARCEL", "HENRI", "JEAN"], "33063"),
        (REFUSES_READ.beneficiaries[0], "female", ["CLAIRE", "MARIE"], "69123"),
    ],
    ids=["holder-2A", "child-paris", "child-2B", "expired-card", "refuses-read"],
)
async def test_every_card_patient_is_known_under_their_own_nir(
    relay: tuple[str, PlatformHandle], person: Any, sex: str, first_names: list[str], place: str
) -> None:
    url, _ = relay
    query = {
        "nir": person.nir,
        "birthName": person.surname,
        "firstNames": person.first_name.split(),
        "birthDate": person.birth_date,
        "sex": sex,
    }
    status, _, body = await _post(url, query)
    assert status == 200
    assert body["ins"] == {"value": person.nir, "kind": "NIR", "oid": TEST_OID}
    assert body["traits"]["birthFirstNames"] == first_names
    assert body["traits"]["birthPlace"] == place


async def test_a_child_presented_under_the_holders_nir_gets_its_own_nir(
    relay: tuple[str, PlatformHandle],
) -> None:
    url, _ = relay
    holder, child = FAMILY.beneficiaries[0], FAMILY.beneficiaries[2]
    query = {
        "nir": holder.nir,
        "birthName": "BERNARD",
        "firstNames": ["TOM"],
        "birthDate": "2015-09-02",
        "sex": "male",
    }
    status, _, body = await _post(url, query)
    assert status == 200
    assert body["ins"]["value"] == child.nir != holder.nir


async def test_the_qr_demo_identity_is_known_under_the_demo_oid(
    relay: tuple[str, PlatformHandle],
) -> None:
    url, _ = relay
    query = {
        "nir": "286029720904573",
        "birthName": "LAVIOLETTE",
        "firstNames": ["JOSEPHINE"],
        "birthDate": "1986-02-17",
        "sex": "female",
        "birthPlace": "97209",
    }
    status, _, body = await _post(url, query)
    assert status == 200
    assert body["ins"] == {"value": "286029720904573", "kind": "NIR", "oid": DEMO_OID}
    assert body["traits"]["birthFirstNames"] == ["JOSEPHINE", "ROSE"]


async def test_case_diacritics_and_hyphens_do_not_matter(
    relay: tuple[str, PlatformHandle],
) -> None:
    url, _ = relay
    status, _, body = await _post(
        url, {**HOARAU, "birthName": "Hoarau", "firstNames": ["Marie-Josée"]}
    )
    assert status == 200
    assert body["traits"]["birthName"] == "HOARAU"


async def test_traits_alone_find_a_single_person(relay: tuple[str, PlatformHandle]) -> None:
    url, _ = relay
    query = {k: v for k, v in HOARAU.items() if k != "nir"}
    status, _, body = await _post(url, query)
    assert (status, body["ins"]["value"]) == (200, SINGLE_ADULT.beneficiaries[0].nir)
    status, _, body = await _post(url, {**query, "birthDate": "1990-05-15"})
    assert (status, body) == (
        404,
        _outcome("not-found", "not-found", "INSi knows no one with these traits."),
    )


async def test_an_unknown_nir_is_a_404_outcome(relay: tuple[str, PlatformHandle]) -> None:
    url, _ = relay
    status, headers, body = await _post(url, {**HOARAU, "nir": "190017511100142"})
    assert status == 404
    assert headers["Content-Type"] == "application/fhir+json; charset=utf-8"
    assert body == _outcome("not-found", "not-found", "INSi knows no one under this NIR.")


@pytest.mark.parametrize(
    "change",
    [
        {"birthDate": "1990-05-15"},
        {"birthName": "HOAREAU"},
        {"firstNames": ["ANNE"]},
        {"sex": "male"},
        {"birthPlace": "97412"},
    ],
    ids=["date", "birth-name", "first-name", "sex", "birth-place"],
)
async def test_a_known_nir_with_other_traits_is_a_409_mismatch(
    relay: tuple[str, PlatformHandle], change: dict[str, Any]
) -> None:
    url, _ = relay
    status, _, body = await _post(url, {**HOARAU, **change})
    assert (status, body) == (
        409,
        _outcome(
            "conflict",
            "traits-mismatch",
            "INSi knows this NIR, but the traits given do not match its identity.",
        ),
    )


async def test_an_unknown_sex_fits_and_a_given_birth_place_must_agree(
    relay: tuple[str, PlatformHandle],
) -> None:
    url, _ = relay
    status, _, _ = await _post(url, {**HOARAU, "sex": "unknown", "birthPlace": "97411"})
    assert status == 200


async def test_several_people_fitting_is_a_409(tmp_path: Path) -> None:
    holder = "179112A004012" + "55"
    twins = [
        InsRecord(
            ins=ins,
            kind="NIR",
            oid=TEST_OID,
            birth_name="DURAND",
            birth_first_names=names,
            birth_date=date(2018, 4, 1),
            sex="male",
            birth_place="75056",
            presented_under=frozenset({holder}),
        )
        for ins, names in (
            ("118047505601122", ("JEAN", "PIERRE")),
            ("118047505601233", ("JEAN", "LUC")),
        )
    ]

    def extension(app: Any) -> None:
        install(app, directory=InsiDirectory(twins), now=lambda: AT)

    async with running_platform(tmp_path, extensions=(extension,)) as (url, _):
        query = {
            "nir": holder,
            "birthName": "DURAND",
            "firstNames": ["JEAN"],
            "birthDate": "2018-04-01",
            "sex": "male",
        }
        status, _, body = await _post(url, query)
        assert (status, body) == (
            409,
            _outcome(
                "conflict",
                "several-candidates",
                "INSi found 2 people with these traits; more traits are needed to tell them apart.",
            ),
        )
        status, _, body = await _post(url, {**query, "firstNames": ["JEAN", "LUC"]})
        assert (status, body["ins"]["value"]) == (200, "118047505601233")


async def test_a_body_missing_everything_names_every_field(
    relay: tuple[str, PlatformHandle],
) -> None:
    url, _ = relay
    status, _, body = await _post(url, {"nir": 12, "birthPlace": "7541", "sex": "M"})
    assert (status, body) == (
        400,
        _outcome(
            "invalid",
            "invalid-query",
            "'nir' must be 15 characters (digits, 2A/2B for Corsica) or absent. "
            "'birthName' must be a non-empty string. "
            "'firstNames' must be a non-empty list of non-empty strings. "
            "'birthDate' must be a date written YYYY-MM-DD. "
            "'sex' must be one of male, female, unknown. "
            "'birthPlace' must be a 5-character INSEE code or absent.",
        ),
    )


@pytest.mark.parametrize(
    ("raw", "sentence"),
    [
        (b"{not json", "The body is not valid JSON."),
        (b"\xff\xfe\x00", "The body is not valid JSON."),
        (b"[" * 100_000, "The body is not valid JSON."),
        (b"[]", "The body must be a JSON object."),
        (b'{"birthDate": "2024-02-30"}', None),
    ],
    ids=["broken", "not-utf8", "deeply-nested", "a-list", "impossible-date"],
)
async def test_bodies_the_relay_cannot_use_are_400(
    relay: tuple[str, PlatformHandle], raw: bytes, sentence: str | None
) -> None:
    url, _ = relay
    status, _, body = await _post(url, raw)
    assert status == 400
    assert body["issue"][0]["details"]["coding"][0]["code"] == "invalid-query"
    if sentence is not None:
        assert body["issue"][0]["diagnostics"] == sentence
    else:
        assert "'birthDate' must be a date written YYYY-MM-DD." in body["issue"][0]["diagnostics"]


async def test_insi_down_behind_the_platform_is_a_503_with_retry_after(
    relay: tuple[str, PlatformHandle],
) -> None:
    url, platform = relay
    set_insi_available(platform.app, False)
    status, headers, body = await _post(url, HOARAU)
    assert (status, headers["Retry-After"]) == (503, "30")
    assert body == _outcome(
        "transient", "insi-unavailable", "The INSi teleservice cannot be reached now."
    )
    set_insi_available(platform.app, True)
    assert (await _post(url, HOARAU))[0] == 200
    assert platform.app[INSI_KEY].queries == 2


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)
_near_valid = st.fixed_dictionaries(
    {},
    optional={
        "nir": st.one_of(st.just(HOARAU["nir"]), st.text(max_size=16), _json),
        "birthName": st.one_of(st.just("HOARAU"), st.text(max_size=8), _json),
        "firstNames": st.one_of(st.lists(st.text(max_size=8), max_size=3), _json),
        "birthDate": st.one_of(st.just("1990-05-14"), st.text(max_size=10), _json),
        "sex": st.one_of(st.sampled_from(["male", "female", "unknown"]), _json),
        "birthPlace": st.one_of(st.none(), st.just("97411"), st.text(max_size=5), _json),
    },
)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(body=st.one_of(_json, _near_valid, st.binary(max_size=64)))
async def test_the_relay_never_answers_500(relay: tuple[str, PlatformHandle], body: Any) -> None:
    url, _ = relay
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    status, headers, answer = await _post(url, raw)
    assert status in (200, 400, 404, 409)
    if status == 200:
        assert set(answer) == {"ins", "traits", "interrogatedAt"}
    else:
        assert headers["Content-Type"] == "application/fhir+json; charset=utf-8"
        assert answer["resourceType"] == "OperationOutcome"
        assert answer["issue"][0]["diagnostics"].endswith(".")
