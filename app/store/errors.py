"""Errors of the encrypted store, one tree, each with a reason the caller can branch on.

The messages are whole sentences for a technician's log or the maintenance
screen. They never carry the key, a path component that holds a secret, or
any health datum: they name ids, counts, states and file names only.
"""

from __future__ import annotations

import enum
import os
import resource
from pathlib import Path
from typing import Any


class StoreErrorReason(enum.StrEnum):
    WRONG_KEY = "wrong-key"
    KEY_UNAVAILABLE = "key-unavailable"
    CORRUPT = "corrupt"
    FULL = "full"
    IO = "io"
    SCHEMA_TOO_NEW = "schema-too-new"
    UNKNOWN_SESSION = "unknown-session"
    SESSION_EXISTS = "session-exists"
    SESSION_CLOSED = "session-closed"
    UNKNOWN_OUTBOX_ITEM = "unknown-outbox-item"
    OUTBOX_TRANSITION = "outbox-transition"
    ACCOUNT_EXISTS = "account-exists"
    UNKNOWN_ACCOUNT = "unknown-account"
    INVALID_VALUE = "invalid-value"
    CLOSED = "closed"
    REKEY_UNSUPPORTED = "rekey-unsupported"
    IN_USE = "in-use"
    WRONG_THREAD = "wrong-thread"
    NO_STORE = "no-store"


class StoreError(Exception):
    """Base of every error the store raises; `reason` says which, `str()` says it in words."""

    reason: StoreErrorReason = StoreErrorReason.IO

    def __init__(self, message: str, *, reason: StoreErrorReason | None = None) -> None:
        super().__init__(message)
        if reason is not None:
            self.reason = reason
        self.message = message


class KeyUnavailableReason(enum.StrEnum):
    MISSING = "missing"
    MALFORMED = "malformed"
    INSECURE_PERMISSIONS = "insecure-permissions"
    NO_CREDENTIALS_DIRECTORY = "no-credentials-directory"
    SEALED_UNREADABLE = "sealed-unreadable"  # systemd-creds could not unseal it (not root?)
    NO_SEALED_KEY = "no-sealed-key"  # a cabin with no sealed key: never a clear key file instead


class KeyUnavailable(StoreError):
    """The key could not be read at all (as opposed to WrongKey: read, but not this store's)."""

    reason = StoreErrorReason.KEY_UNAVAILABLE

    def __init__(self, message: str, *, why: KeyUnavailableReason) -> None:
        super().__init__(message)
        self.why = why


class WrongKey(StoreError):
    """The key does not open this database. The file was left exactly as it was."""

    reason = StoreErrorReason.WRONG_KEY

    def __init__(self, db_path: Path) -> None:
        super().__init__(
            f"The store key does not open the database {db_path.name}; the file was left "
            "untouched. Maintenance is needed: restore the right key for this cabin."
        )
        self.db_path = db_path


class CorruptStore(StoreError):
    """The database failed its checks. When raised from open, the file was moved aside."""

    reason = StoreErrorReason.CORRUPT

    def __init__(self, message: str, *, db_path: Path, moved_to: Path | None = None) -> None:
        super().__init__(message)
        self.db_path = db_path
        self.moved_to = moved_to


class StoreFull(StoreError):
    """The disk (or the process's file-size limit) refused the write; nothing was half-written."""

    reason = StoreErrorReason.FULL

    def __init__(self, operation: str, *, data_dir: Path | None = None) -> None:
        if operation == "open" and data_dir is not None:
            message = (
                f"The kiosk cannot open its store in {data_dir}: the disk is full "
                f"({_free_text(data_dir)} free). Nothing was moved or lost. Free space on that "
                "disk (journalctl --vacuum-size=100M, old files under /var/tmp) and the kiosk "
                "opens its store again by itself, with all its data."
            )
        else:
            message = (
                f"The store could not save '{operation}': the disk is full or the file size "
                "limit was reached. Nothing of this write was kept; everything saved before is "
                "intact."
            )
        super().__init__(message)
        self.operation = operation
        self.data_dir = data_dir


class StoreIOError(StoreError):
    reason = StoreErrorReason.IO

    def __init__(self, operation: str, detail: str, *, data_dir: Path | None = None) -> None:
        if operation == "open" and data_dir is not None:
            message = (
                f"The kiosk cannot open its store in {data_dir} because of a disk input/output "
                f"error ({detail}). Nothing was moved or lost; check the disk (dmesg, smartctl) "
                "and the kiosk tries again by itself."
            )
        else:
            message = (
                f"The store could not complete '{operation}' because of a disk input/output "
                f"error ({detail}). Nothing of this write was kept."
            )
        super().__init__(message)
        self.operation = operation
        self.detail = detail
        self.data_dir = data_dir


def _free_text(directory: Path) -> str:
    """Free space for an unprivileged user on the disk holding `directory`, in words."""
    probe = directory
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    try:
        st = os.statvfs(probe)
    except OSError:
        return "unknown"
    free = st.f_bavail * st.f_frsize
    if free >= 1024 * 1024:
        return f"{free // (1024 * 1024)} MiB"
    return f"{free // 1024} KiB"


TRANSIENT_REASONS = frozenset({StoreErrorReason.FULL, StoreErrorReason.IO})
"""Reasons that say nothing about the data: the same store opens once the cause is gone."""


class SchemaTooNew(StoreError):
    reason = StoreErrorReason.SCHEMA_TOO_NEW

    def __init__(self, found: int, known: int) -> None:
        super().__init__(
            f"The database is at schema version {found} but this kiosk knows versions up to "
            f"{known}; it was left untouched. Install the newer kiosk software."
        )
        self.found = found
        self.known = known


