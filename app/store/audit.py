"""The audit log: who did what, chained by SHA-256 so that an edit shows.

Each row stores `prev_hash` (the previous row's hash, or 64 zeros for the
first) and `hash = SHA-256(bytes(prev_hash) || canonical(row))`, where the
canonical form is a compact JSON array of the row's fields in a fixed order.
The id and hash of the last row are also kept in `meta` ('audit_head') in
the same transaction, so that cutting rows off the end shows too.

Rows hold ids, usernames, action names, outcomes and counts — never a name,
a NIR, a date of birth or a measured value. `append` refuses text that looks
like it could carry one (too long, or with characters outside a small set).
"""

from __future__ import annotations

import enum
import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime

from app.store.connection import Connection
from app.store.errors import InvalidValue
from app.store.timeutil import to_text

GENESIS_HASH = "0" * 64
HEAD_KEY = "audit_head"

_TOKEN = re.compile(r"^[A-Za-z0-9:._@/+=-]{1,80}$")
_DETAIL = re.compile(r"^[A-Za-z0-9:._@/+=, -]{0,200}$")


@dataclass(frozen=True)
class AuditRow:
    id: int
    at: str
    actor: str
    action: str
    outcome: str
    subject: str
    detail: str
    prev_hash: str
    hash: str


def canonical(
    row_id: int, at: str, actor: str, action: str, outcome: str, subject: str, detail: str
) -> bytes:
    return json.dumps(
        [row_id, at, actor, action, outcome, subject, detail],
        ensure_ascii=True,
        separators=(",", ":"),
    ).encode("ascii")


def row_hash(prev_hash: str, body: bytes) -> str:
    return hashlib.sha256(bytes.fromhex(prev_hash) + body).hexdigest()


def _check_token(field: str, value: str, pattern: re.Pattern[str]) -> None:
    if not pattern.fullmatch(value):
        raise InvalidValue(
            f"The audit field '{field}' must be a short identifier "
            f"(letters, digits and . _ : @ / + = -), not free text; it holds {len(value)} "
            "characters and was refused."
        )


def append(
    conn: Connection,
    *,
    at: datetime,
    actor: str,
    action: str,
    outcome: str = "ok",
    subject: str = "-",
    detail: str = "",
) -> int:
    """Add one row inside the caller's transaction; return its id."""
    _check_token("actor", actor, _TOKEN)
    _check_token("action", action, _TOKEN)
    _check_token("outcome", outcome, _TOKEN)
    _check_token("subject", subject, _TOKEN)
    _check_token("detail", detail, _DETAIL)
    head = conn.execute("SELECT value FROM meta WHERE key = ?", (HEAD_KEY,)).fetchone()
    if head is None:
        last_id, prev = 0, GENESIS_HASH
    else:
        text_id, prev = str(head[0]).split(":", 1)
        last_id = int(text_id)
    row_id = last_id + 1
    when = to_text(at)
    digest = row_hash(prev, canonical(row_id, when, actor, action, outcome, subject, detail))
    conn.execute(
        "INSERT INTO audit_log (id, at, actor, action, outcome, subject, detail, prev_hash, hash)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (row_id, when, actor, action, outcome, subject, detail, prev, digest),
    )
    conn.execute(
        "INSERT INTO meta (key, value) VALUES (?, ?) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (HEAD_KEY, f"{row_id}:{digest}"),
    )
    return row_id


class BreakReason(enum.StrEnum):
    ROW_ALTERED = "row-altered"
    CHAIN_BROKEN = "chain-broken"
    ROW_MISSING = "row-missing"
    TAIL_MISSING = "tail-missing"


@dataclass(frozen=True)
class ChainVerdict:
    """The result of walking the chain. `broken_row` is the first row that fails."""

    rows_checked: int
    broken_row: int | None = None
    reason: BreakReason | None = None
    explanation: str = ""

    @property
    def ok(self) -> bool:
        return self.broken_row is None

    def sentence(self) -> str:
        if self.ok:
            return f"audit chain intact ({self.rows_checked} rows)"
        return f"audit chain broken at row {self.broken_row}: {self.explanation}"


def verify_chain(conn: Connection) -> ChainVerdict:
    """Walk every row in id order; stop at the first one that does not hold."""
    prev = GENESIS_HASH
    expected_id = 1
    checked = 0
    cursor = conn.execute(
        "SELECT id, at, actor, action, outcome, subject, detail, prev_hash, hash"
        " FROM audit_log ORDER BY id"
    )
    for row in cursor:
        r = AuditRow(*row)
        if r.id != expected_id:
            return ChainVerdict(
                checked,
                expected_id,
                BreakReason.ROW_MISSING,
                f"row {expected_id} is missing (the next row present is {r.id}).",
            )
        if r.prev_hash != prev:
            return ChainVerdict(
                checked,
                r.id,
                BreakReason.CHAIN_BROKEN,
                f"its prev_hash does not match the hash of row {r.id - 1}; a row before it "
                "was replaced or removed.",
            )
        body = canonical(r.id, r.at, r.actor, r.action, r.outcome, r.subject, r.detail)
        if row_hash(r.prev_hash, body) != r.hash:
            return ChainVerdict(
                checked,
                r.id,
                BreakReason.ROW_ALTERED,
                "its content does not match its hash; the row was edited.",
            )
        prev = r.hash
        expected_id += 1
        checked += 1
    head = conn.execute("SELECT value FROM meta WHERE key = ?", (HEAD_KEY,)).fetchone()
    last_id = expected_id - 1
    if head is not None:
        text_id, head_hash = str(head[0]).split(":", 1)
        if int(text_id) != last_id or head_hash != prev:
            return ChainVerdict(
                checked,
                last_id + 1,
                BreakReason.TAIL_MISSING,
                f"the log should end at row {text_id} but ends at row {last_id}; rows were "
                "cut off the end.",
            )
    elif checked:
        return ChainVerdict(
            checked,
            1,
            BreakReason.TAIL_MISSING,
            "the record of the last row is missing from the store's metadata.",
        )
    return ChainVerdict(checked)
