"""Session facts, written one per transaction inside the caller's `BEGIN`.

Every fact insert bumps the session's outbox row (`facts` counts the rows of
the session) in the same transaction: a fact is never stored without the
outbox entry that will carry it, and the crash test checks the count.
Audit rows name the session and the fact's id, never its content.
"""

from __future__ import annotations

import re
from datetime import datetime

from app.domain.consent import ConsentDecision
from app.domain.identity import PatientIdentity
from app.domain.measurements import ManualSource, Measurement
from app.domain.orientation import OrientationResult
from app.domain.session_effects import DocumentRecord, PaymentRecord
from app.domain.trace import TraceEntry
from app.domain.visit_reason import VisitReasonAnswer
from app.store import audit, codec
from app.store.connection import Connection
from app.store.errors import InvalidValue, SessionClosed, SessionExists, UnknownSession
from app.store.records import OutboxState, SessionRecord, StoredDocument
from app.store.timeutil import from_text, opt_from_text, to_text

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,79}$")

Fact = (
    TraceEntry
    | PatientIdentity
    | ConsentDecision
    | OrientationResult
    | Measurement
    | PaymentRecord
    | DocumentRecord
    | VisitReasonAnswer
)


def check_id(what: str, value: str) -> str:
    if not isinstance(value, str) or not _ID.fullmatch(value):
        raise InvalidValue(
            f"A {what} must be 1 to 80 letters, digits, '.', '_', ':' or '-', starting with a "
            "letter or digit."
        )
    return value


def begin(conn: Connection, session_id: str, cabin_id: str, at: datetime) -> None:
    check_id("session id", session_id)
    check_id("cabin id", cabin_id)
    if conn.execute("SELECT 1 FROM sessions WHERE id = ?", (session_id,)).fetchone():
        raise SessionExists(session_id)
    when = to_text(at)
    conn.execute(
        "INSERT INTO sessions (id, cabin_id, started_at) VALUES (?, ?, ?)",
        (session_id, cabin_id, when),
    )
    conn.execute(
        "INSERT INTO outbox (session_id, state, created_at) VALUES (?, ?, ?)",
        (session_id, OutboxState.OPEN.value, when),
    )
    audit.append(conn, at=at, actor="kiosk", action="session.begin", subject=session_id)


def _require_open(conn: Connection, session_id: str) -> None:
    row = conn.execute("SELECT ended_at FROM sessions WHERE id = ?", (session_id,)).fetchone()
    if row is None:
        raise UnknownSession(session_id)
    if row[0] is not None:
        raise SessionClosed(session_id)


def _count_fact(conn: Connection, session_id: str) -> None:
    conn.execute(
        "UPDATE outbox SET facts = facts + 1 WHERE session_id = ? AND state = ?",
        (session_id, OutboxState.OPEN.value),
    )