class UnknownSession(StoreError):
    reason = StoreErrorReason.UNKNOWN_SESSION

    def __init__(self, session_id: str) -> None:
        super().__init__(f"There is no session '{session_id}' in the store.")
        self.session_id = session_id


class SessionExists(StoreError):
    reason = StoreErrorReason.SESSION_EXISTS

    def __init__(self, session_id: str) -> None:
        super().__init__(f"A session '{session_id}' already exists in the store.")
        self.session_id = session_id


class SessionClosed(StoreError):
    reason = StoreErrorReason.SESSION_CLOSED

    def __init__(self, session_id: str) -> None:
        super().__init__(
            f"The session '{session_id}' has ended; nothing more can be recorded in it."
        )
        self.session_id = session_id


class UnknownOutboxItem(StoreError):
    reason = StoreErrorReason.UNKNOWN_OUTBOX_ITEM

    def __init__(self, item_id: int) -> None:
        super().__init__(f"There is no outbox item {item_id} in the store.")
        self.item_id = item_id


class OutboxTransition(StoreError):
    """An outbox item was asked to move to a state it cannot reach from its current one."""

    reason = StoreErrorReason.OUTBOX_TRANSITION

    def __init__(self, item_id: int, current: str, wanted: str) -> None:
        super().__init__(
            f"The outbox item {item_id} is '{current}' and cannot become '{wanted}'; "
            "it was left unchanged."
        )
        self.item_id = item_id
        self.current = current
        self.wanted = wanted


class AccountExists(StoreError):
    reason = StoreErrorReason.ACCOUNT_EXISTS

    def __init__(self, username: str) -> None:
        super().__init__(f"An account named '{username}' already exists.")
        self.username = username


class UnknownAccount(StoreError):
    reason = StoreErrorReason.UNKNOWN_ACCOUNT

    def __init__(self, username: str) -> None:
        super().__init__(f"There is no account named '{username}'.")
        self.username = username


class InvalidValue(StoreError):
    reason = StoreErrorReason.INVALID_VALUE


class StoreClosed(StoreError):
    reason = StoreErrorReason.CLOSED

    def __init__(self) -> None:
        super().__init__("The store has been closed; open it again to use it.")


class RekeyUnsupported(StoreError):
    reason = StoreErrorReason.REKEY_UNSUPPORTED


class StoreInUse(StoreError):
    """Another process (the running kiosk) has the store open."""

    reason = StoreErrorReason.IN_USE

    def __init__(self, data_dir: Path) -> None:
        super().__init__(
            f"The store in {data_dir} is already open in another process (is the kiosk "
            "running?); stop it first."
        )
        self.data_dir = data_dir


class WrongThread(StoreError):
    """The connection may only be used by the thread that opened it (the store's writer)."""

    reason = StoreErrorReason.WRONG_THREAD

    def __init__(self) -> None:
        super().__init__(
            "The store was called from another thread than the one that opened it; go "
            "through AsyncStore, which runs every call on the store's own thread."
        )


class NoStore(StoreError):
    reason = StoreErrorReason.NO_STORE

    def __init__(self, data_dir: Path) -> None:
        super().__init__(f"There is no store in {data_dir} (no store.db file).")
        self.data_dir = data_dir


# SQLite primary result codes (sqlite3.h) we branch on.
_SQLITE_CORRUPT = 11
_SQLITE_FULL = 13
_SQLITE_IOERR = 10
_SQLITE_NOTADB = 26
_SQLITE_CONSTRAINT = 19


def _file_size_limit_reached(paths: tuple[Path, ...]) -> bool:
    """Tell EFBIG (RLIMIT_FSIZE) or a full disk from a genuine I/O fault.

    SQLite maps ENOSPC to SQLITE_FULL but EFBIG, and some ENOSPC paths, to
    SQLITE_IOERR_WRITE, and does not hand out errno; the state of the disk and
    of the limit tells which it was.
    """
    soft, _hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    if soft != resource.RLIM_INFINITY:
        for path in paths:
            try:
                if path.stat().st_size + 65536 >= soft:
                    return True
            except OSError:
                continue
    for path in paths:
        try:
            st = os.statvfs(path.parent)
        except OSError:
            continue
        if st.f_bavail * st.f_frsize < 1024 * 1024:
            return True
    return False


def translate(exc: BaseException, operation: str, db_path: Path) -> StoreError:
    """Map an sqlcipher3 exception to the store's tree. Never includes SQL or values."""
    code: Any = getattr(exc, "sqlite_errorcode", None)
    name: Any = getattr(exc, "sqlite_errorname", None)
    if not isinstance(code, int):
        return StoreIOError(
            operation, type(exc).__name__, data_dir=db_path.parent if operation == "open" else None
        )
    primary = code & 0xFF
    files = (db_path, db_path.with_name(db_path.name + "-wal"))
    where = db_path.parent if operation == "open" else None
    if primary == _SQLITE_FULL:
        return StoreFull(operation, data_dir=where)
    if primary == _SQLITE_IOERR:
        if _file_size_limit_reached(files):
            return StoreFull(operation, data_dir=where)
        return StoreIOError(operation, str(name), data_dir=where)
    if primary == _SQLITE_CONSTRAINT:
        return InvalidValue(
            f"'{operation}' was refused: it conflicts with what the store already holds "
            f"({name}). Nothing of it was kept."
        )
    if primary in (_SQLITE_CORRUPT, _SQLITE_NOTADB):
        return CorruptStore(
            f"The database {db_path.name} is damaged ({name}) during '{operation}'.",
            db_path=db_path,
        )
    return StoreIOError(operation, str(name), data_dir=where)
