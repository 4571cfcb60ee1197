"""Any sequence of touches and reports: the controller never crashes and keeps its promises.

Promises checked after every step: the view is the flow's state; a refused
choice changes nothing; whenever the kiosk is back on the welcome screen
every session it opened in the store is closed, and nothing of the patient
is left in the view.
"""

from __future__ import annotations

import asyncio
import tempfile
from decimal import Decimal
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from app.controller.adapters import DriverHub, StoreSession
from app.controller.controller import SessionController
from app.domain import session_events as ev
from app.domain.consent import ConsentChoice
from app.domain.flow import SessionFlow
from app.domain.measurements import MeasurementKind
from app.domain.mode import RunMode
from app.domain.orientation import OrientationAnswers
from app.domain.session_context import FlowSettings, State
from app.store import AsyncStore, FileKeySource
from drivers import events as dev
from tests.controller.conftest import FakeClock, family_card, single_card
from tests.controller.test_sessions import TELECONSULTATION
from vocabulary.devices import DeviceKind

_KIND = st.sampled_from(list(MeasurementKind))
ACTIONS = st.one_of(
    st.sampled_from(
        [
            ("submit", ev.Begin, {}),
            ("submit", ev.EmergencyAnswered, {}),
            ("submit", ev.InformationAcknowledged, {}),
            ("submit", ev.IdentityConfirmed, {}),
            ("submit", ev.IdentityRejected, {}),
            ("submit", ev.ConsentDone, {}),
            ("submit", ev.OrientationAnswered, {"answers": OrientationAnswers()}),
            ("submit", ev.VisitReasonGiven, {}),
            ("submit", ev.MeasurementsDone, {}),
            ("submit", ev.HangUp, {}),
            ("submit", ev.Finish, {}),
            ("submit", ev.StillHere, {}),
            ("submit", ev.StopRequested, {}),
            ("submit", ev.StopConfirmed, {}),
            ("submit", ev.StopCancelled, {}),
            ("submit", ev.ContinueWithoutCard, {}),
            ("submit", ev.EmergencyDeclared, {}),
            ("consent", None, {}),
            ("card", dev.CardInserted("reader-1"), {}),
            ("card", dev.CardRemoved("reader-1"), {}),
            ("card", single_card(), {}),
            ("card", family_card(), {}),
            (
                "card",
                dev.Reading(
                    "thermo-1",
                    DeviceKind.THERMOMETER,
                    (dev.ReadingValue("body-temperature", Decimal("37.2"), "Cel"),),
                ),
                {},
            ),
            (
                "card",
                dev.Failed("oxi-1", DeviceKind.OXIMETER, dev.FailureReason.TIMEOUT, "no answer"),
                {},
            ),
            ("net", False, {}),
            ("net", True, {}),
            ("tick", 30, {}),
            ("tick", 200, {}),
        ]
    ),
    st.tuples(
        st.just("submit"), st.just(ev.StartMeasurement), st.builds(lambda k: {"kind": k}, _KIND)
    ),
    st.tuples(
        st.just("submit"), st.just(ev.SkipMeasurement), st.builds(lambda k: {"kind": k}, _KIND)
    ),
    st.tuples(
        st.just("submit"),
        st.just(ev.BeneficiaryChosen),
        st.builds(lambda i: {"index": i}, st.integers(-1, 3)),
    ),
    st.tuples(
        st.just("submit"),
        st.just(ev.DegradedChoice),
        st.builds(lambda o: {"option": o}, st.sampled_from(list(ev.DegradedOption))),
    ),
)


async def _run(actions: list[tuple[str, object, dict[str, object]]], folder: Path) -> None:
    clock = FakeClock()
    store = await AsyncStore.open(folder, FileKeySource(folder), clock)
    flow = SessionFlow(FlowSettings(mode=RunMode.TEST, languages=("fr",)))
    counter = iter(range(1, 100_000))
    c = SessionController(
        flow,
        store=StoreSession(store, "TEST-CAB-01"),
        devices=DriverHub([]),
        clock=clock,
        new_id=lambda: f"id{next(counter):05d}",
    )
    await c.start(ticker=False)
    opened: set[str] = set()
    try:
        for action, payload, fields in actions:
            before = c.view.context
            clock.advance(1)
            if action == "submit":
                assert isinstance(payload, type)
                result = await c.submit(payload, **fields)
                if not result.accepted:
                    assert c.view.context == before
                    assert result.reason.endswith(".") or ":" in result.reason
            elif action == "consent":
                await c.decide_consent(TELECONSULTATION, ConsentChoice.GRANTED)
            elif action == "card":
                await c.device_event(payload)  # type: ignore[arg-type]
            elif action == "net":
                await c.platform_reachable(bool(payload))
            else:
                clock.advance(float(payload))  # type: ignore[arg-type]
                await c.tick()
            view = c.view
            assert view.state is c.state
            if view.context.session_id is not None:
                opened.add(view.context.session_id)
            if view.state is State.WELCOME:
                assert view.context.identity is None and view.context.measurements == ()
                assert view.doctor is None and view.assistant is None
                for session_id in opened:
                    record = await store.session_bundle_source(session_id)
                    assert record.ended_at is not None
    finally:
        await c.close()
        await store.close()


@settings(max_examples=25, deadline=None)
@given(st.lists(ACTIONS, max_size=40))
def test_any_sequence_keeps_the_promises(
    actions: list[tuple[str, object, dict[str, object]]],
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(_run(actions, Path(folder)))
