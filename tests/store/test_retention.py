"""Purge only what the platform has acknowledged, after the retention; thresholds raise incidents."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from app.store import FileKeySource, OutboxState, RetentionPolicy, Store, StoreIncidentCode
from tests.store import factories as f

DAY = timedelta(days=1)


def _session(s: Store, sid: str, *, state: str) -> int:
    s.begin_session(sid, "CAB-01")
    s.record_identity(sid, f.identity())
    s.record_measurement(sid, f.temperature(f"{sid}-m"))
    s.record_trace(sid, f.device_incident())
    s.end_session(sid, "completed")
    item = s.outbox_for_session(sid)
    assert item is not None
    if state in ("acknowledged", "quarantined", "in_flight"):
        s.mark_in_flight(item.item_id)
    if state == "acknowledged":
        s.acknowledge(item.item_id, "sha256:aa")
    if state == "quarantined":
        s.quarantine(item.item_id, "HTTP 422")
    return item.item_id


def _open(data_dir: Path, clock: f.FakeClock, **policy: object) -> Store:
    return Store.open(data_dir, FileKeySource(data_dir), clock, policy=RetentionPolicy(**policy))  # type: ignore[arg-type]


def test_only_acknowledged_data_older_than_retention_is_purged(
    data_dir: Path, clock: f.FakeClock
) -> None:
    with _open(data_dir, clock, retention=7 * DAY) as s:
        for state in ("acknowledged", "ready", "in_flight", "quarantined"):
            _session(s, f"old-{state}", state=state)
        s.begin_session("old-open", "CAB-01")
        clock.advance(6 * DAY)
        _session(s, "young-acknowledged", state="acknowledged")
        assert s.purge().sessions == 0  # nothing yet: the oldest ack is 6 days old
        assert len(s.session_ids()) == 6
        clock.advance(DAY + timedelta(seconds=1))
        report = s.purge()
        assert (report.sessions, report.rows) == (
            1,
            5,
        )  # identity, measurement, trace, outbox, session
        assert sorted(s.session_ids()) == [
            "old-in_flight",
            "old-open",
            "old-quarantined",
            "old-ready",
            "young-acknowledged",
        ]
        last = s.audit_rows()[-1]
        assert (last.action, last.detail) == ("store.purge", "sessions=1 rows=5")
        assert s.verify_audit_chain().ok
        clock.advance(365 * DAY)
        s.purge()
        assert sorted(s.session_ids()) == [
            "old-in_flight",
            "old-open",
            "old-quarantined",
            "old-ready",
        ]


def test_zero_retention_purges_as_soon_as_acknowledged(data_dir: Path, clock: f.FakeClock) -> None:
    with _open(data_dir, clock, retention=timedelta(0)) as s:
        _session(s, "a", state="acknowledged")
        assert s.purge().sessions == 1
        assert s.session_ids() == []
        assert (
            not (data_dir / "store.db-wal").exists()
            or (data_dir / "store.db-wal").stat().st_size == 0
        )


def test_old_unsent_data_opens_an_incident_once_and_resolves_when_sent(
    data_dir: Path, clock: f.FakeClock
) -> None:
    with _open(data_dir, clock, max_unsent_age=timedelta(hours=48)) as s:
        item = _session(s, "a", state="ready")
        clock.advance(timedelta(hours=47))
        assert s.check_thresholds().too_old is False
        clock.advance(timedelta(hours=2))
        h = s.check_thresholds()
        assert (h.too_old, h.unsent_sessions, h.oldest_unsent_age) == (True, 1, timedelta(hours=49))
        [incident] = h.open_incidents
        assert incident.code is StoreIncidentCode.UNSENT_TOO_OLD
        assert incident.message == (
            "Data has been waiting to be sent for more than 48 hours; check the connection to the "
            "platform and the quarantine."
        )
        assert s.check_thresholds().open_incidents == (incident,)  # once, not at every check
        assert h.needs_attention
        s.mark_in_flight(item)
        s.acknowledge(item, "d")
        h = s.check_thresholds()
        assert (h.too_old, h.open_incidents) == (False, ())
        assert [(i.code, i.resolved_at) for i in s.incidents()] == [
            (StoreIncidentCode.UNSENT_TOO_OLD, clock.now)
        ]


def test_a_full_buffer_opens_an_incident(data_dir: Path, clock: f.FakeClock) -> None:
    with _open(data_dir, clock, max_buffer_bytes=64 * 1024) as s:
        for n in range(3):
            s.begin_session(f"s{n}", "CAB-01")
            s.record_document(
                f"s{n}",
                f"d{n}",
                kind="report",
                media_type="application/pdf",
                title="t",
                content=bytes(40_000),
            )
        h = s.check_thresholds()
        assert h.over_size and h.buffer_bytes > 64 * 1024
        assert [i.code for i in h.open_incidents] == [StoreIncidentCode.BUFFER_OVER_SIZE]
        words = h.open_incidents[0].message.split()
        assert words[:4] == ["The", "local", "buffer", "holds"] and int(words[4]) > 64 * 1024
        assert h.open_incidents[0].message.endswith(
            "bytes, more than the 65536 bytes configured; check the connection to the platform."
        )


def test_quarantined_sessions_are_never_purged_and_show_in_health(
    data_dir: Path, clock: f.FakeClock
) -> None:
    with _open(data_dir, clock, retention=timedelta(0)) as s:
        _session(s, "q", state="quarantined")
        clock.advance(3650 * DAY)
        s.purge()
        assert s.session_ids() == ["q"]
        assert s.health().quarantined == 1
        assert s.outbox_for_session("q").state is OutboxState.QUARANTINED  # type: ignore[union-attr]
