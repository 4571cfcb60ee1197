"""`PlatformInsi` (the controller's InsiPort) against the real reference platform."""

from __future__ import annotations

import json
import logging
import socket
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.controller.ports import InsiPort
from app.domain.identity import (
    CollectionMethod,
    IdentifierKind,
    IdentityDocument,
    IdentityStatus,
    InsOid,
    InsTraits,
    PatientIdentity,
    Sex,
    parse_nir,
    qualify_with_document,
)
from app.sync.insi_client import (
    InsiAnswer,
    InsiAnswerInvalid,
    InsiErrorReason,
    InsiRefused,
    InsiUnavailable,
    PlatformInsi,
    decide,
    parse_answer,
    query_body,
)
from devtools.faultproxy import Fault, FaultProxy, always
from devtools.platform.insi import INSI_KEY, InsiDirectory, InsRecord, install, set_insi_available
from devtools.platform.testing import PlatformHandle, running_platform
from kiosk_config import parse_config
from kiosk_demo.cards import FAMILY, SINGLE_ADULT
from tests.sync.test_tls import config as tls_config
from tests.sync.test_tls import issue, make_ca, server_context, write_pair

AT = datetime(2026, 11, 23, 9, 30, 5, tzinfo=UTC)
HOARAU_NIR = SINGLE_ADULT.beneficiaries[0].nir
HOARAU_INS_TRAITS = InsTraits(
    birth_name="HOARAU",
    birth_first_names=("MARIE-JOSEE", "ANNE"),
    birth_date=date(1990, 5, 14),
    sex=Sex.FEMALE,
    birth_place_insee="97411",
)


class Clock:
    def __init__(self) -> None:
        self.t = AT + timedelta(seconds=2)

    def now(self) -> datetime:
        return self.t


def card_identity(
    nir: str = HOARAU_NIR,
    name: str = "HOARAU",
    first_names: tuple[str, ...] = ("MARIE", "JOSEE"),
    born: date = date(1990, 5, 14),
    sex: Sex = Sex.FEMALE,
) -> PatientIdentity:
    """What the controller builds from a card read (PROV, method CV)."""
    return PatientIdentity(
        traits=InsTraits(birth_name=name, birth_first_names=first_names, birth_date=born, sex=sex),
        status=IdentityStatus.PROV,
        method=CollectionMethod.CV,
        identifier=parse_nir(nir),
    )


@pytest.fixture
async def platform(tmp_path: Path) -> AsyncIterator[tuple[str, PlatformHandle]]:
    def extension(app: Any) -> None:
        install(app, now=lambda: AT)

    async with running_platform(tmp_path, extensions=(extension,)) as running:
        yield running


async def test_a_card_identity_becomes_recup_with_the_ins_traits_and_oid(
    platform: tuple[str, PlatformHandle],
) -> None:
    url, _ = platform
    insi: InsiPort = PlatformInsi(url, clock=Clock())
    answer = await insi.query(card_identity(), AT)
    assert answer == PatientIdentity(
        traits=HOARAU_INS_TRAITS,
        status=IdentityStatus.RECUP,
        method=CollectionMethod.CV,
        identifier=parse_nir(HOARAU_NIR),
        identifier_kind=IdentifierKind.NIR,
        ins_oid=InsOid.TEST,
        insi_queried_at=AT,
    )


async def test_a_child_on_the_card_gets_its_own_nir(platform: tuple[str, PlatformHandle]) -> None:
    url, _ = platform
    holder, child = FAMILY.beneficiaries[0], FAMILY.beneficiaries[1]
    # An older card lists the children under the holder's NIR.
    presented = card_identity(holder.nir, "BERNARD", ("LEA",), date(2012, 6, 23), Sex.FEMALE)
    answer = await PlatformInsi(url, clock=Clock()).query(presented, AT)
    assert answer is not None
    assert answer.identifier == parse_nir(child.nir)
    assert answer.traits.birth_first_names == ("LEA", "CAMILLE")
    assert answer.traits.birth_place_insee == "75056"
    assert answer.status is IdentityStatus.RECUP


