"""The audit chain shows edits, removals and truncation, and says where."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from app.store import BreakReason, FileKeySource, InvalidValue, Store
from app.store.audit import canonical, row_hash
from tests.store import factories as f
from tests.store.conftest import raw_connection


def _store_with_rows(data_dir: Path, clock: f.FakeClock) -> None:
    with Store.open(data_dir, FileKeySource(data_dir), clock) as s:
        s.begin_session("s-1", "CAB-01")
        s.record_measurement("s-1", f.temperature())
        s.append_audit("claire.inf", "auth.sign-in", outcome="refused", detail="bad-code")
        s.end_session("s-1", "completed")
        assert s.verify_audit_chain().rows_checked == 5


def _verdict(data_dir: Path, clock: f.FakeClock):  # type: ignore[no-untyped-def]
    with Store.open(data_dir, FileKeySource(data_dir), clock) as s:
        return s.verify_audit_chain()


def _tamper(data_dir: Path, sql: str, *params: object) -> None:
    conn = raw_connection(data_dir)
    conn.execute(sql, params)
    conn.close()


def test_first_row_hash_is_sha256_of_genesis_and_canonical_row(store: Store) -> None:
    [row] = store.audit_rows()
    body = b'[1,"2025-03-14T09:30:00.000000Z","kiosk","store.create","ok","-",""]'
    assert canonical(1, row.at, row.actor, row.action, row.outcome, row.subject, row.detail) == body
    assert row.prev_hash == "0" * 64
    assert row.hash == hashlib.sha256(bytes(32) + body).hexdigest() == row_hash("0" * 64, body)


def test_an_edited_row_is_named(data_dir: Path, clock: f.FakeClock) -> None:
    _store_with_rows(data_dir, clock)
    _tamper(data_dir, "UPDATE audit_log SET actor = 'someone' WHERE id = 3")
    v = _verdict(data_dir, clock)
    assert (v.broken_row, v.reason, v.rows_checked) == (3, BreakReason.ROW_ALTERED, 2)
    assert v.sentence() == (
        "audit chain broken at row 3: its content does not match its hash; the row was edited."
    )


def test_an_edited_row_with_a_recomputed_hash_breaks_the_next_link(
    data_dir: Path, clock: f.FakeClock
) -> None:
    _store_with_rows(data_dir, clock)
    conn = raw_connection(data_dir)
    r = conn.execute(
        "SELECT id, at, actor, action, outcome, subject, detail, prev_hash FROM audit_log WHERE id = 3"
    ).fetchone()
    forged = row_hash(r[7], canonical(r[0], r[1], "someone", r[3], r[4], r[5], r[6]))
    conn.execute("UPDATE audit_log SET actor = 'someone', hash = ? WHERE id = 3", (forged,))
    conn.close()
    v = _verdict(data_dir, clock)
    assert (v.broken_row, v.reason) == (4, BreakReason.CHAIN_BROKEN)
    assert v.sentence() == (
        "audit chain broken at row 4: its prev_hash does not match the hash of row 3; a row "
        "before it was replaced or removed."
    )


def test_a_removed_row_is_named(data_dir: Path, clock: f.FakeClock) -> None:
    _store_with_rows(data_dir, clock)
    _tamper(data_dir, "DELETE FROM audit_log WHERE id = 2")
    v = _verdict(data_dir, clock)
    assert (v.broken_row, v.reason) == (2, BreakReason.ROW_MISSING)
    assert v.explanation == "row 2 is missing (the next row present is 3)."


def test_rows_cut_off_the_end_show(data_dir: Path, clock: f.FakeClock) -> None:
    _store_with_rows(data_dir, clock)
    with Store.open(data_dir, FileKeySource(data_dir), clock) as s:
        total = s.verify_audit_chain().rows_checked
    _tamper(data_dir, "DELETE FROM audit_log WHERE id >= ?", total - 1)
    conn = raw_connection(data_dir)
    from app.store.audit import verify_chain

    v = verify_chain(conn)
    conn.close()
    assert (v.broken_row, v.reason) == (total - 1, BreakReason.TAIL_MISSING)
    assert v.explanation == (
        f"the log should end at row {total} but ends at row {total - 2}; rows were cut off the end."
    )


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("detail", "patient DUPONT Marie née le 12/03/1984"),
        ("subject", "temp 38.4°C"),
        ("actor", ""),
    ],
)
def test_free_text_is_refused_from_the_audit_log(store: Store, field: str, value: str) -> None:
    kwargs = {"actor": "kiosk", "action": "x.y", field: value}
    with pytest.raises(InvalidValue) as exc:
        store.append_audit(**kwargs)  # type: ignore[arg-type]
    assert str(exc.value).startswith(f"The audit field '{field}' must be a short identifier")
    assert value not in str(exc.value) or value == ""
    assert store.verify_audit_chain().rows_checked == 1
