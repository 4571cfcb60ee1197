"""The controller's `InsiPort` over HTTP: the platform's INSi relay (`POST /insi/query`).

Why through the platform: INSi is a SOAP teleservice reached with a CPS card
or an establishment certificate, which the platform holds and a cabin never
does. The kiosk sends the NIR it read and the traits it has, and gets back
the INS, its OID and the reference INS traits (docs/insi.md has the schema).

What the controller gets:
- the identity rebuilt with `with_insi_result` (PROV → RECUP, VALI → QUAL),
  INSi's traits replacing the card's (the used name and first name used,
  which INSi does not hold, are kept);
- None when INSi knows no one (404 with the relay's `not-found` code);
- `InsiRefused` when INSi answered without an identity (traits that do not
  match, several candidates, a query the relay refused) — a professional
  should look at the traits;
- `InsiUnavailable` when INSi cannot be asked now (network, timeout, TLS,
  5xx, credentials, a platform without the relay): the session goes on with
  the provisional identity;
- `InsiAnswerInvalid` when the platform's 200 cannot be used.

Nothing logged here carries a trait or a NIR: status codes, byte counts and
durations only.
"""

from __future__ import annotations

import enum
import json
import logging
import re
import ssl as ssl_module
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Protocol

from app.domain.identity import (
    BirthDatePrecision,
    IdentifierKind,
    IdentityStatus,
    InsOid,
    InsTraits,
    InvalidIdentity,
    InvalidNir,
    Nir,
    PatientIdentity,
    Sex,
    parse_nir,
    with_insi_result,
)
from app.sync.errors import SyncError
from app.sync.transport import CabinAuth, CabinAuthError, NetworkFailure, ssl_context_for
from kiosk_config.schema import Platform

if TYPE_CHECKING:  # aiohttp loads at the first query, after the welcome screen
    import aiohttp

log = logging.getLogger(__name__)

INSI_PATH = "/insi/query"
OUTCOME_SYSTEM = "urn:telecabine:insi-outcome"
_INSEE = re.compile(r"(?:[0-9]{2}|2[AB])[0-9]{3}")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class WallClock(Protocol):
    def now(self) -> datetime:
        """The current time, aware."""
        ...


class InsiErrorReason(enum.StrEnum):
    # InsiUnavailable: ask again later
    TIMEOUT = "timeout"
    CONNECTION = "connection"
    TLS = "tls"
    PROTOCOL = "protocol"
    SERVER_ERROR = "server-error"
    CREDENTIALS_REFUSED = "credentials-refused"
    NOT_SUPPORTED = "not-supported"
    UNEXPECTED_STATUS = "unexpected-status"
    # InsiRefused: INSi answered, without an identity
    TRAITS_MISMATCH = "traits-mismatch"
    SEVERAL_CANDIDATES = "several-candidates"
    QUERY_REFUSED = "query-refused"
    ALREADY_FROM_INSI = "already-from-insi"
    INCOMPLETE_BIRTH_DATE = "incomplete-birth-date"
    # InsiAnswerInvalid: the platform's answer cannot be used
    INVALID_ANSWER = "invalid-answer"


_SENTENCES: dict[InsiErrorReason, str] = {
    InsiErrorReason.TIMEOUT: "The platform's INSi relay did not answer in time.",
    InsiErrorReason.CONNECTION: "The connection to the platform's INSi relay failed.",
    InsiErrorReason.TLS: "The platform's TLS certificate was not accepted.",
    InsiErrorReason.PROTOCOL: "The INSi relay's answer could not be read.",
    InsiErrorReason.SERVER_ERROR: "The platform or the INSi teleservice failed ({status}).",
    InsiErrorReason.CREDENTIALS_REFUSED: (
        "The platform refused this cabin's credentials for INSi ({status})."
    ),
    InsiErrorReason.NOT_SUPPORTED: "This platform has no INSi relay ({status}).",
    InsiErrorReason.UNEXPECTED_STATUS: "The INSi relay answered an unexpected status ({status}).",
    InsiErrorReason.TRAITS_MISMATCH: (
        "INSi knows this NIR, but the traits given do not match its identity."
    ),
    InsiErrorReason.SEVERAL_CANDIDATES: (
        "INSi found several people with these traits; the identity stays provisional."
    ),
    InsiErrorReason.QUERY_REFUSED: "The INSi relay refused the query as malformed ({status}).",
    InsiErrorReason.ALREADY_FROM_INSI: "This identity already comes from INSi; it is not asked again.",
    InsiErrorReason.INCOMPLETE_BIRTH_DATE: (
        "The date of birth is incomplete; INSi is not asked with a made-up day or month."
    ),
    InsiErrorReason.INVALID_ANSWER: "The INSi relay's answer cannot be used: {detail}.",
}


