"""Turns the session flow's literal rows into its table, and checks where transitions land.

The rows in `app.domain.flow` are data: `(state(s), event) → (handler, next
states)`. Two things must not be left to trust, so they live here, once:

- a duplicate `(state, event)` entry is refused when the table is built (at
  import): a dict literal, or the decorators this table replaced, silently
  keep the last one (the decorators had let `late_report` overwrite
  `device_failed` on TAKE_CARD unseen);
- a transition that lands in a state its row does not name raises
  `UndeclaredTransition` before anything is swapped in, so the table the
  documentation is drawn from cannot drift from what the handlers do.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Set
from dataclasses import dataclass

from app.domain.errors import DomainError
from app.domain.flow_txn import Handler
from app.domain.session_context import DIALOGS, SessionContext, State
from app.domain.session_events import Event


class Mark(enum.Enum):
    """Next states a row names relative to where the event happened."""

    #: The row's own state (one row may cover many states): replaced by it when built.
    SAME = "same"
    #: The dialog answered closes: the screen goes back to what was under it.
    BACK = "back"


SAME = Mark.SAME
BACK = Mark.BACK

type Target = State | Mark
type Row = tuple[State | frozenset[State], type[Event], Handler, Set[Target]]


@dataclass(frozen=True, slots=True)
class Transition:
    """A built entry: who handles the event, and every state it may lead to (no SAME left)."""

    handler: Handler
    targets: frozenset[Target]


class DuplicateTransition(DomainError):
    """Two rows for one `(state, event)`: the table is refused rather than one row lost."""

    def __init__(self, state: State, event: type[Event], first: Handler, second: Handler) -> None:
        self.state = state
        self.event_name = event.__name__
        super().__init__(
            f"The flow's table has two rows for {event.__name__} in state {state.name} "
            f"({first.__name__} and {second.__name__}); one of them would be lost."
        )


class UndeclaredTransition(DomainError):
    """A handler went where its row does not say: a fault of the flow, not of the caller.

    Raised before the new context is swapped in, so nothing was changed.
    """

    def __init__(
        self, state: State, event: type[Event], transition: Transition, landed: State
    ) -> None:
        self.state = state
        self.event_name = event.__name__
        self.landed = landed
        declared = ", ".join(sorted(_name(t) for t in transition.targets))
        super().__init__(
            f"{transition.handler.__name__} took {event.__name__} in state {state.name} "
            f"to {landed.name}, but the flow's table declares only {declared}."
        )


def build(rows: Iterable[Row]) -> dict[tuple[State, type[Event]], Transition]:
    """One entry per `(state, event)`; a second row for the same pair raises `DuplicateTransition`."""
    table: dict[tuple[State, type[Event]], Transition] = {}
    for sources, event, handler, targets in rows:
        for state in _states(sources):
            key = (state, event)
            if key in table:
                raise DuplicateTransition(state, event, table[key].handler, handler)
            named = frozenset(state if t is SAME else t for t in targets)
            table[key] = Transition(handler, named)
    return table


def landing(key: State, before: SessionContext, after: SessionContext) -> frozenset[Target]:
    """Where a transition checked against `key` landed, in the words a row would use.

    A dialog the transition opened is where it landed. Otherwise a row on a
    step names the step after it (dialogs over a step come and go by their own
    rows); a row on a dialog stays on it, or closes it — BACK when the screen
    shows what was under it (that may also be a state the row names), or the
    step the session moved to.
    """
    opened = [d for d in after.dialogs if d not in before.dialogs]
    if opened:
        return frozenset({opened[-1]})
    if key not in DIALOGS:
        return frozenset({after.step})
    if key in after.dialogs:
        return frozenset({key})
    under = before.dialogs[-2] if len(before.dialogs) > 1 else before.step
    if after.state is under:
        return frozenset({after.state, BACK})
    return frozenset({after.state})


def check_landing(
    transition: Transition,
    key: State,
    event: type[Event],
    before: SessionContext,
    after: SessionContext,
) -> None:
    """Raise `UndeclaredTransition` when the transition landed outside its row's states."""
    if not landing(key, before, after) & transition.targets:
        raise UndeclaredTransition(key, event, transition, after.state)


def _states(sources: State | frozenset[State]) -> list[State]:
    """The row's states in the order of `State`, so that errors and documents are stable."""
    if isinstance(sources, State):
        return [sources]
    return [state for state in State if state in sources]


def _name(target: Target) -> str:
    return target.name
