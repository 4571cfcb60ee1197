"""How a session's bundle travels to a given server: strategy, limits, requests (pure).

Why: real FHIR servers differ. One runs transactions with strict isolation
and allows only a few conditional entries per transaction (8 on one
well-known engine), another refuses a string over 1 MB (a base64 document),
a third allows "update as create" so every resource can be PUT under an id
the kiosk chooses. The mapping always builds the same conditional-create
bundle; this module turns it into the requests one server accepts:

- strategy `update-create` (the CapabilityStatement says `updateCreate` for
  every type we send): every entry becomes `PUT Type/<client id>`, the id a
  UUID v5 of the business identifier; references become `Type/<client id>`;
  no conditional entry at all, so no strict-isolation limit applies, and a
  repeat updates the same resource. An acknowledgement must name that id.
- strategy `conditional-create` otherwise: `POST` + `ifNoneExist` as before;
  a repeat matches and creates nothing. The server's reply must carry each
  resource (Prefer: return=representation) so the acknowledgement can be
  checked against the identifier the kiosk minted.
- bundles are split to `max_entries` (per strategy) in the mapping's order,
  which always points backwards (a Device before the Observation using it),
  so a later chunk only refers to resources of its own chunk or of earlier
  ones; for conditional chunks those references are rewritten to the
  `Type/id` the server acknowledged.
- documents: an attachment whose base64 is over `inline_max_bytes` loses its
  `data`; with `binary_documents` and update-create, the bytes go first as
  `PUT Binary/<client id>` and the attachment points at it by `url`.
Every request body is deterministic for a given session and server state,
so a retry sends the same bytes.
"""

from __future__ import annotations

import base64
import copy
import enum
import hashlib
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from app.sync.fhir_json import dump_bytes
from app.sync.identifiers import FULL_URL_NAMESPACE

Json = dict[str, Any]
UUID_PREFIX = "urn:uuid:"
KIOSK = "urn:telecabine:"


class Strategy(enum.StrEnum):
    UPDATE_CREATE = "update-create"
    CONDITIONAL_CREATE = "conditional-create"


@dataclass(frozen=True, slots=True)
class UploadSettings:
    """Limits and choices (site configuration `[platform.upload]`, docs/sync.md)."""

    strategy: str = "auto"  # auto | update-create | conditional-create
    max_conditional_entries: int = 8  # entries of one conditional transaction
    max_update_entries: int = 50  # entries of one update-create transaction
    inline_max_bytes: int = 786_432  # raw bytes: their base64 is exactly 1 MiB
    binary_documents: bool = True  # larger documents as Binary where update-create works
    max_reply_bytes: int = 16 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class ServerCapabilities:
    """What a CapabilityStatement says that matters to the kiosk (no health data)."""

    software: str = "unknown"
    fhir_version: str = "unknown"
    transaction: bool = False
    update_create_types: frozenset[str] = frozenset()
    conditional_create_types: frozenset[str] = frozenset()

    def update_create_for(self, types: Sequence[str]) -> bool:
        return bool(types) and all(t in self.update_create_types for t in types)


def parse_capabilities(statement: object) -> ServerCapabilities:
    """Read a CapabilityStatement defensively: anything odd means "not supported"."""
    if not isinstance(statement, Mapping) or statement.get("resourceType") != (
        "CapabilityStatement"
    ):
        return ServerCapabilities()
    software = statement.get("software")
    name = "unknown"
    if isinstance(software, Mapping):
        name = " ".join(str(software.get(k, ""))[:60] for k in ("name", "version")).strip()
    update: set[str] = set()
    conditional: set[str] = set()
    transaction = False
    rests = statement.get("rest")
    for rest in rests if isinstance(rests, list) else []:
        if not isinstance(rest, Mapping) or rest.get("mode") != "server":
            continue
        for interaction in rest.get("interaction") or []:
            if isinstance(interaction, Mapping) and interaction.get("code") == "transaction":
                transaction = True
        for resource in rest.get("resource") or []:
            if not isinstance(resource, Mapping) or not isinstance(resource.get("type"), str):
                continue
            codes = {
                i.get("code") for i in resource.get("interaction") or [] if isinstance(i, Mapping)
            }
            if resource.get("updateCreate") is True and "update" in codes:
                update.add(resource["type"])
            if resource.get("conditionalCreate") is True:
                conditional.add(resource["type"])
    version = statement.get("fhirVersion")
    return ServerCapabilities(
        software=name or "unknown",
        fhir_version=str(version)[:20] if isinstance(version, str) else "unknown",
        transaction=transaction,
        update_create_types=frozenset(update),
        conditional_create_types=frozenset(conditional),
    )


def choose_strategy(
    capabilities: ServerCapabilities, settings: UploadSettings, types: Sequence[str]
) -> Strategy:
    """Update-create where the server allows it for every type we send, else conditional."""
    if settings.strategy == Strategy.CONDITIONAL_CREATE:
        return Strategy.CONDITIONAL_CREATE
    if settings.strategy == Strategy.UPDATE_CREATE:
        return Strategy.UPDATE_CREATE
    if capabilities.update_create_for(types):
        return Strategy.UPDATE_CREATE
    return Strategy.CONDITIONAL_CREATE


