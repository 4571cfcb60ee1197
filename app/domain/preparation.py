"""Preparation between patients, as a table: the cabin is made ready by a named person.

Rules (HAS 2024 on cabins: a trained person on site prepares the place between
patients; the site setting `[site] preparation_required`):
- A session starts only when the cabin is READY (READY → IN_SESSION).
- Every session's end (finished, stopped, abandoned, emergency exit) moves
  IN_SESSION to BEING_PREPARED when preparation is required, to READY when
  it is not.
- Only a confirmation leaves BEING_PREPARED (→ READY), and it names a person
  (their account's username) and a time not before the session's end.
- Nothing else moves. An illegal event raises `PreparationRefused` with a
  reason and leaves the value as it was (a `Preparation` is frozen: every
  move is a new value).
Pure: no clock is read (times come in with the events), no I/O.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from datetime import datetime


class Readiness(enum.StrEnum):
    READY = "ready"
    IN_SESSION = "in-session"
    BEING_PREPARED = "being-prepared"  # the welcome screen says so; no session may start


class Trigger(enum.StrEnum):
    SESSION_STARTED = "session-started"
    SESSION_ENDED = "session-ended"
    CONFIRMED = "confirmed"


class RefusalReason(enum.StrEnum):
    NOT_READY = "not-ready"  # a start while in a session or being prepared
    NOT_IN_SESSION = "not-in-session"  # an end with no session
    NOTHING_TO_CONFIRM = "nothing-to-confirm"  # a confirmation while not being prepared
    NO_PERSON = "no-person"  # a confirmation that names nobody
    BEFORE_THE_END = "before-the-end"  # a confirmation timed before the session ended
    NAIVE_TIME = "naive-time"  # a time without its offset


class PreparationRefused(Exception):
    """An event the state does not allow; `reason` says which rule (the state is unchanged)."""

    def __init__(self, reason: RefusalReason, state: Readiness, sentence: str) -> None:
        super().__init__(sentence)
        self.reason = reason
        self.state = state


_R, _T = Readiness, Trigger

TRANSITIONS: dict[tuple[Readiness, Trigger], Readiness] = {
    (_R.READY, _T.SESSION_STARTED): _R.IN_SESSION,
    (_R.IN_SESSION, _T.SESSION_ENDED): _R.BEING_PREPARED,  # READY when not required
    (_R.BEING_PREPARED, _T.CONFIRMED): _R.READY,
}

_ILLEGAL: dict[Trigger, tuple[RefusalReason, str]] = {
    _T.SESSION_STARTED: (
        RefusalReason.NOT_READY,
        "A session cannot start: the cabin is not ready ({state}).",
    ),
    _T.SESSION_ENDED: (RefusalReason.NOT_IN_SESSION, "No session is under way ({state})."),
    _T.CONFIRMED: (
        RefusalReason.NOTHING_TO_CONFIRM,
        "There is nothing to confirm: the cabin is not being prepared ({state}).",
    ),
}


@dataclass(frozen=True, slots=True)
class Confirmation:
    """Who made the cabin ready, and when (the username only: no name travels further)."""

    by: str
    at: datetime


@dataclass(frozen=True, slots=True)
class Preparation:
    required: bool
    state: Readiness = Readiness.READY
    ended_at: datetime | None = None  # when the last session ended
    confirmation: Confirmation | None = None  # the last one

    @property
    def may_start(self) -> bool:
        return self.state is Readiness.READY

    def _move(self, trigger: Trigger) -> Readiness:
        target = TRANSITIONS.get((self.state, trigger))
        if target is None:
            reason, sentence = _ILLEGAL[trigger]
            raise PreparationRefused(reason, self.state, sentence.format(state=self.state))
        return target

    def session_started(self) -> Preparation:
        return replace(self, state=self._move(Trigger.SESSION_STARTED))

    def session_ended(self, at: datetime) -> Preparation:
        _aware(at, self.state)
        target = self._move(Trigger.SESSION_ENDED)
        if not self.required:
            target = Readiness.READY
        return replace(self, state=target, ended_at=at)

    def confirmed(self, by: str, at: datetime) -> Preparation:
        _aware(at, self.state)
        target = self._move(Trigger.CONFIRMED)
        if not by.strip():
            raise PreparationRefused(
                RefusalReason.NO_PERSON, self.state, "A confirmation names the person who made it."
            )
        if self.ended_at is not None and at < self.ended_at:
            raise PreparationRefused(
                RefusalReason.BEFORE_THE_END,
                self.state,
                "A confirmation cannot be timed before the session it follows ended.",
            )
        return replace(self, state=target, confirmation=Confirmation(by.strip(), at))


def _aware(at: datetime, state: Readiness) -> None:
    if at.tzinfo is None or at.utcoffset() is None:
        raise PreparationRefused(
            RefusalReason.NAIVE_TIME, state, "A time without its UTC offset cannot be compared."
        )


__all__ = [
    "TRANSITIONS",
    "Confirmation",
    "Preparation",
    "PreparationRefused",
    "Readiness",
    "RefusalReason",
    "Trigger",
]
