"""The doctor's camera and microphone, as she switches them, reach the call screen's view.

Issue 17 ("tell the patient plainly what happens"): the console sends
`{"type": "media", "muted", "camera_off", "audio_only"}` when the doctor
switches her microphone or camera off; the call emits `RemoteMediaState`.
The controller carries it into `SessionView.doctor_media` (the
`CallStatusBoard` decides), and the presenter into `CallView`. The lost
connection's words win: while she is lost the view says nothing of her
switches, and after a loss her switches are unknown until she says them
again (her page may have been reloaded with everything on).
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from app.call import events as call
from app.controller.adapters import DriverHub, StoreSession
from app.controller.call_events import CALL_STATUS_DOCTOR_LOST, CallStatusBoard
from app.controller.controller import SessionController
from app.controller.view import DoctorMedia, SessionView
from app.domain import session_events as ev
from app.domain.flow import SessionFlow
from app.domain.mode import RunMode
from app.domain.session_context import FlowSettings, State
from app.store import AsyncStore, FileKeySource
from app.ui.presenter import Presenter, Site
from app.ui.views import CallView
from drivers import events as dev
from tests.controller.conftest import FakeClock, Kiosk
from tests.controller.test_sessions import to_measurements

LOST = call.ConnectionStatusChanged(call.ConnectionStatus.DOCTOR_LOST, 30.0)
BACK = call.ConnectionStatusChanged(call.ConnectionStatus.DOCTOR_BACK)


def media(*, camera_off: bool = False, muted: bool = False) -> call.RemoteMediaState:
    return call.RemoteMediaState(muted=muted, camera_off=camera_off, audio_only=False)


def _call_view(k: Kiosk, sv: SessionView) -> CallView:
    view = Presenter(Site(), k.clock).view_for(sv)
    assert isinstance(view, CallView)
    return view


async def test_her_switches_reach_the_call_view_and_go_with_the_call(kiosk: Kiosk) -> None:
    """Through the call's own event stream (the controller's pump), into the presenter's view."""
    k, c = kiosk, kiosk.controller
    await to_measurements(k)
    assert (await c.submit(ev.MeasurementsDone)).accepted
    k.call.doctor_joins()
    await k.until(lambda v: v.state is State.CALL)
    assert k.view.doctor_media == DoctorMedia()

    k.call._queue.put_nowait(media(camera_off=True))
    sv = await k.until(lambda v: v.doctor_media.camera_off)
    shown = _call_view(k, sv)
    assert (shown.doctor_camera_off, shown.doctor_muted) == (True, False)

    k.call._queue.put_nowait(media(camera_off=True, muted=True))
    sv = await k.until(lambda v: v.doctor_media.muted)
    shown = _call_view(k, sv)
    assert (shown.doctor_camera_off, shown.doctor_muted) == (True, True)

    k.call._queue.put_nowait(LOST)  # the line goes: only the reconnecting words
    sv = await k.until(lambda v: v.call_status == CALL_STATUS_DOCTOR_LOST)
    assert sv.doctor_media == DoctorMedia()
    shown = _call_view(k, sv)
    assert (shown.doctor_camera_off, shown.doctor_muted) == (False, False)
    assert shown.quality is not None and shown.quality.id == CALL_STATUS_DOCTOR_LOST

    k.call._queue.put_nowait(BACK)
    k.call._queue.put_nowait(media(muted=True))  # she says her switches again
    sv = await k.until(lambda v: v.call_status != CALL_STATUS_DOCTOR_LOST and v.doctor_media.muted)
    assert sv.doctor_media == DoctorMedia(camera_off=False, muted=True)

    k.call.doctor_hangs_up()  # the end of the call: nothing of her switches stays
    sv = await k.until(lambda v: v.state is State.END)
    assert sv.doctor_media == DoctorMedia()
    assert (await c.submit(ev.Finish)).accepted
    await c.device_event(dev.CardRemoved("reader-1"))
    assert k.view.doctor_media == DoctorMedia()


