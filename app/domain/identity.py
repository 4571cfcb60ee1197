"""The patient's identity as the national identity referential (INS) sees it.

Why it is modelled so strictly: the doctor must know *how sure* the kiosk is
of who the patient is. A card read gives a provisional identity (PROV); the
INSi teleservice gives the INS (RECUP); a professional's check of a
high-trust document makes it validated (VALI) or, with INSi, qualified
(QUAL); the appli carte Vitale gives a qualified identity directly. Only a
qualified identity may carry the INS identifier out of the kiosk, and a
cabin in production refuses the test and demo OIDs used by test cards.

Nothing here prints a trait: every field holding a health-related datum is
left out of repr, because objects end up in logs by accident.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace
from datetime import date, datetime

from app.domain.errors import DomainError
from app.domain.mode import RunMode
from app.domain.nir import InvalidNir, Nir, NirErrorReason, NirSex, nir_key, parse_nir

__all__ = [
    "BirthDatePrecision",
    "CollectionMethod",
    "IdentifierKind",
    "IdentityErrorReason",
    "IdentityDocument",
    "IdentityStatus",
    "InsOid",
    "InsTraits",
    "InvalidIdentity",
    "InvalidNir",
    "Nir",
    "NirErrorReason",
    "NirSex",
    "PartialDateError",
    "PatientIdentity",
    "Sex",
    "TestIdentityRefused",
    "check_allowed_in_mode",
    "ins_identifier_for_export",
    "nir_key",
    "parse_nir",
    "qualify_with_document",
    "with_insi_result",
]


class IdentityStatus(enum.StrEnum):
    """fr-core-cs-identity-status."""

    PROV = "PROV"  # not from INSi, not checked on a document
    RECUP = "RECUP"  # from INSi, not checked on a document
    VALI = "VALI"  # checked on a high-trust document, not from INSi
    QUAL = "QUAL"  # from INSi and checked on a document (or appli carte Vitale)


class CollectionMethod(enum.StrEnum):
    """fr-core-cs-method-collection: how the identity was collected."""

    SM = "SM"  # manual entry by a professional
    CV = "CV"  # carte Vitale
    AV = "AV"  # appli carte Vitale
    INSI = "INSI"  # INSi teleservice
    CB = "CB"  # INS datamatrix
    RFID = "RFID"


class Sex(enum.StrEnum):
    """Administrative sex as FHIR writes it."""

    MALE = "male"
    FEMALE = "female"
    UNKNOWN = "unknown"


class IdentityDocument(enum.StrEnum):
    """High-trust documents that may validate an identity."""

    PASSPORT = "passport"
    NATIONAL_ID_CARD = "national-id-card"
    RESIDENCE_PERMIT = "residence-permit"


class IdentifierKind(enum.StrEnum):
    NIR = "NIR"  # the patient's own registration number
    NIA = "NIA"  # a waiting number given while registration is under way


class InsOid(enum.StrEnum):
    """Identifier systems of the INS (the OID says NIR/NIA and real/test)."""

    NIR = "1.2.250.1.213.1.4.8"
    NIA = "1.2.250.1.213.1.4.9"
    TEST = "1.2.250.1.213.1.4.10"
    DEMO = "1.2.250.1.213.1.4.11"

    @property
    def is_test(self) -> bool:
        return self in (InsOid.TEST, InsOid.DEMO)

    @property
    def system(self) -> str:
        return f"urn:oid:{self.value}"


class IdentityErrorReason(enum.StrEnum):
    TEST_OID_IN_PRODUCTION = "test-oid-in-production"
    QUALIFIED_WITHOUT_INSI = "qualified-without-insi"
    VALIDATED_WITHOUT_DOCUMENT = "validated-without-document"
    NO_IDENTIFIER = "no-identifier"
    OID_KIND_MISMATCH = "oid-kind-mismatch"
    ALREADY_FROM_INSI = "already-from-insi"
    ALREADY_CHECKED = "already-checked"


_IDENTITY_SENTENCES: dict[IdentityErrorReason, str] = {
    IdentityErrorReason.TEST_OID_IN_PRODUCTION: (
        "This identity comes from a test or demonstration card; a cabin in production "
        "cannot accept it."
    ),
    IdentityErrorReason.QUALIFIED_WITHOUT_INSI: (
        "A qualified identity needs the INS from the INSi teleservice (or the appli carte "
        "Vitale) and an identifier."
    ),
    IdentityErrorReason.VALIDATED_WITHOUT_DOCUMENT: (
        "A validated or qualified identity needs the document checked and the professional "
        "who checked it."
    ),
    IdentityErrorReason.NO_IDENTIFIER: "An identity from INSi needs its INS identifier.",
    IdentityErrorReason.OID_KIND_MISMATCH: (
        "The identifier system does not match the kind of identifier (NIR or NIA)."
    ),
    IdentityErrorReason.ALREADY_FROM_INSI: "This identity already comes from INSi.",
    IdentityErrorReason.ALREADY_CHECKED: "This identity has already been checked on a document.",
}


class InvalidIdentity(DomainError):
    """An identity that breaks an INS rule; `reason` says which."""

    def __init__(self, reason: IdentityErrorReason) -> None:
        super().__init__(_IDENTITY_SENTENCES[reason])
        self.reason = reason


class TestIdentityRefused(InvalidIdentity):
    """A test/demo OID met in a production cabin."""

    __test__ = False  # its name starts with "Test"; pytest must not collect it

    def __init__(self) -> None:
        super().__init__(IdentityErrorReason.TEST_OID_IN_PRODUCTION)


class BirthDatePrecision(enum.StrEnum):
    """How much of a date of birth is known.

    Why: civil status has incomplete dates (day or month "00", often called
    lunar dates); a card carries them as they are. Inventing the missing part
    (1 January) would send a false trait to INSi, to the doctor and to the
    record. The date then holds the first day of the known period, and this
    says which part is real.
    """

    DAY = "day"  # the whole date is known
    MONTH = "month"  # year and month known, day unknown
    YEAR = "year"  # only the year is known


class PartialDateError(DomainError):
    """A partial date whose unknown part is not the first day/month of its period."""


@dataclass(frozen=True, slots=True)
class InsTraits:
    """The INS "traits stricts" (plus the first name used, which is not strict).

    A card read gives only some of them, so the place of birth may be None
    until INSi or a document fills it in.
    """

    birth_name: str = field(repr=False)
    birth_first_names: tuple[str, ...] = field(repr=False)
    birth_date: date = field(repr=False)
    sex: Sex = field(repr=False)
    birth_place_insee: str | None = field(repr=False, default=None)
    first_name_used: str | None = field(repr=False, default=None)
    used_name: str | None = field(repr=False, default=None)
    birth_date_precision: BirthDatePrecision = field(repr=False, default=BirthDatePrecision.DAY)

    def __post_init__(self) -> None:
        d, p = self.birth_date, self.birth_date_precision
        if (p is BirthDatePrecision.MONTH and d.day != 1) or (
            p is BirthDatePrecision.YEAR and (d.day, d.month) != (1, 1)
        ):
            raise PartialDateError(
                "A date of birth known only in part must hold the first day of its period."
            )

    @property
    def first_birth_first_name(self) -> str:
        return self.birth_first_names[0] if self.birth_first_names else ""

    @property
    def birth_date_complete(self) -> bool:
        return self.birth_date_precision is BirthDatePrecision.DAY

    @property
    def birth_date_known(self) -> str:
        """The known part only, ISO 8601 reduced precision (FHIR date): 1950, 1950-05, 1950-05-14."""
        iso = self.birth_date.isoformat()
        return {
            BirthDatePrecision.DAY: iso,
            BirthDatePrecision.MONTH: iso[:7],
            BirthDatePrecision.YEAR: iso[:4],
        }[self.birth_date_precision]


@dataclass(frozen=True, slots=True)
class PatientIdentity:
    """One patient's identity, with how sure we are and how we got there.

    `ins_oid` is the system the identifier came under (from INSi, the appli
    carte Vitale or a test card); None for an identity that never met INSi.
    """

    traits: InsTraits = field(repr=False)
    status: IdentityStatus
    method: CollectionMethod
    identifier: Nir | None = field(repr=False, default=None)
    identifier_kind: IdentifierKind = IdentifierKind.NIR
    ins_oid: InsOid | None = None
    verified_by: str | None = None  # the professional's account id
    verification_document: IdentityDocument | None = None
    validation_date: date | None = None
    insi_queried_at: datetime | None = None

    def __post_init__(self) -> None:
        from_insi = self.status in (IdentityStatus.RECUP, IdentityStatus.QUAL)
        checked = self.status in (IdentityStatus.VALI, IdentityStatus.QUAL)
        via_apcv = self.method is CollectionMethod.AV
        if from_insi and (self.identifier is None or self.ins_oid is None):
            raise InvalidIdentity(
                IdentityErrorReason.QUALIFIED_WITHOUT_INSI
                if self.status is IdentityStatus.QUAL
                else IdentityErrorReason.NO_IDENTIFIER
            )
        if checked and not via_apcv:
            if self.verification_document is None or self.verified_by is None:
                raise InvalidIdentity(IdentityErrorReason.VALIDATED_WITHOUT_DOCUMENT)
        if self.ins_oid is not None and not self.ins_oid.is_test:
            expected = InsOid.NIR if self.identifier_kind is IdentifierKind.NIR else InsOid.NIA
            if self.ins_oid is not expected:
                raise InvalidIdentity(IdentityErrorReason.OID_KIND_MISMATCH)

    @property
    def is_qualified(self) -> bool:
        return self.status is IdentityStatus.QUAL


def check_allowed_in_mode(identity: PatientIdentity, mode: RunMode) -> PatientIdentity:
    """Refuse a test/demo identity in a production cabin, as soon as it is read."""
    if mode is RunMode.PRODUCTION and identity.ins_oid is not None and identity.ins_oid.is_test:
        raise TestIdentityRefused()
    return identity


def ins_identifier_for_export(identity: PatientIdentity, mode: RunMode) -> tuple[str, str] | None:
    """The (OID, value) pair to send with the patient, or None when it must stay home.

    Only a qualified identity carries the INS out; anything else travels with
    its traits and status only, so the platform never trusts an unchecked INS.
    """
    check_allowed_in_mode(identity, mode)
    if not identity.is_qualified or identity.identifier is None or identity.ins_oid is None:
        return None
    return identity.ins_oid.value, identity.identifier.value


def with_insi_result(
    identity: PatientIdentity,
    ins: Nir,
    kind: IdentifierKind,
    oid: InsOid,
    traits: InsTraits,
    queried_at: datetime,
) -> PatientIdentity:
    """The identity once INSi has answered: PROV → RECUP, VALI → QUAL.

    INSi's traits replace the ones typed or read from the card (they are the
    reference ones).
    """
    if identity.status in (IdentityStatus.RECUP, IdentityStatus.QUAL):
        raise InvalidIdentity(IdentityErrorReason.ALREADY_FROM_INSI)
    status = IdentityStatus.QUAL if identity.status is IdentityStatus.VALI else IdentityStatus.RECUP
    return replace(
        identity,
        traits=traits,
        identifier=ins,
        identifier_kind=kind,
        ins_oid=oid,
        status=status,
        insi_queried_at=queried_at,
    )


def qualify_with_document(
    identity: PatientIdentity, document: IdentityDocument, verified_by: str, on: date
) -> PatientIdentity:
    """The identity once a professional has checked a document: PROV → VALI, RECUP → QUAL."""
    if identity.status in (IdentityStatus.VALI, IdentityStatus.QUAL):
        raise InvalidIdentity(IdentityErrorReason.ALREADY_CHECKED)
    status = IdentityStatus.QUAL if identity.status is IdentityStatus.RECUP else IdentityStatus.VALI
    return replace(
        identity,
        status=status,
        verification_document=document,
        verified_by=verified_by,
        validation_date=on,
    )
