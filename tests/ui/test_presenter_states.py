"""The presenter's state -> view mapping covers the whole flow (no state falls to the error view)."""

from __future__ import annotations

from dataclasses import replace

from app.domain.session_context import State
from app.ui.presenter import Presenter, Site
from app.ui.views import ErrorView, WelcomeView
from tests.controller.conftest import Kiosk


def test_every_state_of_the_flow_has_its_view_builder(kiosk: Kiosk) -> None:
    presenter = Presenter(Site(), kiosk.clock)
    assert set(presenter._state_views()) == set(State)  # noqa: SLF001 - the mapping itself
    for state in (State.WELCOME, State.WIPE, State.STOP_CONFIRM, State.TAKE_CARD):
        view = presenter.view_for(replace(kiosk.view, state=state))
        assert not isinstance(view, ErrorView), state
    assert isinstance(presenter.view_for(replace(kiosk.view, state=State.WIPE)), WelcomeView)
