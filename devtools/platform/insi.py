"""The platform's INSi relay: `POST /insi/query` (an extension of `create_app`).

Why the platform and not the kiosk: the real INSi teleservice is a SOAP
service of the Assurance Maladie reached with a CPS card or an establishment
(server) certificate. A cabin holds neither, and must not: the platform, run
by a certified health-data host, holds the certificate, calls INSi and hands
the kiosk a small JSON answer. Any platform can expose the same endpoint; the
JSON schema is in docs/insi.md.

This reference relay answers from a directory of fictional people (TEST AND
DEMO ONLY): the card simulator's patients and the appli carte Vitale demo
identity, each with the INS traits the card does not carry (every birth
first name, the INSEE code of the birth place). It never answers 500 to what
a kiosk sends: a body it cannot use is a 400 with an OperationOutcome that
names fields, never values.

Matching, as INSi does it in spirit (docs/insi.md):
- with a NIR, the candidates are the people known under it: their own NIR,
  or the card holder's NIR for a child on a parent's card (INSi gives the
  child its own NIR); none → 404; with no NIR, everybody is a candidate;
- a candidate fits when the birth name is the same, the first names given
  are the first of its birth first names (case, diacritics, hyphens and
  apostrophes ignored), the birth date and the sex are the same (an unknown
  sex fits any), and the birth place, when given, is the same;
- one fits → 200; several → 409 `several-candidates`; none, under a known
  NIR → 409 `traits-mismatch`; none, with no NIR → 404.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from aiohttp import web

from devtools.platform import jsontext
from devtools.platform.outcome import operation_outcome

INSI_PATH = "/insi/query"
OUTCOME_SYSTEM = "urn:telecabine:insi-outcome"
TEST_OID = "1.2.250.1.213.1.4.10"  # INS-NIR-TEST
DEMO_OID = "1.2.250.1.213.1.4.11"  # INS-NIR-DEMO
SEXES = ("male", "female", "unknown")

_NIR = re.compile(r"[0-9]{5}(?:[0-9]{2}|2[AB])[0-9]{8}")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_INSEE = re.compile(r"(?:[0-9]{2}|2[AB])[0-9]{3}")

Now = Callable[[], datetime]


@dataclass(frozen=True, slots=True)
class InsRecord:
    """One person as INSi knows them. `presented_under`: other NIRs that lead to
    them (the card holder's, for a child on a parent's card)."""

    ins: str
    kind: str  # "NIR" or "NIA"
    oid: str
    birth_name: str
    birth_first_names: tuple[str, ...]
    birth_date: date
    sex: str
    birth_place: str | None
    presented_under: frozenset[str] = field(default_factory=frozenset)

    def as_json(self) -> dict[str, Any]:
        return {
            "ins": {"value": self.ins, "kind": self.kind, "oid": self.oid},
            "traits": {
                "birthName": self.birth_name,
                "birthFirstNames": list(self.birth_first_names),
                "birthDate": self.birth_date.isoformat(),
                "sex": self.sex,
                "birthPlace": self.birth_place,
            },
        }


@dataclass(frozen=True, slots=True)
class InsiQuery:
    """What the kiosk knows: the NIR it read (if any) and the traits it has."""

    nir: str | None
    birth_name: str
    first_names: tuple[str, ...]
    birth_date: date
    sex: str
    birth_place: str | None


class QueryInvalid(ValueError):
    """A body the relay cannot use; `problems` name fields, never values."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(" ".join(problems))
        self.problems = problems


def _text(body: dict[str, Any], key: str, problems: list[str]) -> str | None:
    value = body.get(key)
    if not isinstance(value, str) or not _words(value):
        problems.append(f"'{key}' must be a non-empty string.")
        return None
    return value