async def test_the_wipe_forgets_her_switches_even_without_the_call_s_end(kiosk: Kiosk) -> None:
    """The patient stops mid-call (no `CallEnded` reaches the board first): the next call
    starts clean all the same."""
    k, c = kiosk, kiosk.controller
    await to_measurements(k)
    assert (await c.submit(ev.MeasurementsDone)).accepted
    k.call.doctor_joins()
    await k.until(lambda v: v.state is State.CALL)
    k.call._queue.put_nowait(media(camera_off=True, muted=True))
    await k.until(lambda v: v.doctor_media.muted)
    assert (await c.submit(ev.StopRequested)).accepted
    assert (await c.submit(ev.StopConfirmed)).accepted
    await c.device_event(dev.CardRemoved("reader-1"))
    assert k.view.doctor_media == DoctorMedia()


# ---- any sequence of her switches and of losses: the view says the right thing ----------

_SWITCHES = st.builds(media, camera_off=st.booleans(), muted=st.booleans())
_LINE = st.sampled_from([LOST, BACK])
_OTHERS = st.sampled_from(
    [
        call.Incident(call.IncidentCode.AUDIO_ONLY_FALLBACK),
        call.Incident(call.IncidentCode.VIDEO_RESTORED),
        call.TextReceived("Bonjour", "patient"),  # noise: changes nothing here
        call.CallEnded(call.EndReason.PATIENT_HUNG_UP),
    ]
)
_EVENTS = st.one_of(_SWITCHES, _LINE, _LINE, _OTHERS)  # losses as often as her switches


async def _run(events: list[object], folder: Path) -> None:
    clock = FakeClock()
    store = await AsyncStore.open(folder, FileKeySource(folder), clock)
    flow = SessionFlow(FlowSettings(mode=RunMode.TEST, languages=("fr",)))
    c = SessionController(
        flow, store=StoreSession(store, "TEST-CAB-01"), devices=DriverHub([]), clock=clock
    )
    published: list[SessionView] = []
    c.subscribe(published.append)
    await c.start(ticker=False)
    said = DoctorMedia()  # what she said last since the call's start or the last loss
    lost = False
    try:
        for event in events:
            match event:
                case call.RemoteMediaState(camera_off=camera_off, muted=muted):
                    said = DoctorMedia(camera_off=camera_off, muted=muted)
                case call.ConnectionStatusChanged(status=call.ConnectionStatus.DOCTOR_LOST):
                    lost, said = True, DoctorMedia()
                case call.ConnectionStatusChanged(status=call.ConnectionStatus.DOCTOR_BACK):
                    lost = False
                case call.CallEnded():
                    lost, said = False, DoctorMedia()
            await c.call_event(event)
            view = published[-1] if published else c.view
            # What the screen was last told is what the controller holds now ...
            assert view.doctor_media == c.view.doctor_media
            # ... her latest switches, unless the lost connection's words stand alone.
            assert view.doctor_media == (DoctorMedia() if lost else said), event
            assert (view.call_status == CALL_STATUS_DOCTOR_LOST) is lost
    finally:
        await c.close()
        await store.close()


@settings(max_examples=100, deadline=None)
@given(st.lists(_EVENTS, max_size=25))
def test_any_sequence_the_view_says_her_latest_switches_and_lost_wins(
    events: list[object],
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(_run(events, Path(folder)))


def test_the_board_says_a_change_of_her_switches_is_news() -> None:
    """`feed` answers True exactly when what the screen shows changed (the view is published)."""
    board = CallStatusBoard()
    assert board.feed(media(camera_off=True), 0.0)
    assert not board.feed(media(camera_off=True), 1.0)  # the same again: nothing to publish
    assert board.feed(media(camera_off=True, muted=True), 2.0)
    assert board.feed(LOST, 3.0)
    assert board.doctor_media() == DoctorMedia()
    assert not board.feed(media(muted=True), 4.0)  # said while she is lost: not shown yet
    assert board.doctor_media() == DoctorMedia()
    assert board.feed(BACK, 5.0)
    assert board.doctor_media() == DoctorMedia(muted=True)  # said during the loss: the latest
    board.clear()
    assert board.doctor_media() == DoctorMedia()
