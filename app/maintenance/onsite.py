"""The on-site staff's acts at the cabin: confirm it is ready for the next patient.

Why through the accounts service: the confirmation is the HAS's "preparation
between patients" made by a named person, so it needs that person's own
sign-in (password and TOTP, lockout, one use per code; docs/accounts.md) and
the permission `confirm-preparation`, which an on-site staff account and an
assistant hold and a technician does not. The act is audited under the
person's username with the time; the returned `StaffConfirmation` is what the
pure preparation state (app/domain/preparation.py) takes. No health datum is
read or written here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from app.maintenance.roles import Permission
from app.maintenance.service import AccountService, utc_now


@dataclass(frozen=True, slots=True)
class StaffConfirmation:
    """Who confirmed the cabin ready, and when (the service's clock)."""

    username: str
    display_name: str
    at: datetime


class OnSiteService:
    def __init__(
        self, accounts: AccountService, *, clock: Callable[[], datetime] = utc_now
    ) -> None:
        self._accounts = accounts
        self._clock = clock

    async def confirm_preparation(
        self, username: str, password: str, code: str, *, cabin_id: str
    ) -> StaffConfirmation:
        """Both factors and `confirm-preparation`; audited `preparation.confirmed`.

        Raises `AuthError` (show only its `person_message`) or `PermissionDenied`
        (a technician's account), both audited by the accounts service.
        """
        who = await self._accounts.authenticate(
            username, password, code, permission=Permission.CONFIRM_PREPARATION
        )
        at = self._clock()
        await self._accounts.record_act(
            who, "preparation.confirmed", "ok", cabin_id, f"at={at.isoformat()}"
        )
        return StaffConfirmation(who.username, who.display_name, at)


__all__ = ["OnSiteService", "StaffConfirmation"]