async def test_a_validated_identity_becomes_qualified(
    platform: tuple[str, PlatformHandle],
) -> None:
    url, _ = platform
    manual = PatientIdentity(
        traits=InsTraits(
            birth_name="HOARAU",
            birth_first_names=("MARIE",),
            birth_date=date(1990, 5, 14),
            sex=Sex.FEMALE,
            used_name="PAYET",
            first_name_used="MARIE-JO",
        ),
        status=IdentityStatus.PROV,
        method=CollectionMethod.SM,
    )
    vali = qualify_with_document(manual, IdentityDocument.PASSPORT, "pharma-1", AT.date())
    assert vali.status is IdentityStatus.VALI
    answer = await PlatformInsi(url, clock=Clock()).query(vali, AT)
    assert answer == replace(
        vali,
        traits=replace(HOARAU_INS_TRAITS, used_name="PAYET", first_name_used="MARIE-JO"),
        status=IdentityStatus.QUAL,
        identifier=parse_nir(HOARAU_NIR),
        ins_oid=InsOid.TEST,
        insi_queried_at=AT,
    )
    assert answer.verified_by == "pharma-1"
    assert answer.verification_document is IdentityDocument.PASSPORT


async def test_an_unknown_person_is_none(platform: tuple[str, PlatformHandle]) -> None:
    url, _ = platform
    stranger = card_identity("190017511100194", "NOBODY", ("JEAN",), date(1990, 1, 1), Sex.MALE)
    assert await PlatformInsi(url, clock=Clock()).query(stranger, AT) is None


async def test_traits_that_do_not_match_are_refused_with_a_reason(
    platform: tuple[str, PlatformHandle],
) -> None:
    url, _ = platform
    wrong_date = card_identity(born=date(1990, 5, 15))
    with pytest.raises(InsiRefused) as err:
        await PlatformInsi(url, clock=Clock()).query(wrong_date, AT)
    assert (err.value.reason, err.value.status) == (InsiErrorReason.TRAITS_MISMATCH, 409)
    assert str(err.value) == "INSi knows this NIR, but the traits given do not match its identity."


async def test_several_candidates_are_refused_with_a_reason(tmp_path: Path) -> None:
    holder = FAMILY.beneficiaries[0].nir
    twins = [
        InsRecord(
            ins=ins,
            kind="NIR",
            oid="1.2.250.1.213.1.4.10",
            birth_name="BERNARD",
            birth_first_names=names,
            birth_date=date(2012, 6, 23),
            sex="female",
            birth_place="75056",
            presented_under=frozenset({holder}),
        )
        for ins, names in ((FAMILY.beneficiaries[1].nir, ("LEA",)), ("212067505603236", ("LEA",)))
    ]

    def extension(app: Any) -> None:
        install(app, directory=InsiDirectory(twins))

    presented = card_identity(holder, "BERNARD", ("LEA",), date(2012, 6, 23), Sex.FEMALE)
    async with running_platform(tmp_path, extensions=(extension,)) as (url, _):
        with pytest.raises(InsiRefused) as err:
            await PlatformInsi(url, clock=Clock()).query(presented, AT)
    assert err.value.reason is InsiErrorReason.SEVERAL_CANDIDATES
    assert str(err.value) == (
        "INSi found several people with these traits; the identity stays provisional."
    )


async def test_a_platform_that_is_down_is_unavailable() -> None:
    with socket.socket() as s:  # a loopback port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(InsiUnavailable) as err:
        await PlatformInsi(f"http://127.0.0.1:{port}", clock=Clock()).query(card_identity(), AT)
    assert err.value.reason is InsiErrorReason.CONNECTION
    assert str(err.value) == "The connection to the platform's INSi relay failed."


async def test_insi_down_behind_the_platform_is_unavailable(
    platform: tuple[str, PlatformHandle],
) -> None:
    url, handle = platform
    set_insi_available(handle.app, False)
    with pytest.raises(InsiUnavailable) as err:
        await PlatformInsi(url, clock=Clock()).query(card_identity(), AT)
    assert (err.value.reason, err.value.status) == (InsiErrorReason.SERVER_ERROR, 503)
    assert str(err.value) == "The platform or the INSi teleservice failed (503)."


@pytest.mark.parametrize(
    ("fault", "reason", "status"),
    [
        (Fault.HTTP_500, InsiErrorReason.SERVER_ERROR, 500),
        (Fault.HANG, InsiErrorReason.TIMEOUT, None),
        (Fault.RESET, InsiErrorReason.CONNECTION, None),
        (Fault.DROP_RESPONSE, InsiErrorReason.CONNECTION, None),
    ],
)
async def test_network_faults_are_unavailable(
    platform: tuple[str, PlatformHandle],
    fault: Fault,
    reason: InsiErrorReason,
    status: int | None,
) -> None:
    _, handle = platform
    async with FaultProxy(handle.port, always(fault), max_hang_s=5) as proxy:
        insi = PlatformInsi(f"http://127.0.0.1:{proxy.port}", timeout_s=0.3, clock=Clock())
        with pytest.raises(InsiUnavailable) as err:
            await insi.query(card_identity(), AT)
    assert (err.value.reason, err.value.status) == (reason, status)


