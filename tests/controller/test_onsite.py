"""The on-site person through the real controller (issue 15): preparation and the help call.

Two sessions on a site where preparation between patients is required: the
second cannot start before a staff member confirms the cabin ready with their
own sign-in (password + TOTP on the kiosk's real accounts and SQLCipher
store); the patient's help call rings the reference platform's on-site routes
(in process, the cabin's real token, as tests/platform/test_onsite.py) and the
site's bell, is acknowledged from the counter page, and ends with the session.
The call and the confirmation are found in the session's trace, the store's
audit and at the platform.
"""

from __future__ import annotations

import re

import pytest

from app.domain import session_events as ev
from app.domain.preparation import Readiness
from app.domain.session_context import State
from app.domain.trace import ActorKind, TraceKind
from app.maintenance.onsite import OnSiteService, PreparationGate
from app.maintenance.roles import Role
from app.sync.help_call import CALLED_SENTENCE, COMING_SENTENCE, OFFLINE_SENTENCE, HelpReason
from tests.controller.conftest import Kiosk
from tests.maintenance.conftest import GOOD_PASSWORD, audit_rows
from tests.maintenance.world import code, enrol
from tests.platform.test_onsite import CABIN, World, _counter_sign_in, world  # noqa: F401

pytestmark = pytest.mark.timeout(120)


async def _acknowledge_at_the_counter(w: World) -> None:
    staff = await _counter_sign_in(w.base_url, "lea.accueil", "comptoir-lea-2026")
    try:
        async with staff.get(w.base_url + "/counter") as page:
            [ack] = re.findall(r'action="(/counter/ack/[^"]+)"', await page.text())
        async with staff.post(w.base_url + ack) as r:
            assert r.status == 200
    finally:
        await staff.close()


async def _stop(k: Kiosk) -> None:
    c = k.controller
    assert (await c.submit(ev.StopRequested)).accepted
    assert (await c.submit(ev.StopConfirmed)).accepted
    assert k.state() is State.WELCOME


async def test_the_second_patient_waits_for_the_staffs_confirmation(
    kiosk: Kiosk,
    world: World,  # noqa: F811 - the fixture imported above
) -> None:
    k, c = kiosk, kiosk.controller
    secret = await enrol(k.accounts, "lea.accueil", Role.ASSISTANT)
    client = world.client()
    gate = PreparationGate(
        OnSiteService(k.accounts, clock=k.clock),
        CABIN,
        required=True,
        tell_platform=client.preparation_confirmed,
    )
    c.attach_preparation(gate, client)

    # The first patient starts, presses "Appeler quelqu'un"; the counter answers.
    assert (await c.submit(ev.Begin)).accepted
    first = k.context().session_id
    assert first is not None and gate.readiness is Readiness.IN_SESSION
    await c.call_help()
    assert k.view.help_call == CALLED_SENTENCE
    await c.call_help()  # pressed again: the same call, nobody rung twice
    assert [b["event"] for b in world.bell.received] == ["help-call"]
    await _acknowledge_at_the_counter(world)
    k.clock.advance(1)
    await c.tick()
    await c.help_idle()
    assert k.view.help_call == CALLED_SENTENCE  # not asked before the poll's 3 s
    k.clock.advance(3)
    await c.tick()
    await c.help_idle()
    assert k.view.help_call == COMING_SENTENCE

    # The session ends: the call ends with it; the cabin is being prepared.
    await _stop(k)
    await c.help_idle()
    assert k.view.help_call is None and gate.readiness is Readiness.BEING_PREPARED
    refused = await c.submit(ev.Begin)
    assert not refused.accepted and "being prepared" in refused.reason
    assert k.state() is State.WELCOME and k.context().session_id is None

    # Staff confirms with their own sign-in; now the second patient starts.
    k.clock.advance(120)
    done = await gate.confirm("lea.accueil", GOOD_PASSWORD, code(secret, k.clock))
    assert done.username == "lea.accueil" and gate.readiness is Readiness.READY
    assert (await c.submit(ev.Begin)).accepted
    second = k.context().session_id
    assert second is not None and second != first
    assert gate.readiness is Readiness.IN_SESSION
    await _stop(k)
    assert gate.readiness is Readiness.BEING_PREPARED

    # The first session's trace: the call, its answer and its end, in the act's order.
    record = await k.store.session_bundle_source(first)
    helped = [t for t in record.trace if t.kind.value.startswith("help-")]
    call_id = helped[0].subject
    assert [(t.kind, t.actor.kind, t.subject, t.message) for t in helped] == [
        (
            TraceKind.HELP_CALLED,
            ActorKind.PATIENT,
            call_id,
            "reason=button reached=platform+local",
        ),
        (TraceKind.HELP_ACKNOWLEDGED, ActorKind.SYSTEM, call_id, "by=platform"),
        (TraceKind.HELP_ENDED, ActorKind.SYSTEM, call_id, "why=session-ended"),
    ]
    # Ended by the wipe, traced in the session before the store closed it.
    assert [t.kind for t in record.trace][-3:] == [
        TraceKind.STOP,
        TraceKind.WIPE,
        TraceKind.HELP_ENDED,
    ]
    assert record.end_reason == "stopped"
    # At the platform: the call, its answer, its end, then the confirmation.
    at_platform = [(act, cab) for _at, act, cab, _who in world.onsite.trace if cab != "-"]
    assert at_platform == [
        ("help.call", CABIN),
        ("help.acknowledged", CABIN),
        ("help.ended", CABIN),
        ("preparation.confirmed", CABIN),
    ]
    assert [b["event"] for b in world.bell.received] == ["help-call", "help-ended"]
    # In the store's audit: the staff member's confirmation, under their username.
    rows = await audit_rows(k.store)
    assert ("lea.accueil", "preparation.confirmed", "ok", CABIN) in {r[:4] for r in rows}