class InsiError(SyncError):
    """Base of the INSi client's errors; `reason` says why, `status` the HTTP status if any."""

    def __init__(
        self, reason: InsiErrorReason, *, status: int | None = None, detail: str = ""
    ) -> None:
        super().__init__(_SENTENCES[reason].format(status=status, detail=detail))
        self.reason = reason
        self.status = status


class InsiUnavailable(InsiError):
    """INSi cannot be asked now; the session goes on with the provisional identity."""


class InsiRefused(InsiError):
    """INSi answered without an identity (mismatch, several people, refused query)."""


class InsiAnswerInvalid(InsiError):
    """The platform said 200 but its answer breaks the schema (docs/insi.md)."""

    def __init__(self, detail: str) -> None:
        super().__init__(InsiErrorReason.INVALID_ANSWER, status=200, detail=detail)


@dataclass(frozen=True, slots=True)
class InsiAnswer:
    """INSi's identity as the relay returned it (repr hides the INS and traits)."""

    ins: Nir
    kind: IdentifierKind
    oid: InsOid
    traits: InsTraits
    interrogated_at: datetime | None


def query_body(identity: PatientIdentity) -> bytes:
    """The JSON the relay takes: the NIR (when the kiosk has one) and the traits.

    A second guard after the controller's: an incomplete date of birth is
    never sent, since the first day of the period would be an invented trait.
    """
    traits = identity.traits
    if traits.birth_date_precision is not BirthDatePrecision.DAY:
        raise InsiRefused(InsiErrorReason.INCOMPLETE_BIRTH_DATE)
    body: dict[str, Any] = {}
    if identity.identifier is not None and identity.identifier_kind is IdentifierKind.NIR:
        body["nir"] = identity.identifier.value
    body["birthName"] = traits.birth_name
    body["firstNames"] = [name for name in traits.birth_first_names if name.strip()]
    body["birthDate"] = traits.birth_date.isoformat()
    body["sex"] = traits.sex.value
    if traits.birth_place_insee:
        body["birthPlace"] = traits.birth_place_insee
    return json.dumps(body, ensure_ascii=False).encode("utf-8")


def _field(obj: dict[str, Any], key: str, where: str) -> Any:
    if key not in obj:
        raise InsiAnswerInvalid(f"'{where}{key}' is missing")
    return obj[key]


def _string(obj: dict[str, Any], key: str, where: str) -> str:
    value = _field(obj, key, where)
    if not isinstance(value, str) or not value.strip():
        raise InsiAnswerInvalid(f"'{where}{key}' must be a non-empty string")
    return value


