"""The generated corpus really holds every kind of session the issue names.

Issue 13 asks for at least 200 varied sessions: card, QR (appli carte Vitale),
manual, NIA, partial dates, no first name, refusals, skipped and manual
measurements, dropped calls, degraded paths, large documents. This counts
them in the corpus the engine tests send, so a change to the generator cannot
quietly drop a kind.
"""

from __future__ import annotations

import collections

from app.domain.consent import ConsentChoice
from app.domain.identity import BirthDatePrecision, CollectionMethod, IdentifierKind
from app.domain.measurements import ManualSource
from app.domain.trace import IncidentCode, TraceKind
from app.sync.fhir_bundle import session_bundle
from app.sync.fhir_json import dump_bytes
from tests.fhirserver.corpus import corpus, invalid_session
from tests.sync.sessions import TEST_SITE

INLINE_LIMIT = 786_432  # UploadSettings.inline_max_bytes: over it, a server's 1 MB string


def kinds_of(count: int = 200) -> collections.Counter[str]:
    seen: collections.Counter[str] = collections.Counter()
    for s in corpus(count):
        identity = s.identity
        assert identity is not None
        traits = identity.traits
        method = identity.method
        seen[f"way:{method.name}"] += 1
        if identity.identifier_kind is IdentifierKind.NIA:
            seen["nia"] += 1
        if traits.birth_date_precision is not BirthDatePrecision.DAY:
            seen[f"partial date:{traits.birth_date_precision.name}"] += 1
        if not traits.birth_first_names and not traits.first_name_used:
            seen["no first name"] += 1
        trace = {e.kind for e in s.trace}
        codes = {e.incident for e in s.trace if e.incident is not None}
        if any(c.choice is ConsentChoice.REFUSED for c in s.consents):
            seen["consent refused"] += 1
        if any(c.choice is ConsentChoice.WITHDRAWN for c in s.consents):
            seen["consent withdrawn"] += 1
        if TraceKind.MEASUREMENT_REFUSED in trace:
            seen["measurement refused"] += 1
        if TraceKind.MEASUREMENT_SKIPPED in trace:
            seen["measurement skipped"] += 1
        if any(isinstance(m.source, ManualSource) for m in s.measurements):
            seen["manual measurement"] += 1
        if IncidentCode.CALL_DROPPED in codes:
            seen["dropped call"] += 1
        if codes & {IncidentCode.PLATFORM_UNREACHABLE, IncidentCode.CALL_MEDIA_CHECK_FAILED}:
            seen["degraded path"] += 1
        if any(d.content is not None and len(d.content) > INLINE_LIMIT for d in s.documents):
            seen["large document"] += 1
        seen[f"end:{s.end_reason}"] += 1
    return seen


def test_the_corpus_holds_every_kind_of_session_the_issue_names() -> None:
    seen = kinds_of()
    print(dict(sorted(seen.items())))
    wanted = [
        f"way:{CollectionMethod.CV.name}",  # card
        f"way:{CollectionMethod.AV.name}",  # QR of the appli carte Vitale
        f"way:{CollectionMethod.SM.name}",  # manual entry
        "nia",
        "partial date:MONTH",
        "partial date:YEAR",
        "no first name",
        "consent refused",
        "consent withdrawn",
        "measurement refused",
        "measurement skipped",
        "manual measurement",
        "dropped call",
        "degraded path",
        "large document",
        "end:stopped",
        "end:emergency",
        "end:interrupted",
    ]
    missing = [k for k in wanted if seen[k] < 3]
    assert not missing, f"the corpus lacks (fewer than 3 sessions): {missing}"


def test_the_corpus_is_200_distinct_sessions_and_bundles() -> None:
    sessions = corpus(200)
    assert len({s.session_id for s in sessions}) == 200
    bundles = {dump_bytes(session_bundle(s, TEST_SITE)) for s in sessions[:40]}
    assert len(bundles) == 40
    assert invalid_session().session_id not in {s.session_id for s in sessions}