def parse_query(body: Any) -> InsiQuery:
    """The query in a JSON body; raises `QueryInvalid` listing every problem."""
    if not isinstance(body, dict):
        raise QueryInvalid(["The body must be a JSON object."])
    problems: list[str] = []
    nir = body.get("nir")
    if nir is not None and not (isinstance(nir, str) and _NIR.fullmatch(nir)):
        problems.append("'nir' must be 15 characters (digits, 2A/2B for Corsica) or absent.")
    birth_name = _text(body, "birthName", problems)
    names = body.get("firstNames")
    if not (
        isinstance(names, list) and names and all(isinstance(n, str) and _words(n) for n in names)
    ):
        problems.append("'firstNames' must be a non-empty list of non-empty strings.")
        names = None
    born: date | None = None
    raw_date = body.get("birthDate")
    if isinstance(raw_date, str) and _DATE.fullmatch(raw_date):
        try:
            born = date.fromisoformat(raw_date)
        except ValueError:
            born = None
    if born is None:
        problems.append("'birthDate' must be a date written YYYY-MM-DD.")
    sex = body.get("sex")
    if sex not in SEXES:
        problems.append("'sex' must be one of male, female, unknown.")
    place = body.get("birthPlace")
    if place is not None and not (isinstance(place, str) and _INSEE.fullmatch(place)):
        problems.append("'birthPlace' must be a 5-character INSEE code or absent.")
    if problems:
        raise QueryInvalid(problems)
    assert birth_name is not None and names is not None and born is not None  # noqa: S101
    return InsiQuery(nir, birth_name, tuple(names), born, str(sex), place)


def _words(text: str) -> tuple[str, ...]:
    """Upper case, no diacritics; hyphens and apostrophes separate words."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    spaced = re.sub(r"[-'\u2019\s]+", " ", bare.upper())
    return tuple(spaced.split())


def _fits(record: InsRecord, query: InsiQuery) -> bool:
    given = tuple(w for name in query.first_names for w in _words(name))
    known = tuple(w for name in record.birth_first_names for w in _words(name))
    return (
        _words(record.birth_name) == _words(query.birth_name)
        and known[: len(given)] == given
        and record.birth_date == query.birth_date
        and (query.sex == "unknown" or query.sex == record.sex)
        and (query.birth_place is None or query.birth_place == record.birth_place)
    )


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: dict[str, Any]


def _refusal(status: int, issue: str, code: str, sentence: str) -> Answer:
    outcome = operation_outcome(issue, sentence)
    outcome["issue"][0]["details"] = {"coding": [{"system": OUTCOME_SYSTEM, "code": code}]}
    return Answer(status, outcome)


class InsiDirectory:
    """The people the relay knows, and the matching rule of the module docstring."""

    def __init__(self, records: Iterable[InsRecord]) -> None:
        self.records = tuple(records)

    def answer(self, query: InsiQuery, interrogated_at: datetime) -> Answer:
        if query.nir is None:
            candidates = self.records
        else:
            candidates = tuple(
                r for r in self.records if query.nir == r.ins or query.nir in r.presented_under
            )
            if not candidates:
                return _refusal(404, "not-found", "not-found", "INSi knows no one under this NIR.")
        fitting = [r for r in candidates if _fits(r, query)]
        if len(fitting) > 1:
            return _refusal(
                409,
                "conflict",
                "several-candidates",
                f"INSi found {len(fitting)} people with these traits; "
                "more traits are needed to tell them apart.",
            )
        if not fitting:
            if query.nir is None:
                return _refusal(
                    404, "not-found", "not-found", "INSi knows no one with these traits."
                )
            return _refusal(
                409,
                "conflict",
                "traits-mismatch",
                "INSi knows this NIR, but the traits given do not match its identity.",
            )
        body = fitting[0].as_json()
        body["interrogatedAt"] = interrogated_at.astimezone(UTC).isoformat().replace("+00:00", "Z")
        return Answer(200, body)

    @classmethod
    def reference(cls) -> InsiDirectory:
        """The card simulator's patients and the QR demo identity, with their INS traits."""
        from kiosk_demo.cards import EXPIRED, FAMILY, REFUSES_READ, SINGLE_ADULT
        from kiosk_demo.qr_codes import demo_identity

        # What the cards do not carry: (birth first names, sex, INSEE birth place).
        extra: dict[str, tuple[tuple[str, ...], str, str]] = {
            SINGLE_ADULT.beneficiaries[0].nir: (("MARIE-JOSEE", "ANNE"), "female", "97411"),
            FAMILY.beneficiaries[0].nir: (("PAUL", "ANTOINE"), "male", "2A004"),
            FAMILY.beneficiaries[1].nir: (("LEA", "CAMILLE"), "female", "75056"),
            FAMILY.beneficiaries[2].nir: (("TOM",), "male", "2B033"),
            EXPIRED.beneficiaries[0].nir: (("MARCEL", "HENRI", "JEAN"), "male", "33063"),
            REFUSES_READ.beneficiaries[0].nir: (("CLAIRE", "MARIE"), "female", "69123"),
        }
        records: list[InsRecord] = []
        for card in (SINGLE_ADULT, FAMILY, EXPIRED, REFUSES_READ):
            holder = card.beneficiaries[0].nir
            for person in card.beneficiaries:
                first_names, sex, place = extra[person.nir]
                records.append(
                    InsRecord(
                        ins=person.nir,
                        kind="NIR",
                        oid=TEST_OID,
                        birth_name=person.surname,
                        birth_first_names=first_names,
                        birth_date=date.fromisoformat(person.birth_date),
                        sex=sex,
                        birth_place=place,
                        presented_under=frozenset({holder} - {person.nir}),
                    )
                )
        qr = demo_identity(datetime(2026, 1, 1, tzinfo=UTC))
        records.append(
            InsRecord(
                ins=qr.nir,
                kind="NIR",
                oid=DEMO_OID,
                birth_name=qr.birth_name,
                birth_first_names=qr.first_names,
                birth_date=date.fromisoformat(qr.birth_date),
                sex={"M": "male", "F": "female"}.get(qr.sex, "unknown"),
                birth_place=qr.birth_place_insee,
            )
        )
        return cls(records)