def parse_answer(data: bytes) -> InsiAnswer:
    """Read a 200 body of the relay; raise only `InsiAnswerInvalid` (never echoes a value)."""
    try:
        body = json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise InsiAnswerInvalid("the body is not JSON") from exc
    if not isinstance(body, dict):
        raise InsiAnswerInvalid("the body is not a JSON object")
    ins = _field(body, "ins", "")
    traits = _field(body, "traits", "")
    if not isinstance(ins, dict) or not isinstance(traits, dict):
        raise InsiAnswerInvalid("'ins' and 'traits' must be objects")
    try:
        value = parse_nir(_string(ins, "value", "ins."))
    except InvalidNir as exc:
        raise InsiAnswerInvalid(f"'ins.value' is not a valid NIR or NIA ({exc.reason})") from exc
    try:
        kind = IdentifierKind(_string(ins, "kind", "ins."))
    except ValueError as exc:
        raise InsiAnswerInvalid("'ins.kind' must be NIR or NIA") from exc
    try:
        oid = InsOid(_string(ins, "oid", "ins."))
    except ValueError as exc:
        raise InsiAnswerInvalid("'ins.oid' is not an INS OID") from exc
    first_names = _field(traits, "birthFirstNames", "traits.")
    if not (
        isinstance(first_names, list)
        and first_names
        and all(isinstance(n, str) and n.strip() for n in first_names)
    ):
        raise InsiAnswerInvalid("'traits.birthFirstNames' must be a non-empty list of names")
    raw_date = _string(traits, "birthDate", "traits.")
    try:
        if not _DATE.fullmatch(raw_date):
            raise ValueError(raw_date)
        born = date.fromisoformat(raw_date)
    except ValueError as exc:
        raise InsiAnswerInvalid("'traits.birthDate' must be a date written YYYY-MM-DD") from exc
    try:
        sex = Sex(_string(traits, "sex", "traits."))
    except ValueError as exc:
        raise InsiAnswerInvalid("'traits.sex' must be male, female or unknown") from exc
    place = traits.get("birthPlace")
    if place is not None and not (isinstance(place, str) and _INSEE.fullmatch(place)):
        raise InsiAnswerInvalid("'traits.birthPlace' must be a 5-character INSEE code or null")
    return InsiAnswer(
        ins=value,
        kind=kind,
        oid=oid,
        traits=InsTraits(
            birth_name=_string(traits, "birthName", "traits."),
            birth_first_names=tuple(first_names),
            birth_date=born,
            sex=sex,
            birth_place_insee=place,
        ),
        interrogated_at=_interrogated_at(body.get("interrogatedAt")),
    )


def _interrogated_at(value: Any) -> datetime | None:
    if value is None:
        return None
    try:
        if not isinstance(value, str):
            raise ValueError("not a string")
        at = datetime.fromisoformat(value)
    except ValueError as exc:
        raise InsiAnswerInvalid("'interrogatedAt' must be an ISO date-time") from exc
    if at.tzinfo is None or at.utcoffset() is None:
        raise InsiAnswerInvalid("'interrogatedAt' must carry its UTC offset")
    return at


def _outcome_code(data: bytes) -> str | None:
    """The relay's code (`urn:telecabine:insi-outcome`) in an OperationOutcome, if any."""
    try:
        body = json.loads(data)
        for issue in body["issue"]:
            for coding in issue["details"]["coding"]:
                if coding.get("system") == OUTCOME_SYSTEM and isinstance(coding.get("code"), str):
                    return str(coding["code"])
    except (ValueError, RecursionError, KeyError, TypeError, AttributeError):
        return None
    return None


def decide(
    identity: PatientIdentity, status: int, data: bytes, now: datetime
) -> PatientIdentity | None:
    """What an HTTP answer of the relay means for this identity (pure)."""
    if status == 200:
        answer = parse_answer(data)
        traits = replace(
            answer.traits,
            first_name_used=identity.traits.first_name_used,
            used_name=identity.traits.used_name,
        )
        try:
            return with_insi_result(
                identity, answer.ins, answer.kind, answer.oid, traits, answer.interrogated_at or now
            )
        except InvalidIdentity as exc:
            raise InsiAnswerInvalid(f"the INS breaks an identity rule ({exc.reason})") from exc
    code = _outcome_code(data)
    if status == 404 and code == "not-found":
        return None
    if status == 409 and code == "several-candidates":
        raise InsiRefused(InsiErrorReason.SEVERAL_CANDIDATES, status=status)
    if status == 409:
        raise InsiRefused(InsiErrorReason.TRAITS_MISMATCH, status=status)
    if status in (400, 422):
        raise InsiRefused(InsiErrorReason.QUERY_REFUSED, status=status)
    if status in (401, 403):
        raise InsiUnavailable(InsiErrorReason.CREDENTIALS_REFUSED, status=status)
    if status in (404, 405):
        raise InsiUnavailable(InsiErrorReason.NOT_SUPPORTED, status=status)
    if status >= 500:
        raise InsiUnavailable(InsiErrorReason.SERVER_ERROR, status=status)
    raise InsiUnavailable(InsiErrorReason.UNEXPECTED_STATUS, status=status)