def record(conn: Connection, session_id: str, fact: Fact, at: datetime) -> None:
    """Store one fact of an open session (the controller's `WriteToStore`)."""
    _require_open(conn, session_id)
    when = to_text(at)
    actor = "kiosk"
    action: str
    detail = ""
    if isinstance(fact, PatientIdentity):
        conn.execute(
            "INSERT INTO identities (session_id, status, method, verified_by, payload, "
            "recorded_at) VALUES (?, ?, ?, ?, ?, ?)",
            (
                session_id,
                fact.status.value,
                fact.method.value,
                fact.verified_by,
                codec.identity_to_payload(fact),
                when,
            ),
        )
        action = "identity.record"
        detail = f"status={fact.status.value} method={fact.method.value}"
        if fact.verified_by is not None:
            actor = f"account:{check_id('account id', fact.verified_by)}"
    elif isinstance(fact, ConsentDecision):
        conn.execute(
            "INSERT INTO consents (session_id, item, choice, text_id, text_version, "
            "text_sha256, language, decided_at, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                session_id,
                fact.item.value,
                fact.choice.value,
                fact.text_id,
                fact.text_version,
                fact.text_sha256,
                fact.language,
                to_text(fact.at),
                when,
            ),
        )
        action = "consent.record"
        detail = f"item={fact.item.value} choice={fact.choice.value}"
    elif isinstance(fact, Measurement):
        check_id("measurement id", fact.id)
        manual = isinstance(fact.source, ManualSource)
        conn.execute(
            "INSERT INTO measurements (id, session_id, kind, manual, taken_at, payload, "
            "recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                fact.id,
                session_id,
                fact.kind.value,
                int(manual),
                to_text(fact.taken_at),
                codec.measurement_to_payload(fact),
                when,
            ),
        )
        action = "measurement.record"
        detail = f"measurement={fact.id} source={'manual' if manual else 'device'}"
        if isinstance(fact.source, ManualSource):
            actor = f"account:{check_id('account id', fact.source.professional_account_id)}"
    elif isinstance(fact, TraceEntry):
        conn.execute(
            "INSERT INTO trace_entries (session_id, at, kind, payload) VALUES (?, ?, ?, ?)",
            (session_id, to_text(fact.at), fact.kind.value, codec.trace_to_payload(fact)),
        )
        action = "trace.record"
        detail = f"kind={fact.kind.value}"
    elif isinstance(fact, OrientationResult):
        conn.execute(
            "INSERT INTO session_facts (session_id, kind, payload, recorded_at) "
            "VALUES (?, 'orientation', ?, ?)",
            (session_id, codec.orientation_to_payload(fact), when),
        )
        action = "orientation.record"
    elif isinstance(fact, PaymentRecord):
        conn.execute(
            "INSERT INTO session_facts (session_id, kind, payload, recorded_at) "
            "VALUES (?, 'payment', ?, ?)",
            (session_id, codec.payment_to_payload(fact), when),
        )
        action = "payment.record"
    elif isinstance(fact, VisitReasonAnswer):
        conn.execute(
            "INSERT INTO session_facts (session_id, kind, payload, recorded_at) "
            "VALUES (?, 'visit-reason', ?, ?)",
            (session_id, codec.visit_reason_to_payload(fact), when),
        )
        action = "visit-reason.record"
        detail = f"reasons={len(fact.reasons)}"
    elif isinstance(fact, DocumentRecord):
        check_id("document id", fact.document_id)
        inserted = conn.execute(
            "INSERT INTO documents (id, session_id, kind, created_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (session_id, id) DO NOTHING",
            (fact.document_id, session_id, fact.kind, when),
        ).rowcount
        if not inserted:  # the same document announced twice in one consultation: kept once
            audit.append(
                conn,
                at=at,
                actor=actor,
                action="document.record",
                subject=session_id,
                detail=f"document={fact.document_id} already-recorded",
            )
            return
        action = "document.record"
        detail = f"document={fact.document_id}"
    else:
        raise InvalidValue(f"The store does not know how to keep a {type(fact).__name__}.")
    _count_fact(conn, session_id)
    audit.append(conn, at=at, actor=actor, action=action, subject=session_id, detail=detail)


def attach_document(
    conn: Connection,
    session_id: str,
    document_id: str,
    *,
    kind: str,
    media_type: str,
    title: str,
    content: bytes,
    at: datetime,
) -> None:
    """Keep a document's content (adds the document to the session if it is not there yet)."""
    _require_open(conn, session_id)
    check_id("document id", document_id)
    check_id("document kind", kind)
    row = conn.execute(
        "SELECT 1 FROM documents WHERE session_id = ? AND id = ?", (session_id, document_id)
    ).fetchone()
    if row is None:
        conn.execute(
            "INSERT INTO documents (id, session_id, kind, media_type, title, content, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (document_id, session_id, kind, media_type, title, content, to_text(at)),
        )
        _count_fact(conn, session_id)
    else:
        conn.execute(
            "UPDATE documents SET kind = ?, media_type = ?, title = ?, content = ? "
            "WHERE session_id = ? AND id = ?",
            (kind, media_type, title, content, session_id, document_id),
        )
    audit.append(
        conn,
        at=at,
        actor="kiosk",
        action="document.content",
        subject=session_id,
        detail=f"document={document_id} bytes={len(content)}",
    )


