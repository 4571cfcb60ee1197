"""Opening the database file: which key, is it damaged, move it aside if so.

Decisions, in order:

1. No database yet → create one with the current key.
2. The current key opens it → use it (a leftover staged key from a rekey that
   never committed is discarded).
3. It does not, but a staged key does → a rekey committed and the kiosk
   stopped before the key file was swapped: finish the swap.
4. Neither opens it. If the key check file says the current key *is* this
   database's key, page 1 is damaged → move aside. Otherwise → `WrongKey`,
   and every file is left exactly as it was.

After a key opens it, `quick_check` and `cipher_integrity_check` run. Only a
*proven* damage moves the file aside: a page whose HMAC fails, a structure
error from `quick_check`, or SQLite saying SQLITE_CORRUPT / SQLITE_NOTADB —
and the finding must hold on a second, fresh connection. Anything else that
stops the open (SQLITE_FULL, SQLITE_IOERR, SQLITE_CANTOPEN, a busy or
read-only file, no memory) is *transient*: it is raised as it is
(`Store.open` turns it into `StoreFull` / `StoreIOError`) and every file is
left where it was, so the next start, once the disk has room again, opens the
same data. Moving aside renames the database and its -wal/-shm to
`store.db.corrupt-<UTC time>[-wal|-shm]`: kept, never deleted, and reported
by `kiosk store verify` until a technician has dealt with it.
"""

from __future__ import annotations

import fcntl
import logging
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlcipher3 import dbapi2

from app.store.connection import (
    CIPHER_SETTINGS,
    DB_FILE_NAME,
    KEYCHECK_FILE_NAME,
    LEGACY_CIPHER_SETTINGS,
    Connection,
    ProbeResult,
    cipher_integrity_problems,
    connect,
    integrity_problems,
    probe_key,
    shm_path,
    wal_path,
)
from app.store.errors import StoreInUse, WrongKey
from app.store.keys import KeySource, StoreKey, ensure_private_dir, write_secret_file

log = logging.getLogger(__name__)


@dataclass
class Opened:
    conn: Connection
    key: StoreKey
    created: bool
    moved_aside: Path | None
    damage: str | None
    rekey_completed: bool
    converted: bool = False


LOCK_FILE_NAME = "store.lock"