async def test_a_platform_without_the_relay_is_unavailable_not_unknown(tmp_path: Path) -> None:
    async with running_platform(tmp_path) as (url, _):
        with pytest.raises(InsiUnavailable) as err:
            await PlatformInsi(url, clock=Clock()).query(card_identity(), AT)
    assert (err.value.reason, err.value.status) == (InsiErrorReason.NOT_SUPPORTED, 404)


async def test_an_identity_already_from_insi_is_not_asked_again(
    platform: tuple[str, PlatformHandle],
) -> None:
    url, handle = platform
    insi = PlatformInsi(url, clock=Clock())
    recup = await insi.query(card_identity(), AT)
    assert recup is not None
    with pytest.raises(InsiRefused) as err:
        await insi.query(recup, AT)
    assert err.value.reason is InsiErrorReason.ALREADY_FROM_INSI
    assert handle.app[INSI_KEY].queries == 1


async def test_the_log_has_status_and_lengths_never_a_trait(
    platform: tuple[str, PlatformHandle], caplog: pytest.LogCaptureFixture
) -> None:
    url, _ = platform
    caplog.set_level(logging.DEBUG)
    await PlatformInsi(url, clock=Clock()).query(card_identity(), AT)
    with pytest.raises(InsiRefused):
        await PlatformInsi(url, clock=Clock()).query(card_identity(born=date(1990, 5, 15)), AT)
    mine = [r.getMessage() for r in caplog.records if r.name == "app.sync.insi_client"]
    sent = len(query_body(card_identity()))
    assert sent == 127
    assert mine == [
        f"INSi query: status 200, {sent} bytes sent, 251 bytes received, 0 ms",
        f"INSi query: status 409, {sent} bytes sent, 258 bytes received, 0 ms",
    ]
    for secret in (HOARAU_NIR, "HOARAU", "MARIE", "1990", "97411"):
        assert secret not in caplog.text


async def test_tls_from_the_site_configuration(tmp_path: Path) -> None:
    folder = tmp_path / "pki"
    folder.mkdir()
    ca = make_ca("Telecabine test CA")
    ca_path, _ = write_pair(folder, "ca", ca)
    pki = {"ca": ca_path}
    pki["server_cert"], pki["server_key"] = write_pair(
        folder, "server", issue(ca, "p", server=True)
    )
    cert, key = write_pair(folder, "client", issue(ca, "CAB-T1", server=False))
    other_ca, _ = write_pair(folder, "other", make_ca("Somebody else's CA"))

    def extension(app: Any) -> None:
        install(app, now=lambda: AT)

    async with running_platform(tmp_path, tls=server_context(pki), extensions=(extension,)) as (
        url,
        _,
    ):
        good = parse_config(tls_config(url, ca_path, cert, key)).platform
        answer = await PlatformInsi.from_config(good, clock=Clock()).query(card_identity(), AT)
        assert answer is not None and answer.status is IdentityStatus.RECUP
        wrong = parse_config(tls_config(url, other_ca, cert, key)).platform
        with pytest.raises(InsiUnavailable) as err:
            await PlatformInsi.from_config(wrong, clock=Clock()).query(card_identity(), AT)
        assert err.value.reason is InsiErrorReason.TLS


def test_statuses_the_relay_does_not_use() -> None:
    who = card_identity()
    cases = {
        401: InsiErrorReason.CREDENTIALS_REFUSED,
        403: InsiErrorReason.CREDENTIALS_REFUSED,
        302: InsiErrorReason.UNEXPECTED_STATUS,
        429: InsiErrorReason.UNEXPECTED_STATUS,
        502: InsiErrorReason.SERVER_ERROR,
    }
    for status, reason in cases.items():
        with pytest.raises(InsiUnavailable) as err:
            decide(who, status, b"", AT)
        assert (err.value.reason, err.value.status) == (reason, status)
    with pytest.raises(InsiRefused) as refused:
        decide(who, 400, b"{}", AT)
    assert str(refused.value) == "The INSi relay refused the query as malformed (400)."


