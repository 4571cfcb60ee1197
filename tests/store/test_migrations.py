"""A database built at every earlier schema version, filled, then migrated: the data survives."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlcipher3 import dbapi2

from app.store import AccountRole, FileKeySource, Store, StoredAccount
from app.store.codec import dumps, identity_to_payload, loads, measurement_to_payload
from app.store.connection import connect
from app.store.keys import StoreKey
from app.store.migrations import LATEST_VERSION, MIGRATIONS, Migration, migrate, schema_version
from app.store.opening import write_keycheck
from tests.store import factories as f

T = "2025-03-14T09:30:00.000000Z"


def _T() -> datetime:  # noqa: N802 - T as a datetime
    return datetime(2025, 3, 14, 9, 30, tzinfo=UTC)


def _identity_payload_as_written_then() -> str:
    """Earlier versions wrote no birth-date precision: every stored date was whole."""
    payload = loads(identity_to_payload(f.identity()))
    del payload["traits"]["birth_date_precision"]
    return dumps(payload)


def _fill_v1(conn) -> None:  # type: ignore[no-untyped-def]
    conn.execute(
        "INSERT INTO sessions (id, cabin_id, started_at, ended_at, end_reason) VALUES ('old', 'CAB-01', ?, ?, 'completed')",
        (T, T),
    )
    conn.execute(
        "INSERT INTO identities (session_id, status, method, verified_by, payload, recorded_at) VALUES ('old', 'QUAL', 'CV', 'marie.ph', ?, ?)",
        (_identity_payload_as_written_then(), T),
    )
    conn.execute(
        "INSERT INTO measurements (id, session_id, kind, manual, taken_at, payload, recorded_at) VALUES ('m-1', 'old', 'body-temperature', 0, ?, ?, ?)",
        (T, measurement_to_payload(f.temperature()), T),
    )
    conn.execute(
        "INSERT INTO outbox (session_id, state, facts, created_at, ready_at) VALUES ('old', 'ready', 2, ?, ?)",
        (T, T),
    )


def _fill_v2(conn) -> None:  # type: ignore[no-untyped-def]
    _fill_v1(conn)
    conn.execute(
        "INSERT INTO accounts (username, display_name, role, password_hash, totp_secret, created_at) VALUES ('claire.inf', 'Claire', 'assistant', '$argon2id$v=19$x', 'JBSWY3DP', ?)",
        (T,),
    )


def _fill_v3(conn) -> None:  # type: ignore[no-untyped-def]
    _fill_v2(conn)
    conn.execute(
        "INSERT INTO session_facts (session_id, kind, payload, recorded_at) VALUES ('old', 'payment', ?, ?)",
        ('{"reference":"PAY-1"}', T),
    )
    conn.execute("UPDATE outbox SET facts = 3 WHERE session_id = 'old'")


def _fill_v4(conn) -> None:  # type: ignore[no-untyped-def]
    _fill_v3(conn)
    conn.execute(
        "INSERT INTO documents (id, session_id, kind, media_type, title, content, created_at) VALUES ('doc-1', 'old', 'report', 'application/pdf', 'Compte rendu', ?, ?)",
        (b"%PDF-1.7", T),
    )
    conn.execute("UPDATE outbox SET facts = 4 WHERE session_id = 'old'")


def _fill_v5(conn) -> None:  # type: ignore[no-untyped-def]
    _fill_v4(conn)
    conn.execute(
        "UPDATE accounts SET last_totp_step = 59000000, failed_attempts = 2 WHERE username = 'claire.inf'"
    )


FILLERS = {1: _fill_v1, 2: _fill_v2, 3: _fill_v3, 4: _fill_v4, 5: _fill_v5}


def test_the_migrations_are_numbered_one_by_one() -> None:
    assert [m.version for m in MIGRATIONS] == list(range(1, LATEST_VERSION + 1))


@pytest.mark.parametrize("version", sorted(FILLERS))
def test_a_database_at_an_earlier_version_migrates_with_its_data(
    tmp_path: Path, version: int
) -> None:
    assert set(FILLERS) == set(range(1, LATEST_VERSION))  # a filler for every earlier version
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    key = FileKeySource(data_dir).load()
    conn = connect(data_dir / "store.db", key)
    assert migrate(conn, target=version) == list(range(1, version + 1))
    conn.execute("BEGIN")
    FILLERS[version](conn)
    conn.execute("COMMIT")
    conn.close()
    write_keycheck(data_dir, key)

    with Store.open(data_dir, FileKeySource(data_dir), f.FakeClock()) as s:
        assert s.open_report.migrated_to == tuple(range(version + 1, LATEST_VERSION + 1))
        r = s.session_bundle_source("old")
        assert r.identity == f.identity()
        assert r.measurements == (f.temperature(),)
        [item] = s.pending_outbox()
        assert (item.session_id, item.not_before, item.last_error) == ("old", None, None)
        if version >= 3:
            assert [p.reference for p in r.payments] == ["PAY-1"]
        if version >= 4:
            assert [(d.document_id, d.content) for d in r.documents] == [("doc-1", b"%PDF-1.7")]
        if version >= 2:
            account = s.get_account("claire.inf")
            assert account is not None
            assert (account.display_name, account.last_totp_step, account.password_hash) == (
                "Claire",
                59000000 if version >= 5 else None,
                "$argon2id$v=19$x",
            )
            assert account.failed_attempts == (2 if version >= 5 else 0)
        assert [r.action for r in s.audit_rows()] == ["store.migrate"]
        assert s.audit_rows()[0].detail == f"from={version} to={LATEST_VERSION}"
        s.begin_session("new", "CAB-01")  # the new tables work
        s.record_document(
            "new", "doc-1", kind="report", media_type="text/plain", title="t", content=b"x"
        )  # an id an earlier session holds too: since v5 a document is keyed per session
        assert [d.content for d in s.session_bundle_source("new").documents] == [b"x"]
        staff = StoredAccount(  # since v6 an on-site staff account can be kept
            "lea.accueil", "Léa", AccountRole.ON_SITE_STAFF, "$argon2id$v=19$y", "KRSXG5A", _T()
        )
        s.add_account(staff, actor="cli:test")
        assert s.get_account("lea.accueil") == staff


def test_a_failed_step_leaves_the_previous_version(tmp_path: Path) -> None:
    conn = connect(tmp_path / "store.db", StoreKey.generate())
    migrate(conn, target=1)
    broken = Migration(2, "broken", ("CREATE TABLE accounts (x)", "THIS IS NOT SQL"))
    with pytest.raises(dbapi2.OperationalError, match="syntax error"):
        migrate(conn, target=2, steps=(MIGRATIONS[0], broken))
    assert schema_version(conn) == 1
    assert (
        conn.execute("SELECT count(*) FROM sqlite_schema WHERE name = 'accounts'").fetchone()[0]
        == 0
    )
    conn.close()
