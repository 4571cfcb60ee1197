"""What the platform's answer means for an outbox entry: acknowledge, retry, quarantine.

Policy (docs/sync.md):
- an HTTP 2xx whose body is a transaction-response (or batch-response)
  Bundle with one entry per entry sent, where **every** entry is `200` or
  `201` exactly and names the resource the kiosk sent — its location carries
  the client id the kiosk chose (update-create), or the resource returned
  carries the identifier the kiosk minted (conditional create) — is an
  acknowledgement. Nothing else is: a replayed reply of another session, a
  status "2019", a location of the right type but another id are retried,
  never acknowledged, so nothing is purged that the platform did not store;
- an entry refused inside a 2xx (a 4xx entry outcome: the server processed
  the bundle entry by entry) is permanent for that session: quarantine, with
  the OperationOutcome's codes and its safe text (see `outcome_text`);
- an entry at 408/409/425/429/5xx inside a 2xx, and any 2xx that is not a
  matching acknowledgement → retry (the bundle is idempotent);
- 408, 409, 425, 429, 5xx, 1xx/3xx, network errors, 401/403 → retry;
- 404, 405, 406, 415 whose body is not a FHIR OperationOutcome (a wrong
  address, a proxy's page: not the FHIR server speaking) → retry, so a
  misrouted URL does not quarantine the whole queue one session at a time;
- any other 4xx → quarantine: the same bytes will never succeed.
Reasons carry codes and paths, never values: the platform's diagnostics may
echo health data, so its text is kept only when it looks like a sentence of
the engine and holds no digits or quotes.

Every parse is bounded and typed: a body that is not JSON, nested too deep
(RecursionError), with absurd numbers (ValueError/OverflowError), or of the
wrong shape is a `Retry` with a reason, never an exception.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from app.sync.fhir_json import loads
from app.sync.retry_policy import parse_retry_after
from app.sync.upload import Expected

RETRY_STATUSES = frozenset({408, 409, 425, 429, 401, 403})
CREDENTIAL_STATUSES = frozenset({401, 403})
# Statuses about the address or the method rather than the session: from anything
# but the FHIR server itself (no OperationOutcome in the body) they are retried.
ADDRESS_STATUSES = frozenset({404, 405, 406, 415})
# 412 is not among them: for a conditional create it means "several resources match"
# (as at the top level, where it is quarantined); retrying it would block the queue for
# good. The kiosk sends no If-Match, so no 412 of a version race can come back.
ENTRY_RETRY_STATUSES = frozenset({408, 409, 425, 429})
_STATUS = re.compile(r"^([1-5][0-9]{2})(?: [^\n]{0,100})?$")
_LOCATION = re.compile(
    r"^(?:[a-zA-Z][a-zA-Z0-9+.-]*://[^?#]*/)?([A-Z][A-Za-z]{1,63})/([A-Za-z0-9.-]{1,64})"
    r"(?:/_history/[A-Za-z0-9.-]{1,64})?$"
)
_QUOTED = re.compile(r"\"[^\"]*\"|'[^']*'|`[^`]*`")
_DIGITS = re.compile(r"[0-9]+")
_WORD = re.compile(r"[A-Za-z][A-Za-z-]*")
_SAFE_TEXT = re.compile(r"^[A-Za-z #…,;:()./_-]{1,160}$")
# An engine's sentence says what is wrong with one of these words.
_ENGINE_WORDS = frozenset(
    {"invalid", "missing", "must", "required", "expected", "cannot", "not", "too", "unknown"}
    | {"duplicate", "constraint", "failed", "unsupported", "larger", "empty", "additional"}
    | {"error", "refused", "multiple", "matches", "reference", "type", "format", "exceeds"}
)
# Capitalised words an engine's sentence may hold besides its first word; any other
# capitalised word may be a name (DUPONT, Marie) and the whole text is dropped.
_ALLOWED_CAPS = frozenset(
    {"JSON", "FHIR", "MB", "URL", "ID", "UUID", "HTTP", "INS", "Bundle", "OperationOutcome"}
    | {"Patient", "Encounter", "Location", "Device", "Observation", "Consent", "Provenance"}
    | {"AuditEvent", "DocumentReference", "Binary", "Reference", "Coding", "Identifier"}
)
_SAFE_PATH = re.compile(r"^[A-Za-z0-9_.\[\]()-]{1,120}$")


@dataclass(frozen=True, slots=True)
class Acknowledge:
    response_digest: str
    resolved: Mapping[str, str] = field(default_factory=dict)  # fullUrl -> Type/id


@dataclass(frozen=True, slots=True)
class Retry:
    reason: str
    retry_after_s: float | None = None
    credentials: bool = False


@dataclass(frozen=True, slots=True)
class Quarantine:
    reason: str


Decision = Acknowledge | Retry | Quarantine


class ReplyParseError(ValueError):
    """A body that cannot be read as JSON within our limits (typed, never escapes)."""


def parse_json(body: bytes) -> Any:
    """JSON of a reply, or ReplyParseError for anything that is not plain JSON."""
    try:
        return loads(body)
    except RecursionError as exc:
        raise ReplyParseError("its body is nested too deeply") from exc
    except (ValueError, TypeError, OverflowError, UnicodeDecodeError, MemoryError) as exc:
        raise ReplyParseError(f"its body is not JSON ({type(exc).__name__})") from exc


def classify(
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    expected: Sequence[Expected],
    now: datetime,
) -> Decision:
    """The fate of one POSTed bundle from the platform's reply (pure, never raises)."""
    try:
        return _classify(status, headers, body, expected, now)
    except Exception as exc:  # noqa: BLE001 - a reply must never escape as an exception
        return Retry(f"The platform's answer could not be read ({type(exc).__name__}).")


