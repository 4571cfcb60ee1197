"""Looking at a store without changing what it holds: `kiosk store verify` and `stats`.

Why not `Store.open`: opening for use recovers (closes interrupted sessions,
moves a damaged file aside). A technician checking a cabin while the kiosk
runs must change nothing, and must see a damaged file as it is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlcipher3 import dbapi2

from app.store import audit
from app.store.connection import (
    DB_FILE_NAME,
    LEGACY_CIPHER_SETTINGS,
    Connection,
    ProbeResult,
    cipher_integrity_problems,
    connect,
    integrity_problems,
    probe_key,
)
from app.store.errors import NoStore, WrongKey
from app.store.keys import KeySource
from app.store.stats import collect


@dataclass
class VerifyReport:
    """Each check and what it found; `ok` only when all are clean."""

    lines: list[str] = field(default_factory=list)
    broken: bool = False

    def add(self, ok: bool, text: str) -> None:
        self.lines.append(("ok      " if ok else "BROKEN  ") + text)
        self.broken = self.broken or not ok


def open_for_inspection(data_dir: Path, key_source: KeySource) -> tuple[Connection, bool]:
    """A connection with whichever key opens the file; True when it is the staged key."""
    db_path = data_dir / DB_FILE_NAME
    if not db_path.exists():
        raise NoStore(data_dir)
    key = key_source.load()
    probe = probe_key(db_path, key)
    staged_used = False
    if (
        probe is not ProbeResult.OPENS
        and probe_key(db_path, key, settings=LEGACY_CIPHER_SETTINGS) is ProbeResult.OPENS
    ):
        # Not converted yet (the kiosk converts at its next start): read it as it is.
        return connect(db_path, key, settings=LEGACY_CIPHER_SETTINGS), False
    if probe is not ProbeResult.OPENS:
        staged = key_source.staged()
        if staged is None or probe_key(db_path, staged) is not ProbeResult.OPENS:
            raise WrongKey(db_path)
        key, staged_used = staged, True
    return connect(db_path, key), staged_used


def verify(data_dir: Path, key_source: KeySource) -> VerifyReport:
    report = VerifyReport()
    conn, staged_used = open_for_inspection(data_dir, key_source)
    try:
        if staged_used:
            report.lines.append(
                "note    an interrupted rekey is pending; the kiosk completes it at its next start"
            )
        try:
            # The HMAC check reads the main file, not the WAL: fold the WAL in first (PASSIVE:
            # it waits for nobody and changes no content, so it is safe while the kiosk runs).
            conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            pages = cipher_integrity_problems(conn)
        except dbapi2.DatabaseError as exc:
            pages = [f"the check could not run ({getattr(exc, 'sqlite_errorname', exc)})"]
        report.add(not pages, "cipher_integrity_check: " + ("clean" if not pages else ""))
        for problem in pages:
            report.lines.append(f"          {problem}")
        try:
            structure = integrity_problems(conn)
        except dbapi2.DatabaseError as exc:
            structure = [f"the check could not run ({getattr(exc, 'sqlite_errorname', exc)})"]
        report.add(not structure, "integrity_check: " + ("clean" if not structure else ""))
        for problem in structure:
            report.lines.append(f"          {problem}")
        try:
            verdict = audit.verify_chain(conn)
            report.add(verdict.ok, verdict.sentence())
        except dbapi2.DatabaseError as exc:
            report.add(
                False, f"audit chain could not be read ({getattr(exc, 'sqlite_errorname', exc)})"
            )
    finally:
        conn.close()
    return report


def stats(data_dir: Path, key_source: KeySource, now: datetime) -> dict[str, int | str | None]:
    conn, _ = open_for_inspection(data_dir, key_source)
    try:
        return collect(conn, data_dir / DB_FILE_NAME, now)
    finally:
        conn.close()
