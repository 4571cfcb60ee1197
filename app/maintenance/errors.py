"""The one exception tree of professional accounts.

Every error carries a reason enum (callers branch on it, never on the text)
and a whole sentence. `AuthError` has two sentences on purpose: `sentence`
names the real reason for the audit and the technician, `person_message` is
what the screen shows and is the same for every reason, so that the screen
never tells an onlooker which factor was wrong or whether a username exists.
"""

from __future__ import annotations

import enum
from datetime import datetime


class MaintenanceError(Exception):
    """Base of every error raised by `app.maintenance`."""

    def __init__(self, sentence: str) -> None:
        super().__init__(sentence)
        self.sentence = sentence


class AuthFailure(enum.StrEnum):
    UNKNOWN_USER = "unknown-user"
    BAD_PASSWORD = "bad-password"  # noqa: S105 - a reason name, not a password
    BAD_CODE = "bad-code"
    LOCKED = "locked"
    DISABLED = "disabled"
    REPLAY = "replay"


PERSON_MESSAGE = (
    "Identification failed. Check your username, your password and the code of your "
    "authenticator app, then try again. After several failures the account is paused "
    "for a while; the technician can help."
)
"""The only sentence a screen shows for a failed sign-in, whatever the reason."""

_AUTH_SENTENCES: dict[AuthFailure, str] = {
    AuthFailure.UNKNOWN_USER: "No account has this username.",
    AuthFailure.BAD_PASSWORD: "The password does not match the account.",
    AuthFailure.BAD_CODE: "The authenticator code does not match the account's secret at this time.",
    AuthFailure.LOCKED: "The account is locked after repeated failures; the attempt was not checked.",
    AuthFailure.DISABLED: "The account is disabled.",
    AuthFailure.REPLAY: "The authenticator code was already used; a code is accepted only once.",
}


class AuthError(MaintenanceError):
    """A sign-in was refused. `reason` is for the audit; `person_message` for the screen."""

    def __init__(
        self,
        reason: AuthFailure,
        username: str | None = None,
        locked_until: datetime | None = None,
    ) -> None:
        super().__init__(_AUTH_SENTENCES[reason])
        self.reason = reason
        self.username = username
        self.locked_until = locked_until
        self.person_message = PERSON_MESSAGE


class AccountErrorReason(enum.StrEnum):
    INVALID_USERNAME = "invalid-username"
    DUPLICATE_USERNAME = "duplicate-username"
    DUPLICATE_RPPS = "duplicate-rpps"
    INVALID_RPPS = "invalid-rpps"
    INVALID_NAME = "invalid-name"
    RPPS_NOT_FOR_ROLE = "rpps-not-for-role"
    UNKNOWN_ACCOUNT = "unknown-account"


class AccountError(MaintenanceError):
    """An account cannot be created or changed as asked."""

    def __init__(self, reason: AccountErrorReason, sentence: str) -> None:
        super().__init__(sentence)
        self.reason = reason


class PasswordRule(enum.StrEnum):
    TOO_SHORT = "too-short"
    TOO_LONG = "too-long"
    TOO_FEW_CLASSES = "too-few-classes"
    CONTAINS_NAME = "contains-name"
    REPETITIVE = "repetitive"
    COMMON = "common"  # too easy to guess (the estimator's verdict)
    UNTYPABLE = "untypable"
    MISMATCH = "mismatch"


class WeakPassword(MaintenanceError):
    """The chosen password breaks the policy (see docs/accounts.md)."""

    def __init__(self, rule: PasswordRule, sentence: str) -> None:
        super().__init__(sentence)
        self.rule = rule


class PermissionDenied(MaintenanceError):
    """An authenticated professional asked for an act their role does not allow."""

    def __init__(self, username: str, role: str, permission: str) -> None:
        super().__init__(
            f"The {role} account '{username}' is not allowed to {permission.replace('-', ' ')}."
        )
        self.username = username
        self.role = role
        self.permission = permission


class HealthDataRefused(PermissionDenied):
    """Maintenance asked for something that holds health data or identity: always refused.

    Raised below the screens (`app.maintenance.technician.MaintenanceService`),
    whatever the screen asks, and audited.
    """


class MaintenanceErrorReason(enum.StrEnum):
    SESSION_ENDED = "session-ended"  # left, or 2 minutes without a touch
    UNKNOWN_DEVICE = "unknown-device"
    CONFIG_EDIT_REFUSED = "config-edit-refused"  # the edited file would not validate
    EXPORT_FAILED = "export-failed"
    NOT_QUARANTINED = "not-quarantined"  # a resend asked for an item that is not in quarantine
    CONFIG_RELOAD_REFUSED = "config-reload-refused"  # the site file does not validate: kept the old
    RESTART_UNAVAILABLE = "restart-unavailable"  # nothing here can restart the kiosk
    UPLOAD_FAILED = "upload-failed"  # the platform could not be reached or refused the bundle
    NO_PRINTER = "no-printer"  # a test page asked of a cabin with no [printer] section


class MaintenanceRefused(MaintenanceError):
    """A maintenance action cannot be done as asked; `reason` says why (no health datum)."""

    def __init__(self, reason: MaintenanceErrorReason, sentence: str) -> None:
        super().__init__(sentence)
        self.reason = reason