class InsiRelay:
    """The endpoint's state: its directory, its clock, and whether INSi is up."""

    def __init__(self, directory: InsiDirectory, now: Now) -> None:
        self.directory = directory
        self.now = now
        self.available = True
        self.queries = 0

    async def handle(self, request: web.Request) -> web.Response:
        self.queries += 1
        if not self.available:
            answer = _refusal(
                503, "transient", "insi-unavailable", "The INSi teleservice cannot be reached now."
            )
            return _respond(answer, headers={"Retry-After": "30"})
        raw = await request.read()
        try:
            try:
                body = jsontext.loads(raw)
            except (ValueError, RecursionError) as exc:
                raise QueryInvalid(["The body is not valid JSON."]) from exc
            query = parse_query(body)
        except QueryInvalid as exc:
            return _respond(_refusal(400, "invalid", "invalid-query", " ".join(exc.problems)))
        return _respond(self.directory.answer(query, self.now()))


def _respond(answer: Answer, headers: dict[str, str] | None = None) -> web.Response:
    content_type = "application/json" if answer.status == 200 else "application/fhir+json"
    return web.Response(
        status=answer.status,
        body=jsontext.dumps(answer.body).encode("utf-8"),
        content_type=content_type,
        charset="utf-8",
        headers=headers,
    )


INSI_KEY = web.AppKey("platform_insi", InsiRelay)


def install(
    app: web.Application,
    *,
    directory: InsiDirectory | None = None,
    now: Now | None = None,
) -> None:
    """Add `POST /insi/query` to ``app`` (an extension of `create_app`)."""
    relay = InsiRelay(directory or InsiDirectory.reference(), now or (lambda: datetime.now(UTC)))
    app[INSI_KEY] = relay
    app.router.add_post(INSI_PATH, relay.handle)


def set_insi_available(app: web.Application, available: bool) -> None:
    """Make the relay answer 503 (INSi down behind the platform) or normally again."""
    app[INSI_KEY].available = available
