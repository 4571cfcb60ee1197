"""Session facts round-trip through the real encrypted file, exactly."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from app.domain.consent import ConsentItem
from app.domain.orientation import OrientationAnswers, assess
from app.domain.session_effects import DocumentRecord, PaymentRecord
from app.domain.trace import SYSTEM, IncidentCode, TraceEntry, TraceKind
from app.store import (
    FileKeySource,
    InvalidValue,
    OutboxState,
    SessionClosed,
    SessionExists,
    Store,
    StoreInUse,
    UnknownSession,
)
from tests.store import factories as f


def _full_session(store: Store, clock: f.FakeClock, sid: str = "s-1") -> None:
    store.begin_session(sid, "CAB-01")
    store.record_trace(sid, f.trace())
    store.record_identity(sid, f.provisional_identity())
    store.record_identity(sid, f.identity())
    store.record_consent(sid, f.consent())
    store.record_consent(sid, f.consent(ConsentItem.DATA_SHARING, "Partage."))
    store.record(sid, assess(OrientationAnswers(has_medecin_traitant=False), 40))
    store.record_measurement(sid, f.temperature())
    store.record_measurement(sid, f.blood_pressure_manual())
    store.record_trace(sid, f.device_incident())
    store.record(sid, DocumentRecord("doc-1", "report"))
    store.record_document(
        sid,
        "doc-1",
        kind="report",
        media_type="application/pdf",
        title="Compte rendu",
        content=b"%PDF-1.7",
    )
    store.record(sid, PaymentRecord("pay-42"))
    clock.advance(timedelta(minutes=20))
    store.end_session(sid, "completed")


def test_every_fact_comes_back_exactly(store: Store, clock: f.FakeClock) -> None:
    _full_session(store, clock)
    r = store.session_bundle_source("s-1")
    assert (r.session_id, r.cabin_id, r.started_at, r.end_reason) == (
        "s-1",
        "CAB-01",
        f.T0,
        "completed",
    )
    assert r.ended_at == f.T0 + timedelta(minutes=20)
    assert r.identity == f.identity()
    assert r.identity_history == (f.provisional_identity(), f.identity())
    assert r.consents == (f.consent(), f.consent(ConsentItem.DATA_SHARING, "Partage."))
    assert r.measurements == (f.temperature(), f.blood_pressure_manual())
    assert str(r.measurements[0].components[0].value) == "38.4"  # the device's digits, kept
    assert r.trace == (f.trace(), f.device_incident())
    assert r.orientation == assess(OrientationAnswers(has_medecin_traitant=False), 40)
    assert r.payments == (PaymentRecord("pay-42"),)
    assert [(d.document_id, d.kind, d.media_type, d.title, d.content) for d in r.documents] == [
        ("doc-1", "report", "application/pdf", "Compte rendu", b"%PDF-1.7")
    ]


def test_outbox_entry_counts_every_fact_and_becomes_ready_at_end(
    store: Store, clock: f.FakeClock
) -> None:
    store.begin_session("s-1", "CAB-01")
    store.record_measurement("s-1", f.temperature())
    item = store.outbox_for_session("s-1")
    assert item is not None and item.state is OutboxState.OPEN
    assert store.pending_outbox() == []  # an open session is not sent
    clock.advance(timedelta(minutes=5))
    store.end_session("s-1", "stopped")
    [ready] = store.pending_outbox()
    assert (ready.session_id, ready.state, ready.ready_at) == ("s-1", OutboxState.READY, clock.now)
    facts = store._read("facts", lambda c: c.execute("SELECT facts FROM outbox").fetchone()[0])
    assert facts == 1


def test_writing_to_an_ended_or_unknown_session_is_refused(store: Store) -> None:
    store.begin_session("s-1", "CAB-01")
    store.end_session("s-1", "completed")
    with pytest.raises(SessionClosed) as closed:
        store.record_measurement("s-1", f.temperature())
    assert str(closed.value) == "The session 's-1' has ended; nothing more can be recorded in it."
    with pytest.raises(UnknownSession) as unknown:
        store.record_trace("nope", f.trace())
    assert str(unknown.value) == "There is no session 'nope' in the store."
    with pytest.raises(SessionExists):
        store.begin_session("s-1", "CAB-01")
    assert store.session_bundle_source("s-1").measurements == ()


def test_a_refused_write_leaves_nothing_behind(store: Store) -> None:
    store.begin_session("s-1", "CAB-01")
    store.record_measurement("s-1", f.temperature("m-1"))
    before = store.verify_audit_chain().rows_checked
    with pytest.raises(InvalidValue):
        store.record_measurement("s-1", f.temperature("bad id with spaces"))
    assert store.verify_audit_chain().rows_checked == before
    assert [m.id for m in store.session_bundle_source("s-1").measurements] == ["m-1"]


def test_a_duplicate_measurement_id_is_refused_and_rolls_back(store: Store) -> None:
    store.begin_session("s-1", "CAB-01")
    store.record_measurement("s-1", f.temperature("m-1"))
    with pytest.raises(InvalidValue) as exc:
        store.record_measurement("s-1", f.temperature("m-1", "37.0"))
    assert str(exc.value) == (
        "'record Measurement' was refused: it conflicts with what the store already holds "
        "(SQLITE_CONSTRAINT). Nothing of it was kept."
    )
    assert store.session_bundle_source("s-1").measurements == (f.temperature("m-1"),)


def test_a_crash_mid_session_closes_it_as_interrupted_at_next_open(
    data_dir: Path, clock: f.FakeClock
) -> None:
    s = Store.open(data_dir, FileKeySource(data_dir), clock)
    s.begin_session("s-1", "CAB-01")
    s.record_trace("s-1", f.trace(TraceKind.SESSION_STARTED))
    assert s._conn is not None
    s._conn.close()  # the process dies: no end_session, no clean close
    s._conn = None
    s.close()
    clock.advance(timedelta(hours=1))
    with Store.open(data_dir, FileKeySource(data_dir), clock) as again:
        assert again.open_report.interrupted_sessions == 1
        r = again.session_bundle_source("s-1")
        assert (r.end_reason, r.ended_at) == ("interrupted", clock.now)
        # The trace tells the platform why the act stopped, at the time the kiosk came back.
        assert r.trace == (
            f.trace(TraceKind.SESSION_STARTED),
            TraceEntry(
                clock.now,
                TraceKind.INCIDENT,
                SYSTEM,
                None,
                IncidentCode.KIOSK_RESTARTED,
                "The kiosk restarted during the session; what was recorded was kept and sent.",
            ),
        )
        assert [i.session_id for i in again.pending_outbox()] == ["s-1"]
        actions = [(a.actor, a.action, a.subject, a.detail) for a in again.audit_rows()][-3:]
        assert actions == [
            ("kiosk", "trace.record", "s-1", "kind=incident"),
            ("kiosk", "session.end", "s-1", "reason=interrupted"),
            ("kiosk", "store.incident", "-", "code=session-interrupted"),
        ]


def test_one_process_at_a_time(store: Store, data_dir: Path, clock: f.FakeClock) -> None:
    with pytest.raises(StoreInUse) as exc:
        Store.open(data_dir, FileKeySource(data_dir), clock)
    assert "already open in another process" in str(exc.value)


def test_the_same_document_id_in_two_sessions_is_two_documents(
    store: Store, clock: f.FakeClock
) -> None:
    """The platform names documents per consultation: "ordonnance-1" comes back every session."""
    for sid, content in (("s-1", b"first"), ("s-2", b"second")):
        store.begin_session(sid, "CAB-01")
        store.record(sid, DocumentRecord("ordonnance-1", "prescription"))
        store.record_document(
            sid,
            "ordonnance-1",
            kind="prescription",
            media_type="application/pdf",
            title="Ordonnance",
            content=content,
        )
        store.end_session(sid, "completed")
    for sid, content in (("s-1", b"first"), ("s-2", b"second")):
        [doc] = store.session_bundle_source(sid).documents
        assert (doc.document_id, doc.content) == ("ordonnance-1", content)


def test_a_document_announced_twice_in_one_session_is_kept_once(
    store: Store, clock: f.FakeClock
) -> None:
    store.begin_session("s-1", "CAB-01")
    store.record("s-1", DocumentRecord("doc-1", "report"))
    store.record("s-1", DocumentRecord("doc-1", "report"))  # the doctor's console sent it again
    assert [d.document_id for d in store.session_bundle_source("s-1").documents] == ["doc-1"]
    assert [r.detail for r in store.audit_rows() if r.action == "document.record"] == [
        "document=doc-1",
        "document=doc-1 already-recorded",
    ]