async def test_between_sessions_a_call_is_audited_and_closing_help_ends_it(
    kiosk: Kiosk,
    world: World,  # noqa: F811 - the fixture imported above
) -> None:
    k, c = kiosk, kiosk.controller
    c.attach_preparation(None, world.client(webhook=False))
    await c.call_help()  # from the welcome screen's Help: no session to trace it in
    assert k.view.help_call == CALLED_SENTENCE
    await c.end_help("closed")
    assert k.view.help_call is None
    rows = {r[1:3] for r in await audit_rows(k.store)}
    assert {("help.help-called", "ok"), ("help.help-ended", "ok")} <= rows
    assert [act for _a, act, _c, _w in world.onsite.trace if act.startswith("help.")] == [
        "help.call",
        "help.ended",
    ]


async def test_no_way_to_call_sends_the_patient_to_the_counter(kiosk: Kiosk) -> None:
    c = kiosk.controller
    assert (await c.submit(ev.Begin)).accepted  # no gate: sessions start as before
    await c.call_help()
    assert kiosk.view.help_call == OFFLINE_SENTENCE
    await c.end_help("closed")
    assert kiosk.view.help_call is None


async def test_a_long_silence_on_a_step_calls_once(kiosk: Kiosk, world: World) -> None:  # noqa: F811
    k, c = kiosk, kiosk.controller
    c.attach_preparation(None, world.client(webhook=False), silence_after_s=60)
    k.clock.advance(600)
    await c.tick()  # the welcome screen: nobody is there, nobody is called
    await c.help_idle()
    assert k.view.help_call is None
    assert (await c.submit(ev.Begin)).accepted
    k.clock.advance(30)
    await c.tick()
    assert k.view.help_call is None
    k.clock.advance(31)
    await c.tick()
    await c.help_idle()
    assert k.view.help_call == CALLED_SENTENCE
    record = await k.store.session_bundle_source(k.context().session_id or "")
    [called] = [t for t in record.trace if t.kind is TraceKind.HELP_CALLED]
    assert called.message.startswith(f"reason={HelpReason.SILENCE}")
    assert called.actor.kind is ActorKind.SYSTEM


async def test_urgent_help_is_never_held_back_by_the_preparation(kiosk: Kiosk) -> None:
    k, c = kiosk, kiosk.controller
    gate = PreparationGate(OnSiteService(k.accounts, clock=k.clock), CABIN, required=True)
    c.attach_preparation(gate, None)
    assert (await c.submit(ev.Begin)).accepted
    await _stop(k)
    assert gate.readiness is Readiness.BEING_PREPARED
    assert not (await c.submit(ev.Begin)).accepted
    with c.emergency_start():  # the binding does this for urgent help on the welcome screen
        assert (await c.submit(ev.Begin)).accepted
        assert (await c.submit(ev.EmergencyDeclared)).accepted
    assert k.state() is State.EMERGENCY_EXIT
    assert (await c.submit(ev.Finish)).accepted
    assert k.state() is State.WELCOME and gate.readiness is Readiness.BEING_PREPARED
    assert not (await c.submit(ev.Begin)).accepted  # still waiting for the staff