# Every resource type the mapping may send (for choosing the strategy at start).
SENT_TYPES = (
    "Location",
    "Device",
    "Patient",
    "Encounter",
    "Consent",
    "Observation",
    "DocumentReference",
    "Provenance",
    "AuditEvent",
)


@dataclass(frozen=True, slots=True)
class Expected:
    """What one entry of a reply must name for the kiosk to call it acknowledged."""

    resource_type: str
    full_url: str
    client_id: str | None  # update-create: the id the location must carry
    business: tuple[str, str, str]  # ("identifier" | "_tag", system, value)


@dataclass(frozen=True, slots=True)
class BinaryUpload:
    binary_id: str
    content_type: str
    content: bytes = field(repr=False)


@dataclass(slots=True)
class Chunk:
    """One transaction of a session: entries still holding `urn:uuid:` references to
    earlier chunks until `body(resolved)` writes the ids the server acknowledged."""

    entries: list[Json] = field(repr=False)
    expected: tuple[Expected, ...]

    def body(self, resolved: Mapping[str, str]) -> bytes:
        entries = [_resolve(e, resolved) for e in self.entries] if resolved else self.entries
        return dump_bytes({"resourceType": "Bundle", "type": "transaction", "entry": entries})


@dataclass(frozen=True, slots=True)
class UploadPlan:
    strategy: Strategy
    binaries: tuple[BinaryUpload, ...]
    chunks: tuple[Chunk, ...]

    @property
    def requests(self) -> int:
        return len(self.binaries) + len(self.chunks)


def _business(resource: Json) -> tuple[str, str, str]:
    """The business identifier the kiosk minted for `resource` (a tag for R4 types without
    `identifier`): what a reply's resource must carry to be this one."""
    if resource["resourceType"] in ("Provenance", "AuditEvent"):
        tag = resource["meta"]["tag"][0]
        return ("_tag", str(tag["system"]), str(tag["code"]))
    ours = [i for i in resource.get("identifier", []) if str(i.get("system", "")).startswith(KIOSK)]
    ident = ours[-1] if ours else {}
    return ("identifier", str(ident.get("system", "")), str(ident.get("value", "")))


def _resolve(value: Any, resolved: Mapping[str, str]) -> Any:
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if key == "reference" and isinstance(item, str) and item in resolved:
                out[key] = resolved[item]
            else:
                out[key] = _resolve(item, resolved)
        return out
    if isinstance(value, list):
        return [_resolve(item, resolved) for item in value]
    return value


def _split_documents(
    entries: list[Json], settings: UploadSettings, binaries_allowed: bool
) -> list[BinaryUpload]:
    """Strip attachment data over the inline limit; return the Binary uploads to make."""
    uploads: list[BinaryUpload] = []
    limit_chars = 4 * ((settings.inline_max_bytes + 2) // 3)
    for e in entries:
        resource = e["resource"]
        if resource["resourceType"] != "DocumentReference":
            continue
        for content in resource.get("content", []):
            att = content.get("attachment", {})
            data = att.get("data")
            if not isinstance(data, str) or len(data) <= limit_chars:
                continue
            del att["data"]
            if binaries_allowed:
                raw = base64.b64decode(data)
                binary_id = _uuid_from(f"binary|{e['fullUrl']}|{hashlib.sha256(raw).hexdigest()}")
                uploads.append(
                    BinaryUpload(binary_id, att.get("contentType", "application/octet-stream"), raw)
                )
                att["url"] = f"Binary/{binary_id}"
    return uploads


def _uuid_from(text: str) -> str:
    return str(uuid.uuid5(FULL_URL_NAMESPACE, text))


def plan_upload(bundle: Json, strategy: Strategy, settings: UploadSettings) -> UploadPlan:
    """The requests that carry `bundle` (the mapping's conditional-create transaction)."""
    entries = copy.deepcopy(bundle["entry"])
    binaries = _split_documents(
        entries, settings, settings.binary_documents and strategy is Strategy.UPDATE_CREATE
    )
    expected: list[Expected] = []
    if strategy is Strategy.UPDATE_CREATE:
        types = {e["fullUrl"]: e["resource"]["resourceType"] for e in entries}
        literal = {url: f"{rtype}/{url[len(UUID_PREFIX) :]}" for url, rtype in types.items()}
        rewritten: list[Json] = []
        for e in entries:
            resource = _resolve(e["resource"], literal)
            cid = e["fullUrl"][len(UUID_PREFIX) :]
            resource = {"resourceType": resource["resourceType"], "id": cid, **resource}
            rtype = resource["resourceType"]
            request = {"method": "PUT", "url": f"{rtype}/{cid}"}
            rewritten.append({"fullUrl": e["fullUrl"], "resource": resource, "request": request})
            expected.append(Expected(rtype, e["fullUrl"], cid, _business(resource)))
        entries = rewritten
        size = max(1, settings.max_update_entries)
    else:
        for e in entries:
            rtype = e["resource"]["resourceType"]
            expected.append(Expected(rtype, e["fullUrl"], None, _business(e["resource"])))
        size = max(1, settings.max_conditional_entries)
    chunks = tuple(
        Chunk(entries[i : i + size], tuple(expected[i : i + size]))
        for i in range(0, len(entries), size)
    )
    return UploadPlan(strategy, tuple(binaries), chunks)