GOOD = (
    b'{"ins": {"value": "' + HOARAU_NIR.encode() + b'", "kind": "NIR",'
    b' "oid": "1.2.250.1.213.1.4.10"},'
    b' "traits": {"birthName": "HOARAU", "birthFirstNames": ["MARIE-JOSEE"],'
    b' "birthDate": "1990-05-14", "sex": "female", "birthPlace": null}}'
)


def test_an_answer_without_interrogation_date_takes_the_kiosks_clock() -> None:
    answer = decide(card_identity(), 200, GOOD, AT + timedelta(seconds=9))
    assert answer is not None
    assert answer.insi_queried_at == AT + timedelta(seconds=9)
    assert answer.traits.birth_place_insee is None


@pytest.mark.parametrize(
    ("body", "sentence"),
    [
        (b"[1]", "the body is not a JSON object"),
        (b'{"ins": {}}', "'traits' is missing"),
        (
            b'{"ins": {"value": "190", "kind": "NIR", "oid": "x"}, "traits": {}}',
            "'ins.value' is not a valid NIR or NIA (length)",
        ),
        (
            b'{"ins": {"value": "' + HOARAU_NIR.encode() + b'", "kind": "NIA",'
            b' "oid": "1.2.250.1.213.1.4.8"}, "traits": {"birthName": "A", "birthFirstNames":'
            b' ["B"], "birthDate": "1990-05-14", "sex": "female"}}',
            "the INS breaks an identity rule (oid-kind-mismatch)",
        ),
        (
            GOOD.replace(b"}}", b'}, "interrogatedAt": "2026-11-23T09:30:05"}'),
            "'interrogatedAt' must carry its UTC offset",
        ),
    ],
    ids=["not-object", "no-traits", "bad-ins", "oid-kind", "naive-date"],
)
def test_unusable_answers_are_typed(body: bytes, sentence: str) -> None:
    with pytest.raises(InsiAnswerInvalid) as err:
        decide(card_identity(), 200, body, AT)
    assert str(err.value) == f"The INSi relay's answer cannot be used: {sentence}."
    assert err.value.reason is InsiErrorReason.INVALID_ANSWER


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(
    body=st.one_of(
        st.binary(max_size=80),
        _json.map(lambda v: json.dumps(v).encode()),
        st.builds(
            lambda ins, traits, at: json.dumps(
                {"ins": ins, "traits": traits, "interrogatedAt": at}
            ).encode(),
            st.fixed_dictionaries(
                {},
                optional={
                    "value": st.one_of(st.just(HOARAU_NIR), st.text(max_size=16)),
                    "kind": st.sampled_from(["NIR", "NIA", "X"]),
                    "oid": st.sampled_from([o.value for o in InsOid] + ["1.2"]),
                },
            ),
            st.fixed_dictionaries(
                {},
                optional={
                    "birthName": st.one_of(st.just("X"), _json),
                    "birthFirstNames": st.one_of(st.just(["Y"]), _json),
                    "birthDate": st.one_of(st.just("2000-01-31"), st.text(max_size=10)),
                    "sex": st.sampled_from(["male", "female", "unknown", "M"]),
                    "birthPlace": st.one_of(st.none(), st.just("2A004"), _json),
                },
            ),
            st.one_of(st.none(), st.just("2026-11-23T09:30:05Z"), st.text(max_size=25)),
        ),
    )
)
def test_the_answer_parser_raises_only_its_typed_error(body: bytes) -> None:
    try:
        answer = parse_answer(body)
    except InsiAnswerInvalid as exc:
        assert str(exc).startswith("The INSi relay's answer cannot be used: ")
    else:
        assert isinstance(answer, InsiAnswer)
        assert answer.traits.birth_first_names


def test_an_incomplete_date_of_birth_is_never_sent_to_insi() -> None:
    import dataclasses

    from app.domain.identity import BirthDatePrecision

    identity = card_identity(born=date(1950, 1, 1))
    partial = dataclasses.replace(
        identity,
        traits=dataclasses.replace(identity.traits, birth_date_precision=BirthDatePrecision.YEAR),
    )
    with pytest.raises(InsiRefused) as refused:
        query_body(partial)
    assert refused.value.reason is InsiErrorReason.INCOMPLETE_BIRTH_DATE
    assert str(refused.value) == (
        "The date of birth is incomplete; INSi is not asked with a made-up day or month."
    )
    assert b'"1950-01-01"' in query_body(identity)  # a full date still goes
