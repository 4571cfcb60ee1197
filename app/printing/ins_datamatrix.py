"""The INS datamatrix printed on paper that holds health data about a qualified identity.

Why: the INS rules (ANS, "Guide d'implémentation de l'INS", and its datamatrix
specification) ask that a document holding health data, printed for a patient
whose identity is qualified, carry the INS and the strict traits in a
DataMatrix (ECC 200), so that the next professional reads the identity without
typing it. Only a qualified identity qualifies: a provisional or recovered one
is printed without INS and without datamatrix (the INS never leaves the kiosk
for an unchecked identity, docs/identity.md).

The content follows the 2D-Doc layout (ANTS) that the ANS specification builds
on: a header, then one field per data identifier, a variable-length field ended
by the group separator (GS, 0x1D). The identifiers below are one table; they
are our reading of the ANS specification (PROTOCOLS.md marks the subject
"verify"): check them against the current "Datamatrix INS" specification before
a cabin in production prints, and change this table only.

Encoding: zxing-cpp (already the kiosk's QR reader, pinned in pyproject) writes
the ECC 200 symbol; this module only returns its modules, black or white, so
the PDF writer draws them as squares (vector, sharp on any printer).
"""

from __future__ import annotations

from dataclasses import dataclass

from app.domain.identity import PatientIdentity, Sex

GS = "\x1d"
HEADER = "DC04" + "FR00" + "0000" + "0000" + "0000" + "B0" + "01" + "FR"
"""2D-Doc header: marker and version, issuer, certificate, dates (none: the symbol
is not signed, as the ANS specification allows), document type, perimeter, country."""

INS_FIELDS: tuple[tuple[str, str], ...] = (
    ("S1", "matricule INS"),
    ("S2", "OID"),
    ("S3", "prénoms de naissance"),
    ("S4", "sexe"),
    ("S5", "date de naissance"),
    ("S6", "lieu de naissance"),
    ("S7", "nom de naissance"),
)
"""Data identifier → what it holds, in the order written."""

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
    """True when the paper carries the INS (and so its datamatrix)."""
    return (
        identity is not None
        and identity.is_qualified
        and identity.identifier is not None
        and identity.ins_oid is not None
    )


def ins_payload(identity: PatientIdentity) -> str:
    """The datamatrix's text for a qualified identity; raises NotQualified otherwise."""
    if not printable_ins(identity) or identity.identifier is None or identity.ins_oid is None:
        raise NotQualified("Only a qualified identity with its INS carries the INS datamatrix.")
    t = identity.traits
    values = {
        "S1": identity.identifier.value,
        "S2": identity.ins_oid.value,
        "S3": " ".join(t.birth_first_names),
        "S4": _SEX[t.sex],
        "S5": t.birth_date.strftime("%d%m%Y"),
        "S6": t.birth_place_insee or "",
        "S7": t.birth_name,
    }
    fields = [f"{key}{_clean(values[key])}{GS}" for key, _ in INS_FIELDS]
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
