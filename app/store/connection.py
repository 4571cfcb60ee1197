"""Opening one SQLCipher connection with the settings health data needs.

The key is first tried on a read-only connection: a read-write connection
that fails to decrypt still checkpoints the WAL into the main file when it
closes, which would change a file we were told to leave untouched.
"""

from __future__ import annotations

import enum
from pathlib import Path
from typing import Any

from sqlcipher3 import dbapi2

from app.store.keys import StoreKey

Connection = Any  # sqlcipher3 ships no type information

DB_FILE_NAME = "store.db"
KEYCHECK_FILE_NAME = "store.keycheck"

# Settings applied to every read-write connection, in this order. WAL keeps
# readers off the writer's way; synchronous=FULL fsyncs the WAL at each commit
# (a power cut loses nothing acknowledged); secure_delete overwrites what is
# deleted; temp_store=MEMORY keeps sorts and temporary tables out of /tmp.
CONNECTION_PRAGMAS: tuple[str, ...] = (
    "PRAGMA journal_mode = WAL",
    "PRAGMA synchronous = FULL",
    "PRAGMA secure_delete = ON",
    "PRAGMA foreign_keys = ON",
    "PRAGMA temp_store = MEMORY",
    "PRAGMA busy_timeout = 5000",
)


# How pages are encrypted and authenticated, given right after the key on every
# connection (SQLCipher does not record them in the file). AES-256-CBC per page as
# in SQLCipher 4; the page HMAC is HMAC-SHA256 instead of SQLCipher 4's default
# HMAC-SHA512: both are full-strength MACs (SQLCipher lists HMAC_SHA256 as a
# supported setting), and on CPUs with SHA extensions SHA-256 is several times
# cheaper per page — it is most of a commit's crypto (docs/store.md, benchmark).
CIPHER_SETTINGS: tuple[str, ...] = ("PRAGMA cipher_hmac_algorithm = HMAC_SHA256",)
# Stores created before that change used SQLCipher 4's defaults; they are
# converted once at open (`opening.convert_legacy`).
LEGACY_CIPHER_SETTINGS: tuple[str, ...] = ()


class ProbeResult(enum.Enum):
    OPENS = "opens"
    DOES_NOT_DECRYPT = "does-not-decrypt"
    ABSENT = "absent"


def wal_path(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + "-wal")


def shm_path(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + "-shm")


def _raw_connect(target: str, *, uri: bool) -> Connection:
    conn = dbapi2.connect(target, uri=uri, isolation_level=None, check_same_thread=True)
    # Global in SQLCipher: keeps HMAC failures of a wrong key off stderr.
    conn.execute("PRAGMA cipher_log_level = NONE")
    return conn


def _apply_key(conn: Connection, key: StoreKey, settings: tuple[str, ...]) -> None:
    conn.execute(f"PRAGMA key = {key.sqlcipher_literal()}")
    for pragma in settings:
        conn.execute(pragma).fetchall()


def probe_key(
    db_path: Path, key: StoreKey, *, settings: tuple[str, ...] = CIPHER_SETTINGS
) -> ProbeResult:
    """Does `key` decrypt page 1 of `db_path`? Read-only, so the files stay as they are."""
    if not db_path.exists() or db_path.stat().st_size == 0:
        return ProbeResult.ABSENT
    conn = _raw_connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        _apply_key(conn, key, settings)
        conn.execute("SELECT count(*) FROM sqlite_schema").fetchone()
    except dbapi2.DatabaseError as exc:
        if (getattr(exc, "sqlite_errorcode", 0) & 0xFF) == 26:  # SQLITE_NOTADB
            return ProbeResult.DOES_NOT_DECRYPT
        raise
    finally:
        conn.close()
    return ProbeResult.OPENS


def connect(
    db_path: Path, key: StoreKey | None, *, settings: tuple[str, ...] = CIPHER_SETTINGS
) -> Connection:
    """A configured read-write connection. `key=None` gives plain SQLite (benchmark only)."""
    conn = _raw_connect(str(db_path), uri=False)
    try:
        if key is not None:
            _apply_key(conn, key, settings)
        conn.execute("SELECT count(*) FROM sqlite_schema").fetchone()
        for pragma in CONNECTION_PRAGMAS:
            conn.execute(pragma).fetchall()
    except BaseException:
        conn.close()
        raise
    return conn


def cipher_integrity_problems(conn: Connection) -> list[str]:
    """Pages whose HMAC fails, as SQLCipher words them ('HMAC verification failed for page 3')."""
    return [str(row[0]) for row in conn.execute("PRAGMA cipher_integrity_check").fetchall()]


def integrity_problems(conn: Connection, *, quick: bool = False) -> list[str]:
    pragma = "PRAGMA quick_check" if quick else "PRAGMA integrity_check"
    rows = [str(row[0]) for row in conn.execute(pragma).fetchall()]
    return [] if rows == ["ok"] else rows