def _classify(
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    expected: Sequence[Expected],
    now: datetime,
) -> Decision:
    if 200 <= status < 300:
        return _transaction_response(status, body, expected)
    retry_after = parse_retry_after(_header(headers, "Retry-After"), now, _header(headers, "Date"))
    if status in RETRY_STATUSES or status >= 500 or status < 200 or 300 <= status < 400:
        credentials = status in CREDENTIAL_STATUSES
        why = "refuses this cabin's credentials" if credentials else "is unavailable or busy"
        return Retry(f"The platform {why} (HTTP {status}).", retry_after, credentials)
    if status in ADDRESS_STATUSES and not _is_outcome(body):
        # Not the FHIR server speaking (no OperationOutcome): a wrong address, a proxy's
        # page. Quarantining would empty the whole queue one session at a time.
        return Retry(
            f"The platform's address answered HTTP {status} without a FHIR outcome "
            "(wrong address or a proxy in the way).",
            retry_after,
        )
    detail = _outcome_detail(body)
    return Quarantine(
        f"The platform refused this session for good with HTTP {status}{detail}; "
        "it is kept here until a technician looks at it."
    )


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is None:
        value = next((v for k, v in headers.items() if k.lower() == name.lower()), None)
    return value


def _transaction_response(status: int, body: bytes, expected: Sequence[Expected]) -> Decision:
    def retry(problem: str) -> Retry:
        return Retry(f"The platform answered {status} but {problem}.")

    try:
        bundle = parse_json(body)
    except ReplyParseError as exc:
        return retry(str(exc))
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        return retry("its body is not a Bundle")
    if bundle.get("type") not in ("transaction-response", "batch-response"):
        return retry("the Bundle is not a transaction-response")
    entries = bundle.get("entry")
    if not isinstance(entries, list) or len(entries) != len(expected):
        count = len(entries) if isinstance(entries, list) else 0
        return retry(f"the response has {count} entries for {len(expected)} sent")
    resolved: dict[str, str] = {}
    later: str | None = None
    for i, (item, want) in enumerate(zip(entries, expected, strict=True)):
        response = item.get("response") if isinstance(item, dict) else None
        if not isinstance(response, dict):
            return retry(f"entry {i} has no response")
        raw_status = response.get("status")
        match = _STATUS.fullmatch(raw_status[:120]) if isinstance(raw_status, str) else None
        code = int(match.group(1)) if match else None
        if code in (200, 201):
            named = _names(item, response, want)
            if named is None:
                return retry(f"entry {i} does not name the {want.resource_type} the kiosk sent")
            resolved[want.full_url] = named
            continue
        if code is not None and 400 <= code < 500 and code not in ENTRY_RETRY_STATUSES:
            detail = _outcome_detail_of(response.get("outcome"))
            return Quarantine(
                f"The platform refused entry {i} ({want.resource_type}) of this session with "
                f"{code}{detail}; the entries it accepted stay stored there and the session "
                "is kept here for a technician."
            )
        later = later or f"entry {i} has status {code if code is not None else 'unreadable'}"
    if later is not None:
        return retry(later)
    return Acknowledge(hashlib.sha256(body).hexdigest(), resolved)


