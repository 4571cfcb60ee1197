"""Transaction bundles with conditional create, as the FHIR specification says.

For each entry (POST only): `ifNoneExist` is searched first. No match → the
resource is created (201 Created); one match → nothing is created and the
existing resource is returned (200 OK); several matches → the whole
transaction fails with 412 Precondition Failed. `urn:uuid:` references are
rewritten to the created (or matched) resource. All of it happens in one
database transaction: the bundle lands whole or not at all.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

from devtools.platform.outcome import PlatformError
from devtools.platform.storage import PlatformStore
from devtools.platform.validation import validate_resource

SEARCH_PARAMS = ("identifier", "_tag")


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
    store: PlatformStore, bundle: Any, now: datetime | None = None
) -> dict[str, Any]:
    validate_resource(bundle)
    if bundle["resourceType"] != "Bundle":
        raise PlatformError(400, "invalid", "POST / takes a Bundle.")
    if bundle.get("type") != "transaction":
        raise PlatformError(422, "not-supported", "Only transaction bundles are processed here.")
    entries = bundle.get("entry", [])
    stamp = (now or datetime.now(UTC)).isoformat(timespec="milliseconds")
    for i, entry in enumerate(entries):
        request = entry.get("request") or {}
        resource = entry.get("resource")
        if request.get("method") != "POST":
            raise PlatformError(400, "not-supported", f"Entry {i}: only POST is supported.")
        if resource is None or request.get("url") != resource.get("resourceType"):
            raise PlatformError(
                400, "invalid", f"Entry {i}: request.url must name the resource type."
            )

    with store.transaction():
        resolved: dict[str, str] = {}  # fullUrl -> Type/id
        outcomes: list[tuple[str, str, bool]] = []  # (type, id, created)
        pending_conditions: dict[tuple[str, str], str] = {}
        for i, entry in enumerate(entries):
            resource = entry["resource"]
            rtype = resource["resourceType"]
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
            created = not matches
            rid = uuid.uuid4().hex if created else matches[0]
            if condition:
                pending_conditions[(rtype, condition)] = rid
            full_url = entry.get("fullUrl")
            if full_url:
                resolved[full_url] = f"{rtype}/{rid}"
            outcomes.append((rtype, rid, created))

        for i, (entry, (rtype, rid, created)) in enumerate(zip(entries, outcomes, strict=True)):
            if not created:
                continue
            resource = _rewrite(entry["resource"], resolved, i)
            resource["id"] = rid
            meta = dict(resource.get("meta", {}))
            meta["versionId"] = "1"
            meta["lastUpdated"] = stamp
            resource["meta"] = meta
            store.insert(rtype, rid, resource, stamp)

    return {
        "resourceType": "Bundle",
        "id": uuid.uuid4().hex,
        "type": "transaction-response",
        "entry": [
            {
                "response": {
                    "status": "201 Created" if created else "200 OK",
                    "location": f"{rtype}/{rid}/_history/1",
                    "etag": 'W/"1"',
                    "lastModified": stamp,
                }
            }
            for rtype, rid, created in outcomes
        ],
    }


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
