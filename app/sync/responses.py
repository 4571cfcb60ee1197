"""What the platform's answer means for an outbox entry: acknowledge, retry, quarantine.

Policy (docs/sync.md):
- 2xx with a transaction-response Bundle whose entries match the request
  one for one (same count, each `200`/`201`, each location of the right
  type) → acknowledge, recording the SHA-256 of the response body;
- 2xx without such a response → retry (the platform may have committed; a
  retry is harmless because every entry is a conditional create);
- 408, 409 (concurrent conditional creates may collide), 425, 429, 5xx,
  network errors, 401/403 (a credentials problem on the cabin, not in the
  data: fixed by a technician, then everything goes) → retry;
- any other 4xx (400, 404, 405, 410, 412, 413, 415, 422, ...) → quarantine:
  the same bytes will never succeed, so they wait for a person.
Reasons carry status codes and issue codes only, never the platform's
diagnostics text (it may echo health data) .
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.sync.fhir_json import loads
from app.sync.retry_policy import parse_retry_after

RETRY_STATUSES = frozenset({408, 409, 425, 429, 401, 403})
CREDENTIAL_STATUSES = frozenset({401, 403})


@dataclass(frozen=True, slots=True)
class Acknowledge:
    response_digest: str


@dataclass(frozen=True, slots=True)
class Retry:
    reason: str
    retry_after_s: float | None = None
    credentials: bool = False


@dataclass(frozen=True, slots=True)
class Quarantine:
    reason: str


Decision = Acknowledge | Retry | Quarantine


def classify(
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    request_types: Sequence[str],
    now: datetime,
) -> Decision:
    """The fate of one POSTed bundle from the platform's reply (pure)."""
    if 200 <= status < 300:
        problem = transaction_response_problem(body, request_types)
        if problem is None:
            return Acknowledge(hashlib.sha256(body).hexdigest())
        return Retry(f"The platform answered {status} but {problem}.")
    retry_after = parse_retry_after(headers.get("Retry-After"), now)
    if status in RETRY_STATUSES or status >= 500 or status < 200 or 300 <= status < 400:
        credentials = status in CREDENTIAL_STATUSES
        why = "refuses this cabin's credentials" if credentials else "is unavailable or busy"
        return Retry(f"The platform {why} (HTTP {status}).", retry_after, credentials)
    codes = _issue_codes(body)
    detail = f" (issues: {', '.join(codes)})" if codes else ""
    return Quarantine(
        f"The platform refused this session for good with HTTP {status}{detail}; "
        "it is kept here until a technician looks at it."
    )


def transaction_response_problem(body: bytes, request_types: Sequence[str]) -> str | None:
    """None when `body` is a transaction-response matching the request; else what is wrong."""
    try:
        bundle: Any = loads(body)
    except ValueError:
        return "its body is not JSON"
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        return "its body is not a Bundle"
    if bundle.get("type") != "transaction-response":
        return f"the Bundle is of type {str(bundle.get('type'))[:40]!r}, not transaction-response"
    entries = bundle.get("entry")
    if not isinstance(entries, list) or len(entries) != len(request_types):
        count = len(entries) if isinstance(entries, list) else 0
        return f"the response has {count} entries for {len(request_types)} sent"
    for i, (entry, rtype) in enumerate(zip(entries, request_types, strict=True)):
        response = entry.get("response") if isinstance(entry, dict) else None
        if not isinstance(response, dict):
            return f"entry {i} has no response"
        status = str(response.get("status", ""))
        if not (status.startswith("200") or status.startswith("201")):
            return f"entry {i} has status {status[:20]!r}"
        location = response.get("location")
        if location is not None and not str(location).startswith(f"{rtype}/"):
            if f"/{rtype}/" not in str(location):
                return f"entry {i} points at another resource type"
    return None


def _issue_codes(body: bytes) -> list[str]:
    try:
        outcome: Any = loads(body)
    except ValueError:
        return []
    if not isinstance(outcome, dict) or outcome.get("resourceType") != "OperationOutcome":
        return []
    issues = outcome.get("issue")
    if not isinstance(issues, list):
        return []
    codes = [str(i.get("code"))[:30] for i in issues if isinstance(i, dict) and i.get("code")]
    return sorted(set(codes))[:5]
