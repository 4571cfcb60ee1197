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

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from app.domain.preparation import Preparation, PreparationRefused, Readiness, RefusalReason
from app.maintenance.roles import Permission
from app.maintenance.service import AccountService, utc_now

log = logging.getLogger(__name__)


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


class PreparationGate:
    """The cabin's readiness between patients, held for the kiosk's parts.

    The pure table (`app.domain.preparation.Preparation`) with its edges: the
    session controller calls `session_started` (refused while the cabin is not
    ready: it asks `may_start` first) and `session_ended`; the preparing screen
    calls `confirm` with the staff member's sign-in; each change is handed to
    `on_change` (the window shows or hides the "being prepared" screen) and,
    for a confirmation, to `tell_platform` (the help-call client's
    `preparation_confirmed`), whose failure never undoes the confirmation.
    """

    def __init__(
        self,
        service: OnSiteService,
        cabin_id: str,
        *,
        required: bool,
        on_change: Callable[[Readiness], None] = lambda _r: None,
        tell_platform: Callable[[str, datetime], Awaitable[bool]] | None = None,
    ) -> None:
        self._service = service
        self.cabin_id = cabin_id
        self.state = Preparation(required=required)
        self.on_change = on_change
        self._tell = tell_platform

    @property
    def may_start(self) -> bool:
        return self.state.may_start

    @property
    def readiness(self) -> Readiness:
        return self.state.state

    def _set(self, state: Preparation) -> None:
        self.state = state
        self.on_change(state.state)

    def session_started(self) -> None:
        """Raises `PreparationRefused` (and changes nothing) when the cabin is not ready."""
        self._set(self.state.session_started())

    def session_ended(self, at: datetime) -> None:
        self._set(self.state.session_ended(at))

    async def confirm(self, username: str, password: str, code: str) -> StaffConfirmation:
        """The staff member's sign-in, then the table's confirmation; the platform told.

        Raises `AuthError`/`PermissionDenied` (audited by the accounts service) or
        `PreparationRefused` (nothing to confirm: the cabin is ready already).
        """
        if self.state.state is not Readiness.BEING_PREPARED:  # before any sign-in is spent
            raise PreparationRefused(
                RefusalReason.NOTHING_TO_CONFIRM,
                self.state.state,
                "There is nothing to confirm: the cabin is not being prepared.",
            )
        done = await self._service.confirm_preparation(
            username, password, code, cabin_id=self.cabin_id
        )
        self._set(self.state.confirmed(done.username, done.at))
        if self._tell is not None:
            try:
                told = await self._tell(done.username, done.at)
            except Exception as exc:  # noqa: BLE001 - the cabin is ready whatever the network
                log.warning("preparation: the platform was not told (%s)", type(exc).__name__)
            else:
                if not told:
                    log.warning("preparation: the platform was not told (unreachable)")
        return done


__all__ = ["OnSiteService", "PreparationGate", "StaffConfirmation"]