def end(conn: Connection, session_id: str, reason: str, at: datetime, *, actor: str) -> None:
    """Close the session and make its outbox entry ready to send, in one transaction."""
    check_id("end reason", reason)
    _require_open(conn, session_id)
    when = to_text(at)
    conn.execute(
        "UPDATE sessions SET ended_at = ?, end_reason = ? WHERE id = ?",
        (when, reason, session_id),
    )
    conn.execute(
        "UPDATE outbox SET state = ?, ready_at = ? WHERE session_id = ?",
        (OutboxState.READY.value, when, session_id),
    )
    audit.append(
        conn,
        at=at,
        actor=actor,
        action="session.end",
        subject=session_id,
        detail=f"reason={reason}",
    )


def open_session_ids(conn: Connection) -> list[str]:
    return [
        r[0] for r in conn.execute("SELECT id FROM sessions WHERE ended_at IS NULL ORDER BY id")
    ]


def read(conn: Connection, session_id: str) -> SessionRecord:
    row = conn.execute(
        "SELECT cabin_id, started_at, ended_at, end_reason FROM sessions WHERE id = ?",
        (session_id,),
    ).fetchone()
    if row is None:
        raise UnknownSession(session_id)
    cabin_id, started_at, ended_at, end_reason = row
    identity_rows = conn.execute(
        "SELECT payload, recorded_at FROM identities WHERE session_id = ? ORDER BY id",
        (session_id,),
    ).fetchall()
    identities = tuple(codec.identity_from_payload(p) for p, _ in identity_rows)
    identity_times = tuple(from_text(at) for _, at in identity_rows)
    del identity_rows
    consents = tuple(
        codec.consent_from_row(tuple(r))
        for r in conn.execute(
            "SELECT item, choice, text_id, text_version, text_sha256, language, decided_at "
            "FROM consents WHERE session_id = ? ORDER BY id",
            (session_id,),
        )
    )
    measurements = tuple(
        codec.measurement_from_payload(mid, p)
        for mid, p in conn.execute(
            "SELECT id, payload FROM measurements WHERE session_id = ? ORDER BY rowid",
            (session_id,),
        )
    )
    trace = tuple(
        codec.trace_from_row(at, kind, p)
        for at, kind, p in conn.execute(
            "SELECT at, kind, payload FROM trace_entries WHERE session_id = ? ORDER BY id",
            (session_id,),
        )
    )
    orientation = None
    visit_reason = None
    payments = []
    for kind, p in conn.execute(
        "SELECT kind, payload FROM session_facts WHERE session_id = ? ORDER BY id", (session_id,)
    ):
        if kind == "orientation":
            orientation = codec.orientation_from_payload(p)
        elif kind == "visit-reason":
            visit_reason = codec.visit_reason_from_payload(p)
        else:
            payments.append(codec.payment_from_payload(p))
    documents = tuple(
        StoredDocument(
            document_id=d[0],
            kind=d[1],
            media_type=d[2],
            title=d[3],
            content=None if d[4] is None else bytes(d[4]),
            created_at=from_text(d[5]),
        )
        for d in conn.execute(
            "SELECT id, kind, media_type, title, content, created_at FROM documents "
            "WHERE session_id = ? ORDER BY rowid",
            (session_id,),
        )
    )
    return SessionRecord(
        session_id=session_id,
        cabin_id=cabin_id,
        started_at=from_text(started_at),
        ended_at=opt_from_text(ended_at),
        end_reason=end_reason,
        identity=identities[-1] if identities else None,
        identity_history=identities,
        identity_recorded_at=identity_times,
        consents=consents,
        measurements=measurements,
        trace=trace,
        orientation=orientation,
        payments=tuple(payments),
        documents=documents,
        visit_reason=visit_reason,
    )