def _names(item: dict[str, Any], response: dict[str, Any], want: Expected) -> str | None:
    """`Type/id` when this reply entry is the resource the kiosk sent, else None."""
    location = response.get("location")
    parsed = _LOCATION.fullmatch(location) if isinstance(location, str) else None
    resource = item.get("resource")
    if parsed is None and isinstance(resource, dict):
        rid = resource.get("id")
        if isinstance(rid, str) and resource.get("resourceType") == want.resource_type:
            parsed = _LOCATION.fullmatch(f"{want.resource_type}/{rid}")
    if parsed is None or parsed.group(1) != want.resource_type:
        return None
    rid = parsed.group(2)
    if want.client_id is not None:
        return f"{want.resource_type}/{rid}" if rid == want.client_id else None
    # Conditional create: the server chose the id; the resource it returns must be ours.
    if not isinstance(resource, dict) or resource.get("id") != rid:
        return None
    if not _carries(resource, want.business):
        return None
    return f"{want.resource_type}/{rid}"


def binary_named(headers: Mapping[str, str], body: bytes, binary_id: str) -> bool:
    """Whether a 200/201 to `PUT Binary/{binary_id}` names that very Binary: its
    Location header, or the resource returned (`resourceType` Binary, same id).
    A reply naming another Binary, or none, is not an acknowledgement."""
    location = _header(headers, "Location") or _header(headers, "Content-Location")
    parsed = _LOCATION.fullmatch(location[:400]) if isinstance(location, str) else None
    if parsed is not None:
        return parsed.group(1) == "Binary" and parsed.group(2) == binary_id
    try:
        resource = parse_json(body) if body else None
    except ReplyParseError:
        return False
    return (
        isinstance(resource, dict)
        and resource.get("resourceType") == "Binary"
        and resource.get("id") == binary_id
    )


def _carries(resource: dict[str, Any], business: tuple[str, str, str]) -> bool:
    param, system, value = business
    if param == "_tag":
        meta = resource.get("meta")
        tags = meta.get("tag") if isinstance(meta, dict) else None
        return isinstance(tags, list) and any(
            isinstance(t, dict) and t.get("system") == system and t.get("code") == value
            for t in tags
        )
    idents = resource.get("identifier")
    return isinstance(idents, list) and any(
        isinstance(i, dict) and i.get("system") == system and i.get("value") == value
        for i in idents
    )


def outcome_text(outcome: object) -> str:
    """The readable, value-free part of an OperationOutcome: codes, paths, engine words."""
    if not isinstance(outcome, dict) or outcome.get("resourceType") != "OperationOutcome":
        return ""
    issues = outcome.get("issue")
    parts: list[str] = []
    for issue in issues[:4] if isinstance(issues, list) else []:
        if not isinstance(issue, dict):
            continue
        code = str(issue.get("code", "?"))[:30]
        where = [
            p
            for p in (issue.get("expression") or issue.get("location") or [])
            if isinstance(p, str) and _SAFE_PATH.fullmatch(p)
        ][:2]
        details = issue.get("details")
        text = details.get("text") if isinstance(details, dict) else None
        text = text if isinstance(text, str) else issue.get("diagnostics")
        words = safe_words(text) if isinstance(text, str) else None
        part = code + (f" at {', '.join(where)}" if where else "")
        if words:
            part += f": {words}"
        parts.append(part)
    return "; ".join(parts)


def safe_words(text: str) -> str | None:
    """An engine's sentence with quoted parts and numbers masked, or None when it may
    hold a value (a capitalised word that is not a known technical term, odd signs)."""
    masked = _DIGITS.sub("#", _QUOTED.sub("…", text[:300])).strip()
    if not _SAFE_TEXT.fullmatch(masked):
        return None
    words = _WORD.findall(masked)
    if any(w[0].isupper() and w not in _ALLOWED_CAPS for w in words[1:]):
        return None
    if len(words) < 3 or not {w.lower() for w in words} & _ENGINE_WORDS:
        return None
    return masked


def _outcome_detail_of(outcome: object) -> str:
    text = outcome_text(outcome)
    return f" ({text})" if text else ""


def _is_outcome(body: bytes) -> bool:
    try:
        outcome = parse_json(body)
    except ReplyParseError:
        return False
    return isinstance(outcome, dict) and outcome.get("resourceType") == "OperationOutcome"


def _outcome_detail(body: bytes) -> str:
    try:
        outcome = parse_json(body)
    except ReplyParseError:
        return ""
    return _outcome_detail_of(outcome)
