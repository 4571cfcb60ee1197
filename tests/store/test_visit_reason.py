"""The visit reason (the patient's words about why they came) is a fact the store keeps:
it travels with the session; the audit row names only how many reasons were chosen."""

from __future__ import annotations

from app.domain.visit_reason import VisitReason, VisitReasonAnswer
from app.store import Store
from tests.store import factories as f


def test_a_visit_reason_is_kept_and_read_back_without_reaching_the_audit(store: Store) -> None:
    store.begin_session("s-1", "CAB-01")
    reasons = tuple(VisitReason)[:2]
    answer = VisitReasonAnswer(f.T0, reasons, "CANARYWORDS mal au dos depuis hier")
    store.record("s-1", answer)
    store.end_session("s-1", "completed")
    record = store.session_bundle_source("s-1")
    assert record.visit_reason == answer
    assert store.outbox_for_session("s-1") is not None
    rows = store.audit_rows(limit=100)
    assert any(r.action == "visit-reason.record" and r.detail == "reasons=2" for r in rows)
    assert not any("CANARYWORDS" in repr(r) for r in rows)


def test_left_to_the_doctor_is_kept_too(store: Store) -> None:
    store.begin_session("s-2", "CAB-01")
    store.record("s-2", VisitReasonAnswer(f.T0))
    assert store.session_bundle_source("s-2").visit_reason == VisitReasonAnswer(f.T0)
