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

from app.store import audit, retention
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
from app.store.opening import moved_aside_files, proves_damage
from app.store.records import StoreIncidentCode
from app.store.stats import collect


@dataclass
class VerifyReport:
    """Each check and what it found; `ok` only when all are clean."""

    lines: list[str] = field(default_factory=list)
    broken: bool = False
    incomplete: bool = False  # a check could not run (disk full, I/O): neither ok nor broken

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
        pages: list[str] | None
        try:
            # The HMAC check reads the main file, not the WAL: fold the WAL in first (PASSIVE:
            # it waits for nobody and changes no content, so it is safe while the kiosk runs).
            conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            pages = cipher_integrity_problems(conn)
        except dbapi2.DatabaseError as exc:
            if not proves_damage(exc):
                # A full disk or an I/O error stops the check; it says nothing about the data.
                report.incomplete = True
                report.lines.append(
                    "note    cipher_integrity_check could not run "
                    f"({getattr(exc, 'sqlite_errorname', type(exc).__name__)}): "
                    "free space on the disk and run verify again"
                )
                pages = None
            else:
                pages = [f"the check found damage ({getattr(exc, 'sqlite_errorname', exc)})"]
        if pages is not None:
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
        _moved_aside(report, data_dir, conn)
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


def _moved_aside(report: VerifyReport, data_dir: Path, conn: Connection) -> None:
    """A database moved aside is data that never reached the platform: never 'ok'.

    Reported while the file is in the data folder (and while its incident is
    open); it clears once a technician has taken the file away for recovery
    (docs/store.md, "Transient or corrupt").
    """
    moved = moved_aside_files(data_dir)
    try:
        open_incidents = [
            i
            for i in retention.open_incidents(conn)
            if i.code is StoreIncidentCode.CORRUPT_MOVED_ASIDE
        ]
    except dbapi2.DatabaseError:
        open_incidents = []
    if not moved and not open_incidents:
        report.add(True, "no damaged database moved aside")
        return
    for name in moved:
        report.add(
            False,
            f"a damaged database was moved aside to {name} (kept in {data_dir}); what it "
            "holds was not sent: hand it to support for recovery, then move it out of the folder",
        )
    if not moved:
        report.lines.append(
            "note    the damaged database moved aside earlier is no longer in the folder; "
            "its incident is still open:"
        )
    for incident in open_incidents:
        report.lines.append(f"          incident {incident.incident_id}: {incident.message}")


def stats(data_dir: Path, key_source: KeySource, now: datetime) -> dict[str, int | str | None]:
    conn, _ = open_for_inspection(data_dir, key_source)
    try:
        return collect(conn, data_dir / DB_FILE_NAME, now)
    finally:
        conn.close()