class PlatformInsi:
    """`InsiPort` for the controller: one POST to `<base_url>/insi/query` per query.

    Without an injected `session`, each query opens and closes its own
    connection: a cabin asks INSi about once per patient, and nothing is left
    open between patients.
    """

    def __init__(
        self,
        base_url: str,
        *,
        ssl: ssl_module.SSLContext | None = None,
        timeout_s: float = 5.0,
        clock: WallClock,
        session: aiohttp.ClientSession | None = None,
        path: str = INSI_PATH,
        auth: CabinAuth | None = None,
    ) -> None:
        self._auth = auth
        self._url = base_url.rstrip("/") + path
        self._ssl: ssl_module.SSLContext | bool = ssl if ssl is not None else True
        self._timeout_s = timeout_s
        self._clock = clock
        self._session = session

    @classmethod
    def from_config(
        cls,
        platform: Platform,
        *,
        clock: WallClock,
        timeout_s: float = 5.0,
        auth: CabinAuth | None = None,
    ) -> PlatformInsi:
        """TLS (CA, client certificate) from the site configuration's [platform]; `auth` is
        the cabin's token (`CabinAuth.for_config(config)`), sent on each query."""
        tls = ssl_context_for(platform) if platform.url.startswith("https:") else None
        return cls(platform.url, ssl=tls, timeout_s=timeout_s, clock=clock, auth=auth)

    async def query(self, identity: PatientIdentity, at: datetime) -> PatientIdentity | None:
        if identity.status in (IdentityStatus.RECUP, IdentityStatus.QUAL):
            raise InsiRefused(InsiErrorReason.ALREADY_FROM_INSI)
        body = query_body(identity)
        started = self._clock.now()
        status, data = await self._post(body)
        elapsed_ms = (self._clock.now() - started).total_seconds() * 1000
        log.info(
            "INSi query: status %d, %d bytes sent, %d bytes received, %.0f ms",
            status,
            len(body),
            len(data),
            elapsed_ms,
        )
        return decide(identity, status, data, self._clock.now())

    async def _post(self, body: bytes) -> tuple[int, bytes]:
        import aiohttp

        if self._session is not None:
            return await self._post_with(self._session, body)
        async with aiohttp.ClientSession() as session:
            return await self._post_with(session, body)

    async def _post_with(self, session: aiohttp.ClientSession, body: bytes) -> tuple[int, bytes]:
        import aiohttp

        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self._auth is not None:
            try:
                headers.update(await self._auth.headers(session))
            except CabinAuthError as exc:
                raise InsiUnavailable(InsiErrorReason.CREDENTIALS_REFUSED, status=401) from exc
            except NetworkFailure as exc:
                raise InsiUnavailable(InsiErrorReason.CONNECTION) from exc
        try:
            async with session.post(
                self._url,
                data=body,
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=self._timeout_s),
                ssl=self._ssl,
            ) as response:
                return response.status, await response.read()
        except TimeoutError as exc:
            raise InsiUnavailable(InsiErrorReason.TIMEOUT) from exc
        except aiohttp.ClientSSLError as exc:
            raise InsiUnavailable(InsiErrorReason.TLS) from exc
        except (aiohttp.ClientConnectionError, OSError) as exc:
            raise InsiUnavailable(InsiErrorReason.CONNECTION) from exc
        except aiohttp.ClientError as exc:
            raise InsiUnavailable(InsiErrorReason.PROTOCOL) from exc