def acquire_lock(data_dir: Path) -> int:
    """One process uses a store at a time; the kernel drops the lock if it dies."""
    fd = os.open(data_dir / LOCK_FILE_NAME, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise StoreInUse(data_dir) from None
    return fd


def release_lock(fd: int) -> None:
    fcntl.flock(fd, fcntl.LOCK_UN)
    os.close(fd)


def restrict_permissions(db_path: Path) -> None:
    """0600 on the database and its companions: encrypted, but nobody else's business."""
    for path in (db_path, wal_path(db_path), shm_path(db_path)):
        try:
            os.chmod(path, 0o600)
        except FileNotFoundError:
            continue


def write_keycheck(data_dir: Path, key: StoreKey) -> None:
    write_secret_file(data_dir / KEYCHECK_FILE_NAME, key.fingerprint().encode("ascii"))


def _keycheck_matches(data_dir: Path, key: StoreKey) -> bool:
    try:
        stored = (data_dir / KEYCHECK_FILE_NAME).read_bytes().strip().decode("ascii")
    except (FileNotFoundError, UnicodeDecodeError):
        return False
    return stored == key.fingerprint()


def moved_aside_files(data_dir: Path) -> list[str]:
    """Names of the databases moved aside in `data_dir` (not their -wal/-shm), oldest first."""
    prefix = DB_FILE_NAME + ".corrupt-"
    try:
        names = [p.name for p in Path(data_dir).iterdir() if p.name.startswith(prefix)]
    except FileNotFoundError:
        return []
    return sorted(n for n in names if not n.endswith(("-wal", "-shm")))


def move_aside(db_path: Path, at: datetime) -> Path:
    stamp = at.strftime("%Y%m%dT%H%M%SZ")
    target = db_path.with_name(f"{db_path.name}.corrupt-{stamp}")
    n = 1
    while target.exists():
        target = db_path.with_name(f"{db_path.name}.corrupt-{stamp}-{n}")
        n += 1
    os.replace(db_path, target)
    for companion, suffix in ((wal_path(db_path), "-wal"), (shm_path(db_path), "-shm")):
        if companion.exists():
            os.replace(companion, target.with_name(target.name + suffix))
    fd = os.open(db_path.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    log.warning("store: damaged database moved aside to %s", target.name)
    return target


# SQLite primary result codes that prove the file itself is damaged. Every other
# failure (FULL 13, IOERR 10, CANTOPEN 14, BUSY 5, LOCKED 6, NOMEM 7, READONLY 8,
# PERM 3, PROTOCOL 15, …) says nothing about the data: it is raised, never "repaired".
_PROVEN_DAMAGE_CODES = frozenset({11, 26})  # SQLITE_CORRUPT, SQLITE_NOTADB


def proves_damage(exc: BaseException) -> bool:
    """True only when SQLite's own answer says the file is damaged (not full, not busy, not I/O)."""
    code = getattr(exc, "sqlite_errorcode", None)
    return isinstance(code, int) and (code & 0xFF) in _PROVEN_DAMAGE_CODES


def _damage(conn: Connection) -> str | None:
    # cipher_integrity_check reads the main file page by page, not through the WAL: fold the
    # WAL in first, or pages a rekey left half-checkpointed would look damaged.
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    hmac = cipher_integrity_problems(conn)
    if hmac:
        return f"{len(hmac)} page(s) fail their HMAC, first: {hmac[0]}"
    structure = integrity_problems(conn, quick=True)
    if structure:
        return f"quick_check: {structure[0]}"
    return None


def _check_once(db_path: Path, key: StoreKey) -> tuple[Connection | None, str | None]:
    """A checked connection, or the proven damage. A transient failure is raised as it is."""
    try:
        conn = connect(db_path, key)
    except dbapi2.DatabaseError as exc:
        if not proves_damage(exc):
            raise
        return None, f"the database cannot be read ({getattr(exc, 'sqlite_errorname', 'error')})"
    try:
        damage = _damage(conn)
    except dbapi2.DatabaseError as exc:
        if not proves_damage(exc):
            conn.close()
            raise
        damage = f"the check found damage ({getattr(exc, 'sqlite_errorname', 'error')})"
    except BaseException:
        conn.close()
        raise
    if damage is not None:
        conn.close()
        return None, damage
    return conn, None


def _connect_checked(db_path: Path, key: StoreKey) -> tuple[Connection | None, str | None]:
    """Damage must be seen twice, on two connections, before anything is moved."""
    conn, damage = _check_once(db_path, key)
    if conn is not None:
        return conn, None
    again, damage_again = _check_once(db_path, key)
    if again is not None:
        log.warning("store: a check failed once and passed on a second connection; kept as is")
        return again, None
    return None, damage_again or damage


def convert_legacy(db_path: Path, key: StoreKey) -> None:
    """Re-encrypt a store made with SQLCipher 4's default settings into the current ones.

    Crash safety: the converted copy is written beside the file, fsynced, then
    renamed over it; until the rename the old file is whole and still opens
    (a leftover copy is discarded at the next try). Same key, same data, same
    schema version (`sqlcipher_export` does not copy `user_version`: set here).
    """
    target = db_path.with_name(db_path.name + ".convert")
    target.unlink(missing_ok=True)
    conn = connect(db_path, key, settings=LEGACY_CIPHER_SETTINGS)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        raw_key = key.sqlcipher_literal()[1:-1]  # x'…' as a bound value, not in the SQL
        conn.execute("ATTACH DATABASE ? AS converted KEY ?", (str(target), raw_key))
        del raw_key
        for pragma in CIPHER_SETTINGS:
            conn.execute(pragma.replace("PRAGMA ", "PRAGMA converted.", 1)).fetchall()
        conn.execute("SELECT sqlcipher_export('converted')").fetchall()
        conn.execute(f"PRAGMA converted.user_version = {version}")
        conn.execute("DETACH DATABASE converted")
    finally:
        conn.close()
    fd = os.open(target, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(target, db_path)
    for companion in (wal_path(db_path), shm_path(db_path)):
        companion.unlink(missing_ok=True)
    dir_fd = os.open(db_path.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
    log.info("store: converted to the current cipher settings")


def open_file(data_dir: Path, key_source: KeySource, now: datetime) -> Opened:
    ensure_private_dir(data_dir)
    db_path = data_dir / DB_FILE_NAME
    key = key_source.load()
    staged = key_source.staged()
    rekey_completed = False

    db_path.with_name(db_path.name + ".convert").unlink(missing_ok=True)
    probe = probe_key(db_path, key)
    converted = False
    if (
        probe is ProbeResult.DOES_NOT_DECRYPT
        and probe_key(db_path, key, settings=LEGACY_CIPHER_SETTINGS) is ProbeResult.OPENS
    ):
        convert_legacy(db_path, key)
        probe = probe_key(db_path, key)
        converted = True
    if probe is ProbeResult.ABSENT:
        if staged is not None:
            key_source.discard_staged()
        for stray in (db_path, wal_path(db_path), shm_path(db_path)):
            if stray.exists() and stray.stat().st_size == 0:
                stray.unlink()
        conn = connect(db_path, key)
        restrict_permissions(db_path)
        write_keycheck(data_dir, key)
        return Opened(conn, key, True, None, None, False)

    if probe is ProbeResult.OPENS:
        if staged is not None:
            key_source.discard_staged()
    elif staged is not None and probe_key(db_path, staged) is ProbeResult.OPENS:
        key_source.promote_staged()
        key = staged
        rekey_completed = True
        log.warning("store: an interrupted rekey was completed at open")
    elif not _keycheck_matches(data_dir, key):
        raise WrongKey(db_path)
    elif probe_key(db_path, key) is ProbeResult.OPENS:
        pass  # a read that failed once and not twice is not a damaged file: go on and check it
    else:
        moved = move_aside(db_path, now)
        conn = connect(db_path, key)
        return Opened(
            conn, key, True, moved, "page 1 cannot be decrypted with the right key", False
        )

    if not _keycheck_matches(data_dir, key):
        write_keycheck(data_dir, key)
    conn_or_none, damage = _connect_checked(db_path, key)
    if conn_or_none is None:
        moved = move_aside(db_path, now)
        conn = connect(db_path, key)
        restrict_permissions(db_path)
        return Opened(conn, key, True, moved, damage, rekey_completed)
    restrict_permissions(db_path)
    return Opened(conn_or_none, key, False, None, None, rekey_completed, converted)
