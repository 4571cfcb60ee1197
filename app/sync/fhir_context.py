"""Shared pieces of the mapping: the session's context, references, times, entries.

Why references by `fullUrl`: inside a transaction the platform resolves
`urn:uuid:` references to the resources it creates, or to the one that
already exists when a conditional create matched; so a retried session points
at the very same Patient and Encounter.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from app.sync import fhir_codes as c
from app.sync.errors import MappingError, MappingErrorReason
from app.sync.identifiers import BusinessId, IdentifierMinter
from app.sync.session_snapshot import SiteInfo

Json = dict[str, Any]


@dataclass(frozen=True, slots=True)
class MappingContext:
    site: SiteInfo
    minter: IdentifierMinter
    session_id: str

    def session_id_for(self, item: str) -> BusinessId:
        return self.minter.session_item(self.session_id, item)

    @property
    def patient_id(self) -> BusinessId:
        return self.session_id_for("patient")

    @property
    def encounter_id(self) -> BusinessId:
        return self.session_id_for("encounter")

    @property
    def location_id(self) -> BusinessId:
        return self.minter.cabin_item(f"location/{self.site.insee_code}")

    @property
    def kiosk_device_id(self) -> BusinessId:
        return self.minter.cabin_item("device/kiosk")

    def device_id(self, device: str) -> BusinessId:
        return self.minter.cabin_item(f"device/{device}")

    def ref(self, business_id: BusinessId, resource_type: str) -> Json:
        return {"reference": business_id.full_url, "type": resource_type}

    def staff_ref(self, account_id: str) -> Json:
        """A logical reference to an assisting professional (pharmacist, nurse) by account."""
        return {
            "type": "Practitioner",
            "identifier": {"system": self.minter.staff_system, "value": account_id},
        }


_RPPS = re.compile(r"^[0-9]{11}$")


def rpps_identifier(rpps: str) -> Json:
    """The doctor's identifier as FR Core 2.2.0 writes it (practitioner slice RPPS): the
    11-digit RPPS under https://rpps.esante.gouv.fr, type RPPS (fr-core-cs-v2-0203).

    An RPPS that is not 11 digits cannot be sent (the platform could not tell
    which doctor it names): the session goes to quarantine for a technician.
    """
    if not _RPPS.fullmatch(rpps):
        raise MappingError(
            MappingErrorReason.INVALID_RPPS,
            f"A doctor's RPPS must be 11 digits; the trace holds one of {len(rpps)} character(s).",
        )
    return {
        "use": "official",
        "type": {"coding": [{"system": c.CS_IDENTIFIER_TYPE, "code": c.RPPS_TYPE}]},
        "system": c.SYSTEM_RPPS,
        "value": rpps,
    }


def doctor_ref(rpps: str) -> Json:
    """A logical reference to the remote doctor by RPPS number (FR Core RPPS slice)."""
    return {"type": "Practitioner", "identifier": rpps_identifier(rpps)}


def fhir_datetime(value: datetime) -> str:
    """FHIR dateTime/instant: always with its offset (a naive time is refused)."""
    if value.utcoffset() is None:
        raise MappingError(
            MappingErrorReason.NAIVE_TIME, "A time sent to the platform has no time zone."
        )
    spec = "milliseconds" if value.microsecond else "seconds"
    return value.isoformat(timespec=spec)


def fhir_date(value: date) -> str:
    return value.isoformat()


# R4 resources with no `identifier` element: their business id is a meta.tag.
TAGGED_TYPES = frozenset({"Provenance", "AuditEvent"})


def compact(value: Any) -> Any:
    """`value` without empty text, empty lists or empty objects, at any depth.

    Why: FHIR forbids an empty or whitespace-only string, an empty array and an
    empty object (a server refuses the whole resource: a patient with no first
    name sent as `given: [""]` loses the whole Patient). Mappers write what they
    have; this removes what is empty, and `code_checks` then refuses a resource
    whose *required* parts went missing instead of letting it out half-empty.
    """
    if isinstance(value, str):
        return value if value.strip() else None
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            kept = compact(item)
            if kept is not None:
                out[key] = kept
        return out or None
    if isinstance(value, list):
        items = [kept for kept in (compact(item) for item in value) if kept is not None]
        return items or None
    return value


def entry(business_id: BusinessId, resource: Json) -> Json:
    """A transaction entry that creates `resource` unless its identifier already exists."""
    resource = compact(resource) or {"resourceType": resource.get("resourceType", "?")}
    param = "_tag" if resource["resourceType"] in TAGGED_TYPES else "identifier"
    return {
        "fullUrl": business_id.full_url,
        "resource": resource,
        "request": {
            "method": "POST",
            "url": resource["resourceType"],
            "ifNoneExist": business_id.if_none_exist(param),
        },
    }
