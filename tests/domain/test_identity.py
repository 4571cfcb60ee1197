"""INS identity rules: statuses, OIDs, export only when qualified, test OIDs refused in production."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from app.domain.identity import (
    CollectionMethod,
    IdentifierKind,
    IdentityDocument,
    IdentityErrorReason,
    IdentityStatus,
    InsOid,
    InvalidIdentity,
    PatientIdentity,
    TestIdentityRefused,
    check_allowed_in_mode,
    ins_identifier_for_export,
    parse_nir,
    qualify_with_document,
    with_insi_result,
)
from app.domain.mode import RunMode
from tests.domain.builders import MARIE_NIR, identity

WHEN = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


def recup(oid: InsOid = InsOid.NIR) -> PatientIdentity:
    prov = identity()
    return with_insi_result(prov, parse_nir(MARIE_NIR), IdentifierKind.NIR, oid, prov.traits, WHEN)


def qual(oid: InsOid = InsOid.NIR) -> PatientIdentity:
    return qualify_with_document(
        recup(oid), IdentityDocument.PASSPORT, "assistant-7", date(2025, 3, 1)
    )


def test_oids() -> None:
    assert InsOid.NIR.value == "1.2.250.1.213.1.4.8"
    assert InsOid.NIA.value == "1.2.250.1.213.1.4.9"
    assert InsOid.TEST.value == "1.2.250.1.213.1.4.10"
    assert InsOid.DEMO.value == "1.2.250.1.213.1.4.11"
    assert InsOid.NIR.system == "urn:oid:1.2.250.1.213.1.4.8"
    assert [o.is_test for o in InsOid] == [False, False, True, True]


def test_card_read_is_provisional_and_not_exported() -> None:
    prov = identity()
    assert prov.status is IdentityStatus.PROV
    assert ins_identifier_for_export(prov, RunMode.PRODUCTION) is None


def test_insi_then_document_gives_qualified_and_exports() -> None:
    r = recup()
    assert r.status is IdentityStatus.RECUP
    assert r.insi_queried_at == WHEN
    assert ins_identifier_for_export(r, RunMode.PRODUCTION) is None
    q = qual()
    assert q.status is IdentityStatus.QUAL
    assert (q.verification_document, q.verified_by, q.validation_date) == (
        IdentityDocument.PASSPORT,
        "assistant-7",
        date(2025, 3, 1),
    )
    assert ins_identifier_for_export(q, RunMode.PRODUCTION) == ("1.2.250.1.213.1.4.8", MARIE_NIR)


def test_document_then_insi_gives_validated_then_qualified() -> None:
    v = qualify_with_document(
        identity(), IdentityDocument.NATIONAL_ID_CARD, "nurse-2", date(2025, 3, 1)
    )
    assert v.status is IdentityStatus.VALI
    assert ins_identifier_for_export(v, RunMode.PRODUCTION) is None
    q = with_insi_result(v, parse_nir(MARIE_NIR), IdentifierKind.NIR, InsOid.NIR, v.traits, WHEN)
    assert q.status is IdentityStatus.QUAL
    assert ins_identifier_for_export(q, RunMode.PRODUCTION) == (InsOid.NIR.value, MARIE_NIR)


def test_appli_carte_vitale_is_qualified_directly() -> None:
    apcv = PatientIdentity(
        traits=identity().traits,
        status=IdentityStatus.QUAL,
        method=CollectionMethod.AV,
        identifier=parse_nir(MARIE_NIR),
        ins_oid=InsOid.NIR,
    )
    assert ins_identifier_for_export(apcv, RunMode.PRODUCTION) == (InsOid.NIR.value, MARIE_NIR)


@pytest.mark.parametrize("oid", [InsOid.TEST, InsOid.DEMO])
def test_test_oid_refused_in_production(oid: InsOid) -> None:
    q = qual(oid)
    with pytest.raises(TestIdentityRefused) as caught:
        ins_identifier_for_export(q, RunMode.PRODUCTION)
    assert caught.value.reason is IdentityErrorReason.TEST_OID_IN_PRODUCTION
    assert str(caught.value) == (
        "This identity comes from a test or demonstration card; a cabin in production "
        "cannot accept it."
    )
    with pytest.raises(TestIdentityRefused):
        check_allowed_in_mode(recup(oid), RunMode.PRODUCTION)
    assert ins_identifier_for_export(q, RunMode.TEST) == (oid.value, MARIE_NIR)
    assert check_allowed_in_mode(q, RunMode.TEST) is q


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        (
            {"status": IdentityStatus.QUAL, "ins_oid": None},
            IdentityErrorReason.QUALIFIED_WITHOUT_INSI,
        ),
        ({"status": IdentityStatus.RECUP, "ins_oid": None}, IdentityErrorReason.NO_IDENTIFIER),
        (
            {"status": IdentityStatus.RECUP, "identifier": None, "ins_oid": InsOid.NIR},
            IdentityErrorReason.NO_IDENTIFIER,
        ),
        ({"status": IdentityStatus.VALI}, IdentityErrorReason.VALIDATED_WITHOUT_DOCUMENT),
        (
            {"status": IdentityStatus.VALI, "verification_document": IdentityDocument.PASSPORT},
            IdentityErrorReason.VALIDATED_WITHOUT_DOCUMENT,
        ),
        ({"ins_oid": InsOid.NIA}, IdentityErrorReason.OID_KIND_MISMATCH),
        (
            {"ins_oid": InsOid.NIR, "identifier_kind": IdentifierKind.NIA},
            IdentityErrorReason.OID_KIND_MISMATCH,
        ),
    ],
)
def test_inconsistent_identities_are_refused(
    changes: dict[str, object], reason: IdentityErrorReason
) -> None:
    with pytest.raises(InvalidIdentity) as caught:
        replace(identity(), **changes)  # type: ignore[arg-type]
    assert caught.value.reason is reason


def test_nia_under_its_own_oid() -> None:
    r = with_insi_result(
        identity(), parse_nir(MARIE_NIR), IdentifierKind.NIA, InsOid.NIA, identity().traits, WHEN
    )
    assert r.identifier_kind is IdentifierKind.NIA


def test_status_cannot_go_twice_through_the_same_check() -> None:
    with pytest.raises(InvalidIdentity) as caught:
        with_insi_result(
            recup(), parse_nir(MARIE_NIR), IdentifierKind.NIR, InsOid.NIR, identity().traits, WHEN
        )
    assert caught.value.reason is IdentityErrorReason.ALREADY_FROM_INSI
    with pytest.raises(InvalidIdentity) as caught:
        qualify_with_document(qual(), IdentityDocument.PASSPORT, "a", date(2025, 3, 1))
    assert caught.value.reason is IdentityErrorReason.ALREADY_CHECKED


def test_repr_shows_no_trait_and_no_number() -> None:
    q = qual()
    text = repr(q)
    for secret in ("DUPONT", "Marie", "1980", MARIE_NIR):
        assert secret not in text
    assert "QUAL" in text
    assert repr(q.traits) == "InsTraits()"
    assert q.traits.first_birth_first_name == "Marie"
    assert replace(q.traits, birth_first_names=()).first_birth_first_name == ""


def test_a_partial_date_of_birth_says_what_is_known_and_nothing_more() -> None:
    from app.domain.identity import BirthDatePrecision, InsTraits, PartialDateError, Sex

    def traits(born: date, precision: BirthDatePrecision) -> InsTraits:
        return InsTraits("DUPONT", ("Marie",), born, Sex.FEMALE, birth_date_precision=precision)

    assert traits(date(1950, 1, 1), BirthDatePrecision.YEAR).birth_date_known == "1950"
    assert traits(date(1950, 6, 1), BirthDatePrecision.MONTH).birth_date_known == "1950-06"
    whole = traits(date(1950, 6, 14), BirthDatePrecision.DAY)
    assert whole.birth_date_known == "1950-06-14" and whole.birth_date_complete
    assert not traits(date(1950, 1, 1), BirthDatePrecision.YEAR).birth_date_complete
    for born, precision in [
        (date(1950, 6, 1), BirthDatePrecision.YEAR),  # a month kept with an unknown month
        (date(1950, 6, 14), BirthDatePrecision.MONTH),  # a day kept with an unknown day
    ]:
        with pytest.raises(PartialDateError) as caught:
            traits(born, precision)
        assert str(caught.value) == (
            "A date of birth known only in part must hold the first day of its period."
        )
