"""Professional accounts as the maintenance package persists them through the store.

The store only keeps what it is given: hashing (argon2id), TOTP and the
lockout rules live in `app.maintenance`. Listings leave the secrets out.
"""

from __future__ import annotations

from datetime import datetime

from app.store import audit
from app.store.connection import Connection
from app.store.errors import AccountExists, InvalidValue, UnknownAccount
from app.store.records import AccountListing, AccountRole, StoredAccount
from app.store.sessions import check_id
from app.store.timeutil import from_text, opt_from_text, opt_to_text, to_text

_COLUMNS = (
    "username, display_name, role, rpps, adeli, password_hash, totp_secret, failed_attempts, "
    "locked_until, last_totp_step, created_at, disabled"
)


def _account(r: tuple[object, ...]) -> StoredAccount:
    return StoredAccount(
        username=str(r[0]),
        display_name=str(r[1]),
        role=AccountRole(str(r[2])),
        rpps=None if r[3] is None else str(r[3]),
        adeli=None if r[4] is None else str(r[4]),
        password_hash=str(r[5]),
        totp_secret=str(r[6]),
        failed_attempts=int(str(r[7])),
        locked_until=opt_from_text(None if r[8] is None else str(r[8])),
        last_totp_step=None if r[9] is None else int(str(r[9])),
        created_at=from_text(str(r[10])),
        disabled=bool(r[11]),
    )


def add(conn: Connection, account: StoredAccount, at: datetime, actor: str) -> None:
    check_id("username", account.username)
    if not account.display_name.strip() or not account.password_hash or not account.totp_secret:
        raise InvalidValue("An account needs a display name, a password hash and a TOTP secret.")
    if conn.execute("SELECT 1 FROM accounts WHERE username = ?", (account.username,)).fetchone():
        raise AccountExists(account.username)
    conn.execute(
        f"INSERT INTO accounts ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",  # noqa: S608 (names are module constants)
        (
            account.username,
            account.display_name,
            AccountRole(account.role).value,
            account.rpps,
            account.adeli,
            account.password_hash,
            account.totp_secret,
            account.failed_attempts,
            opt_to_text(account.locked_until),
            account.last_totp_step,
            to_text(account.created_at),
            int(account.disabled),
        ),
    )
    audit.append(
        conn,
        at=at,
        actor=actor,
        action="account.add",
        subject=account.username,
        detail=f"role={AccountRole(account.role).value}",
    )


def get(conn: Connection, username: str) -> StoredAccount | None:
    row = conn.execute(
        f"SELECT {_COLUMNS} FROM accounts WHERE username = ?",  # noqa: S608 (constant names)
        (username,),
    ).fetchone()
    return None if row is None else _account(tuple(row))


def all_accounts(conn: Connection) -> list[StoredAccount]:
    return [
        _account(tuple(r))
        for r in conn.execute(f"SELECT {_COLUMNS} FROM accounts ORDER BY username")  # noqa: S608 (names are module constants)
    ]


def listing(conn: Connection) -> list[AccountListing]:
    return [
        AccountListing(
            username=a.username,
            display_name=a.display_name,
            role=a.role,
            rpps=a.rpps,
            adeli=a.adeli,
            created_at=a.created_at,
            failed_attempts=a.failed_attempts,
            locked_until=a.locked_until,
            disabled=a.disabled,
        )
        for a in all_accounts(conn)
    ]


def _require(conn: Connection, username: str) -> None:
    if conn.execute("SELECT 1 FROM accounts WHERE username = ?", (username,)).fetchone() is None:
        raise UnknownAccount(username)


def update_security(
    conn: Connection,
    username: str,
    failed_attempts: int,
    locked_until: datetime | None,
    last_totp_step: int | None,
    at: datetime,
) -> None:
    _require(conn, username)
    if failed_attempts < 0:
        raise InvalidValue("The number of failed attempts cannot be negative.")
    conn.execute(
        "UPDATE accounts SET failed_attempts = ?, locked_until = ?, "
        "last_totp_step = COALESCE(?, last_totp_step) WHERE username = ?",
        (failed_attempts, opt_to_text(locked_until), last_totp_step, username),
    )
    audit.append(
        conn,
        at=at,
        actor="kiosk",
        action="account.security",
        subject=username,
        detail=f"failed={failed_attempts} locked={'yes' if locked_until else 'no'}",
    )


def update_password_hash(
    conn: Connection, username: str, password_hash: str, at: datetime, actor: str
) -> None:
    _require(conn, username)
    if not password_hash:
        raise InvalidValue("A password hash cannot be empty.")
    conn.execute(
        "UPDATE accounts SET password_hash = ? WHERE username = ?", (password_hash, username)
    )
    audit.append(conn, at=at, actor=actor, action="account.password", subject=username)


def set_disabled(conn: Connection, username: str, disabled: bool, at: datetime, actor: str) -> None:
    _require(conn, username)
    conn.execute("UPDATE accounts SET disabled = ? WHERE username = ?", (int(disabled), username))
    audit.append(
        conn,
        at=at,
        actor=actor,
        action="account.disable" if disabled else "account.enable",
        subject=username,
    )
