"""The business identifiers the kiosk mints, and everything derived from them.

Why the kiosk mints them: a retry must never create a duplicate on the
platform, whatever the platform is. Every resource therefore carries an
identifier that only this cabin can mint (system `urn:telecabine:<cabin-id>`,
value `<cabin-id>/<session-id>/<item>`), and is sent as a conditional create
(`ifNoneExist: identifier=<system>|<value>`). The bundle's `fullUrl` is a
UUID v5 of that identifier, so the same session always gives the same bytes.

Cabin-wide resources (the cabin's Location, its Devices) use
`<cabin-id>/<item>` with no session: one per cabin on the platform.

Provenance and AuditEvent have no `identifier` element in R4: theirs travels
as a `meta.tag` with the same system and value, and the conditional create
searches `_tag` instead.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from urllib.parse import quote

from app.sync.errors import MappingError, MappingErrorReason

KIOSK_URN = "urn:telecabine"
# The product's own code systems and extensions live under an https namespace
# (app.sync.vendor, published as CodeSystem resources); re-exported here for the mappers.
from app.sync.vendor import (  # noqa: E402
    CONSENT_TEXT_BASE,
    CS_ACTOR_KIND,
    CS_CONSENT_ITEM,
    CS_DOCUMENT_KIND,
    CS_END_REASON,
    CS_IDENTITY_EVENT,
    CS_INCIDENT,
    CS_INTERRUPTION,
    CS_KIOSK_OBSERVATION,
    CS_ORIENTATION_EXCEPTION,
    CS_PARCOURS,
    CS_TERRITORIALITY_WAIVER,
    CS_TRACE_KIND,
    CS_VISIT_REASON,
    EXT_ATTACHMENT_SHA256,
    EXT_CONSENT_TEXT_SHA256,
    EXT_ENCOUNTER_END_REASON,
)

# FHIR core extension (R4 "Reason for current status"): why an Encounter is cancelled or cut.
EXT_EVENT_STATUS_REASON = "http://hl7.org/fhir/StructureDefinition/event-statusReason"

__all__ = [
    "CONSENT_TEXT_BASE",
    "CS_ACTOR_KIND",
    "CS_CONSENT_ITEM",
    "CS_DOCUMENT_KIND",
    "CS_END_REASON",
    "CS_IDENTITY_EVENT",
    "CS_INCIDENT",
    "CS_INTERRUPTION",
    "CS_KIOSK_OBSERVATION",
    "CS_ORIENTATION_EXCEPTION",
    "CS_PARCOURS",
    "CS_TERRITORIALITY_WAIVER",
    "CS_TRACE_KIND",
    "CS_VISIT_REASON",
    "EXT_ATTACHMENT_SHA256",
    "EXT_CONSENT_TEXT_SHA256",
    "EXT_ENCOUNTER_END_REASON",
    "EXT_EVENT_STATUS_REASON",
    "KIOSK_URN",
    "BusinessId",
    "IdentifierMinter",
    "check_safe",
    "client_id",
]

# The namespace of our UUID v5 fullUrls (a fixed, random UUID of the product).
FULL_URL_NAMESPACE = uuid.UUID("5c0b6a57-1f35-4d8e-9a57-8f3f3c2d1b61")

_SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$")
_SAFE_PATH = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,199}$")


def check_safe(kind: str, text: str) -> str:
    """Ids that go into identifiers must be plain: no `|`, `,`, `$`, `\\`, spaces."""
    if not _SAFE.fullmatch(text):
        raise MappingError(
            MappingErrorReason.UNSAFE_IDENTIFIER,
            f"The {kind} id must be 1 to 100 letters, digits, '.', '_', ':' or '-' "
            f"(it goes into FHIR identifiers); it has {len(text)} character(s).",
        )
    return text


@dataclass(frozen=True, slots=True)
class BusinessId:
    system: str
    value: str

    def as_fhir(self) -> dict[str, str]:
        return {"system": self.system, "value": self.value}

    @property
    def full_url(self) -> str:
        return f"urn:uuid:{uuid.uuid5(FULL_URL_NAMESPACE, f'{self.system}|{self.value}')}"

    @property
    def client_id(self) -> str:
        """The resource id the kiosk gives it where the server allows update-as-create.

        A UUID v5 of `system|value` (36 characters, a valid FHIR id): the same
        business identifier always gives the same id, so a repeated PUT updates
        the one resource and never creates a second.
        """
        return str(uuid.uuid5(FULL_URL_NAMESPACE, f"{self.system}|{self.value}"))

    def as_tag(self) -> dict[str, str]:
        """The same identifier as a `meta.tag`, for resources with no `identifier`."""
        return {"system": self.system, "code": self.value}

    def if_none_exist(self, param: str = "identifier") -> str:
        """The conditional-create query: `identifier=system|value` (or `_tag=...`)."""
        token = f"{self.system}|{self.value}"
        return f"{param}={quote(token, safe=':/')}"


def client_id(business_id: BusinessId) -> str:
    return business_id.client_id


@dataclass(frozen=True, slots=True)
class IdentifierMinter:
    """Mints the identifiers of one cabin; `session(...)` scopes them to one session."""

    cabin_id: str

    def __post_init__(self) -> None:
        check_safe("cabin", self.cabin_id)

    @property
    def system(self) -> str:
        return f"{KIOSK_URN}:{self.cabin_id}"

    @property
    def staff_system(self) -> str:
        """Accounts of the assisting professionals of this cabin (not health data)."""
        return f"{KIOSK_URN}:{self.cabin_id}:staff"

    def cabin_item(self, item: str) -> BusinessId:
        if not _SAFE_PATH.fullmatch(item):
            check_safe("item", item)
        return BusinessId(self.system, f"{self.cabin_id}/{item}")

    def session_item(self, session_id: str, item: str) -> BusinessId:
        check_safe("session", session_id)
        if not _SAFE_PATH.fullmatch(item):
            check_safe("item", item)
        return BusinessId(self.system, f"{self.cabin_id}/{session_id}/{item}")
