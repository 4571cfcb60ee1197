"""The INS datamatrix printed on paper that holds health data about a qualified identity.

Why: the INS rules (ANS, "Guide d'implémentation de l'INS", and its datamatrix
specification) ask that a document holding health data, printed for a patient
whose identity is qualified, carry the INS and the strict traits in a
DataMatrix (ECC 200), so that the next professional reads the identity without
typing it. Only a qualified identity qualifies: a provisional or recovered one
is printed without INS and without datamatrix (the INS never leaves the kiosk
for an unchecked identity, docs/identity.md).

The content follows the ANS "Datamatrix INS" layout, built on the 2D-Doc
grammar (ANTS): a 26-character header (marker "IS", version "01", then zeros:
the symbol is not signed), then one field per data identifier — S1 the INS
matricule (15 characters), S2 its OID, S3 the birth first names, S4 the birth
name, S5 the sex (M, F or I), S6 the birth date (DD-MM-YYYY), S7 the INSEE code
of the birth place (5 characters, only when known). A variable-length field
shorter than its maximum ends with the group separator (GS, 0x1D); a
fixed-length one does not. Checked against an independent implementation in a
hospital information system that writes and reads this datamatrix (the same
header, identifiers, order, separators and date format); the table below is the
one place to change if the ANS publishes a new version.

Encoding: zxing-cpp (already the kiosk's QR reader, pinned in pyproject) writes
the ECC 200 symbol; this module only returns its modules, black or white, so
the PDF writer draws them as squares (vector, sharp on any printer).
"""

from __future__ import annotations

from dataclasses import dataclass

from app.domain.identity import PatientIdentity, Sex

GS = "\x1d"
HEADER = "IS" + "01" + "0" * 22
"""The INS datamatrix header: marker, version, and no issuer, certificate or dates (unsigned)."""

INS_FIELDS: tuple[tuple[str, str, int, bool], ...] = (
    ("S1", "matricule INS", 15, True),
    ("S2", "OID", 20, False),
    ("S3", "prénoms de naissance", 100, False),
    ("S4", "nom de naissance", 100, False),
    ("S5", "sexe", 1, True),
    ("S6", "date de naissance (JJ-MM-AAAA)", 10, True),
    ("S7", "code INSEE du lieu de naissance", 5, True),
)
"""Data identifier → what it holds, its maximum length, and whether that length is fixed
(no separator after it); written in this order, S7 only when the birth place is known."""

_SEX = {Sex.MALE: "M", Sex.FEMALE: "F", Sex.UNKNOWN: "I"}


class NotQualified(ValueError):
    """The identity is not qualified (or has no INS): no datamatrix may be printed."""


@dataclass(frozen=True)
class InsDatamatrix:
    payload: str  # the symbol's text (identity: never logged)
    modules: tuple[tuple[bool, ...], ...]  # rows of modules, True = black

    def __repr__(self) -> str:
        return f"InsDatamatrix({len(self.modules)}×{len(self.modules[0]) if self.modules else 0})"


def printable_ins(identity: PatientIdentity | None) -> bool:
    """True when the paper carries the INS (and so its datamatrix): a qualified identity with
    its INS, whose traits fit the datamatrix's fields (a longer name is never cut: the paper
    is then printed as for an unqualified identity, without the INS)."""
    return identity is not None and _values(identity) is not None


def _values(identity: PatientIdentity) -> dict[str, str] | None:
    if not identity.is_qualified or identity.identifier is None or identity.ins_oid is None:
        return None
    t = identity.traits
    values = {
        "S1": identity.identifier.value,
        "S2": identity.ins_oid.value,
        "S3": " ".join(t.birth_first_names),
        "S4": t.birth_name,
        "S5": _SEX[t.sex],
        "S6": t.birth_date.strftime("%d-%m-%Y"),
        "S7": t.birth_place_insee or "",
    }
    values = {key: _clean(value) for key, value in values.items()}
    for key, _what, longest, fixed in INS_FIELDS:
        value = values[key]
        if len(value) > longest or (fixed and key != "S7" and len(value) != longest):
            return None
    return values


def ins_payload(identity: PatientIdentity) -> str:
    """The datamatrix's text for a qualified identity; raises NotQualified otherwise."""
    values = _values(identity)
    if values is None:
        raise NotQualified(
            "Only a qualified identity with its INS, whose traits fit the datamatrix, carries it."
        )
    fields: list[str] = []
    for key, _what, longest, fixed in INS_FIELDS:
        value = values[key]
        if key == "S7" and len(value) != longest:
            continue  # the birth place only when its INSEE code is known
        ends = fixed or len(value) == longest  # a full variable field needs no separator
        fields.append(f"{key}{value}" + ("" if ends else GS))
    return HEADER + "".join(fields).removesuffix(GS)


def _clean(value: str) -> str:
    """No separator inside a value (a GS would cut the field)."""
    return value.replace(GS, " ").strip()


def ins_datamatrix(identity: PatientIdentity) -> InsDatamatrix:
    """The symbol for a qualified identity (ECC 200, square)."""
    import numpy as np
    import zxingcpp

    payload = ins_payload(identity)
    # Square only: unforced, zint may pick a DMRE rectangle (ISO 21471) many readers refuse.
    symbol = zxingcpp.create_barcode(payload, zxingcpp.BarcodeFormat.DataMatrix, force_square=True)
    pixels = np.array(symbol.to_image(scale=1, add_quiet_zones=False))
    modules = tuple(tuple(bool(v == 0) for v in row) for row in pixels)
    return InsDatamatrix(payload, modules)
