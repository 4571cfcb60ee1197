"""Transaction bundles with conditional create, as the FHIR specification says.

For each entry (POST only): `ifNoneExist` is searched first. No match → the
resource is created (201 Created); one match → nothing is created and the
existing resource is returned (200 OK); several matches → the whole
transaction fails with 412 Precondition Failed. `urn:uuid:` references are
rewritten to the created (or matched) resource. All of it happens in one
database transaction: the bundle lands whole or not at all.

`FhirOptions` make it answer like real servers do (docs/sync.md):
- `max_conditional_entries`: a transaction holding a conditional entry and
  more entries than this is refused whole with 400, as an engine running
  transactions with strict isolation does;
- `entry_outcomes`: entries are processed one by one (as servers without
  atomic transactions do); an entry that does not validate gets its own
  `400` with an OperationOutcome inside a `200` answer, the others commit;
- `update_create`: `PUT Type/{id}` entries create or update that id
  (update as create), and the CapabilityStatement says so.
Each response entry carries the resource it names (`entry.resource`); the
HTTP face drops it when the client asked `Prefer: return=minimal`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

from devtools.platform.outcome import PlatformError
from devtools.platform.storage import PlatformStore
from devtools.platform.validation import validate_resource

SEARCH_PARAMS = ("identifier", "_tag")
_ID = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-.")


@dataclass(frozen=True, slots=True)
class FhirOptions:
    max_conditional_entries: int | None = None
    entry_outcomes: bool = False
    update_create: bool = False


def parse_token_query(query: str) -> list[tuple[str, str | None, str]]:
    """`identifier=system|value&_tag=...` → [(param, system, value)]."""
    out: list[tuple[str, str | None, str]] = []
    pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=False)
    if not pairs:
        raise PlatformError(400, "invalid", "The condition has no search parameter.")
    for param, token in pairs:
        if param not in SEARCH_PARAMS:
            raise PlatformError(
                400,
                "not-supported",
                f"Search parameter {param!r} is not supported (only identifier and _tag).",
            )
        system, sep, value = token.partition("|")
        out.append((param, system if sep else None, value if sep else system))
    return out


def search(
    store: PlatformStore, rtype: str, conditions: list[tuple[str, str | None, str]]
) -> list[str]:
    """Ids matching every condition (AND)."""
    result: set[str] | None = None
    for param, system, value in conditions:
        ids = set(store.find(rtype, param, system, value))
        result = ids if result is None else result & ids
    return sorted(result or ())


def process_transaction(
    store: PlatformStore,
    bundle: Any,
    now: datetime | None = None,
    options: FhirOptions | None = None,
) -> dict[str, Any]:
    options = options or FhirOptions()
    if not options.entry_outcomes:
        validate_resource(bundle)
    elif not isinstance(bundle, dict) or not isinstance(bundle.get("entry", []), list):
        raise PlatformError(400, "structure", "The body is not a FHIR Bundle.")
    if bundle.get("resourceType") != "Bundle":
        raise PlatformError(400, "invalid", "POST / takes a Bundle.")
    if bundle.get("type") != "transaction":
        raise PlatformError(422, "not-supported", "Only transaction bundles are processed here.")
    entries = bundle.get("entry", [])
    stamp = (now or datetime.now(UTC)).isoformat(timespec="milliseconds")
    methods = ("POST", "PUT") if options.update_create else ("POST",)
    for i, entry in enumerate(entries):
        request = (entry.get("request") if isinstance(entry, dict) else None) or {}
        resource = entry.get("resource") if isinstance(entry, dict) else None
        method = request.get("method")
        if method not in methods:
            raise PlatformError(400, "not-supported", f"Entry {i}: only POST is supported.")
        if not isinstance(resource, dict):
            raise PlatformError(
                400, "invalid", f"Entry {i}: request.url must name the resource type."
            )
        url = str(request.get("url", ""))
        if method == "POST" and url != resource.get("resourceType"):
            raise PlatformError(
                400, "invalid", f"Entry {i}: request.url must name the resource type."
            )
        if method == "PUT" and url != f"{resource.get('resourceType')}/{resource.get('id')}":
            raise PlatformError(
                400, "invalid", f"Entry {i}: a PUT must name Type/id of its resource."
            )
    conditional = any(
        (e.get("request") or {}).get("ifNoneExist") for e in entries if isinstance(e, dict)
    )
    limit = options.max_conditional_entries
    if conditional and limit is not None and len(entries) > limit:
        raise PlatformError(
            400,
            "invalid",
            "Transaction requires strict isolation but has too many entries.",
        )

    with store.transaction():
        resolved: dict[str, str] = {}  # fullUrl -> Type/id
        outcomes: list[tuple[str, str, int]] = []  # (type, id, status)
        pending_conditions: dict[tuple[str, str], str] = {}
        for i, entry in enumerate(entries):
            resource = entry["resource"]
            rtype = resource["resourceType"]
            if entry["request"]["method"] == "PUT":
                rid = str(resource.get("id", ""))
                if not rid or not set(rid) <= _ID or len(rid) > 64:
                    raise PlatformError(400, "invalid", f"Entry {i}: the id is not a FHIR id.")
                existing = store.read(rtype, rid)
                status = 200 if existing is not None else 201
            else:
                condition = entry["request"].get("ifNoneExist")
                matches: list[str] = []
                if condition:
                    key = (rtype, condition)
                    if key in pending_conditions:
                        matches = [pending_conditions[key]]
                    else:
                        matches = search(store, rtype, parse_token_query(condition))
                if len(matches) > 1:
                    raise PlatformError(
                        412,
                        "duplicate",
                        f"Entry {i}: the condition matches {len(matches)} {rtype} resources.",
                    )
                rid = uuid.uuid4().hex if not matches else matches[0]
                status = 200 if matches else 201
                if condition:
                    pending_conditions[(rtype, condition)] = rid
            full_url = entry.get("fullUrl")
            if full_url:
                resolved[full_url] = f"{rtype}/{rid}"
            outcomes.append((rtype, rid, status))

        results: list[dict[str, Any]] = []
        for i, (entry, (rtype, rid, status)) in enumerate(zip(entries, outcomes, strict=True)):
            put = entry["request"]["method"] == "PUT"
            if status == 200 and not put:
                results.append(_ok(status, rtype, rid, store.read(rtype, rid), stamp))
                continue
            resource = _rewrite(entry["resource"], resolved, i)
            resource["id"] = rid
            if options.entry_outcomes:
                try:
                    validate_resource(resource)
                except PlatformError as error:
                    results.append(_refused(error))
                    continue
            meta = dict(resource.get("meta", {}))
            previous = store.read(rtype, rid) if put else None
            version = int(previous.get("meta", {}).get("versionId", "1")) + 1 if previous else 1
            meta["versionId"] = str(version)
            meta["lastUpdated"] = stamp
            resource["meta"] = meta
            if previous is not None:
                store.replace(rtype, rid, resource, stamp)
            else:
                store.insert(rtype, rid, resource, stamp)
            results.append(_ok(status, rtype, rid, resource, stamp))

    return {
        "resourceType": "Bundle",
        "id": uuid.uuid4().hex,
        "type": "transaction-response",
        "entry": results,
    }


def _ok(
    status: int, rtype: str, rid: str, resource: dict[str, Any] | None, stamp: str
) -> dict[str, Any]:
    version = (resource or {}).get("meta", {}).get("versionId", "1")
    out: dict[str, Any] = {
        "response": {
            "status": "201 Created" if status == 201 else "200 OK",
            "location": f"{rtype}/{rid}/_history/{version}",
            "etag": f'W/"{version}"',
            "lastModified": stamp,
        }
    }
    if resource is not None:
        out["resource"] = resource
    return out


def _refused(error: PlatformError) -> dict[str, Any]:
    return {"response": {"status": f"{error.status}", "outcome": error.outcome()}}


def _rewrite(value: Any, resolved: dict[str, str], index: int) -> Any:
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if key == "reference" and isinstance(item, str) and item.startswith("urn:uuid:"):
                if item not in resolved:
                    raise PlatformError(
                        422, "processing", f"Entry {index}: reference {item} is not in the bundle."
                    )
                out[key] = resolved[item]
            else:
                out[key] = _rewrite(item, resolved, index)
        return out
    if isinstance(value, list):
        return [_rewrite(item, resolved, index) for item in value]
    return value
