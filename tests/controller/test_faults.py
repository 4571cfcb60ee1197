"""What the controller does when a part fails: no crash, a trace, a safe state."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

from app.controller.adapters import DriverHub, StoreSession
from app.controller.controller import SessionController
from app.controller.ports import DeviceHub, SessionStore
from app.controller.view import Notice
from app.domain import session_events as ev
from app.domain.consent import ConsentChoice
from app.domain.flow import SessionFlow
from app.domain.identity import IdentityStatus, InsOid, PatientIdentity, with_insi_result
from app.domain.measurements import MeasurementKind
from app.domain.mode import RunMode
from app.domain.nir import parse_nir
from app.domain.orientation import OrientationAnswers
from app.domain.session_context import FlowSettings, State
from app.domain.session_effects import Fact
from app.domain.trace import IncidentCode, TraceKind
from app.maintenance.store_binding import StoreAuditSink
from app.store import AsyncStore, FileKeySource
from drivers.events import DeviceEvent
from tests.controller.conftest import HOLDER_NIR, FakeClock, single_card
from tests.controller.test_sessions import TELECONSULTATION
from tests.maintenance.conftest import audit_rows
from vocabulary.devices import DeviceKind


class FlakyStore:
    """The real store behind a switch that makes every write fail (a full disk, say)."""

    def __init__(self, real: StoreSession) -> None:
        self.real = real
        self.broken = False

    async def begin_session(self, session_id: str, at: datetime) -> None:
        await self.real.begin_session(session_id, at)

    async def record_fact(self, session_id: str, fact: Fact, at: datetime) -> None:
        if self.broken:
            raise OSError(28, "No space left on device")
        await self.real.record_fact(session_id, fact, at)

    async def end_session(self, session_id: str, reason: str, at: datetime) -> None:
        await self.real.end_session(session_id, reason, at)


class BuggyHub:
    """A device hub with a bug that shows only when asked which devices exist."""

    def __init__(self) -> None:
        self.inner = DriverHub([])
        self.bug = False

    def kinds(self) -> frozenset[DeviceKind]:
        if self.bug:
            raise RuntimeError("hub bug")
        return self.inner.kinds()

    async def start(self, kind: DeviceKind) -> None:
        await self.inner.start(kind)

    async def stop(self, kind: DeviceKind) -> None:
        await self.inner.stop(kind)

    async def stop_all(self) -> None:
        await self.inner.stop_all()

    def events(self) -> AsyncIterator[DeviceEvent]:
        return self.inner.events()


class KnownByInsi:
    """An INSi relay that knows every patient (the platform's teleservice in the tests)."""

    def __init__(self) -> None:
        self.asked = 0

    async def query(self, identity: PatientIdentity, at: datetime) -> PatientIdentity | None:
        self.asked += 1
        return with_insi_result(
            identity,
            parse_nir(HOLDER_NIR),
            identity.identifier_kind,
            InsOid.TEST,
            identity.traits,
            at,
        )


async def _controller(
    tmp_path: Path, clock: FakeClock, store: SessionStore, hub: DeviceHub, **extra: object
) -> SessionController:
    flow = SessionFlow(FlowSettings(mode=RunMode.TEST, languages=("fr",)))
    counter = iter(range(1, 10_000))
    controller = SessionController(
        flow,
        store=store,
        devices=hub,
        clock=clock,
        new_id=lambda: f"id{next(counter):04d}",
        **extra,  # type: ignore[arg-type]
    )
    await controller.start(ticker=False)
    return controller


async def test_store_failure_keeps_the_facts_and_catches_up(
    tmp_path: Path, clock: FakeClock
) -> None:
    real = await AsyncStore.open(tmp_path / "d", FileKeySource(tmp_path / "d"), clock)
    flaky = FlakyStore(StoreSession(real, "TEST-CAB-01"))
    c = await _controller(tmp_path, clock, flaky, DriverHub([]))
    try:
        assert (await c.submit(ev.Begin)).accepted
        session_id = c.view.context.session_id
        assert session_id is not None
        flaky.broken = True
        assert (await c.submit(ev.EmergencyAnswered)).accepted
        assert c.view.state is State.INFORMATION  # the patient goes on
        assert c.view.notice is Notice.STORE_DELAYED
        flaky.broken = False
        assert (await c.submit(ev.InformationAcknowledged)).accepted
        assert c.view.notice is None
        record = await real.session_bundle_source(session_id)
        kinds = [t.kind for t in record.trace]
        assert kinds[:3] == [
            TraceKind.SESSION_STARTED,
            TraceKind.EMERGENCY_CHECK_DONE,
            TraceKind.INCIDENT,
        ]
        assert record.trace[2].incident is IncidentCode.STORE_FAILED
        assert kinds[3] is TraceKind.INFORMATION_GIVEN
    finally:
        await c.close()
        await real.close()


async def test_a_bug_closes_the_session_safely(tmp_path: Path, clock: FakeClock) -> None:
    real = await AsyncStore.open(tmp_path / "d", FileKeySource(tmp_path / "d"), clock)
    hub = BuggyHub()
    c = await _controller(
        tmp_path, clock, StoreSession(real, "TEST-CAB-01"), hub, audit=StoreAuditSink(real)
    )
    try:
        assert (await c.submit(ev.Begin)).accepted
        session_id = c.view.context.session_id
        assert session_id is not None
        assert (await c.submit(ev.EmergencyAnswered)).accepted
        hub.bug = True
        result = await c.submit(ev.InformationAcknowledged)
        assert not result.accepted
        assert (
            result.reason == "The kiosk met an unexpected problem; the session was closed safely."
        )
        assert c.view.state is State.WELCOME and c.view.notice is Notice.FAULT
        assert c.view.context.session_id is None
        hub.bug = False
        assert (await c.submit(ev.Begin)).accepted  # the next patient starts clean
        assert c.view.notice is None
        record = await real.session_bundle_source(session_id)
        assert record.end_reason == "fault"
        assert (record.trace[-1].kind, record.trace[-1].subject) == (TraceKind.WIPE, "fault")
        fault = record.trace[-2]
        assert (fault.incident, fault.subject) == (IncidentCode.SOFTWARE_FAULT, "effect")
        rows = [(a, b, c_, e) for a, b, c_, _, e in await audit_rows(real)]
        assert ("system", "controller.fault", "failed", "where=effect,error=RuntimeError") in rows
    finally:
        await c.close()
        await real.close()


async def test_missing_device_is_a_device_failure(tmp_path: Path, clock: FakeClock) -> None:
    real = await AsyncStore.open(tmp_path / "d", FileKeySource(tmp_path / "d"), clock)
    c = await _controller(tmp_path, clock, StoreSession(real, "TEST-CAB-01"), DriverHub([]))
    try:
        assert (await c.submit(ev.Begin)).accepted
        assert (await c.submit(ev.EmergencyAnswered)).accepted
        assert (await c.submit(ev.InformationAcknowledged)).accepted
        await c.device_event(single_card())
        assert (await c.submit(ev.IdentityConfirmed)).accepted
        assert (
            await c.decide_consent(
                TELECONSULTATION,
                ConsentChoice.GRANTED,
            )
        ).accepted
        assert (await c.submit(ev.ConsentDone)).accepted
        assert (await c.submit(ev.OrientationAnswered, answers=OrientationAnswers())).accepted
        assert (await c.submit(ev.VisitReasonGiven)).accepted
        assert (await c.submit(ev.StartMeasurement, kind=MeasurementKind.BLOOD_PRESSURE)).accepted
        assert c.view.state is State.DEGRADED
        degraded = c.view.context.degraded
        assert degraded is not None and degraded.device_kind is MeasurementKind.BLOOD_PRESSURE
    finally:
        await c.close()
        await real.close()


async def test_insi_answer_raises_the_identity_status(tmp_path: Path, clock: FakeClock) -> None:
    real = await AsyncStore.open(tmp_path / "d", FileKeySource(tmp_path / "d"), clock)
    insi = KnownByInsi()
    c = await _controller(
        tmp_path, clock, StoreSession(real, "TEST-CAB-01"), DriverHub([]), insi=insi
    )
    try:
        assert (await c.submit(ev.Begin)).accepted
        assert (await c.submit(ev.EmergencyAnswered)).accepted
        assert (await c.submit(ev.InformationAcknowledged)).accepted
        await c.device_event(single_card())
        for _ in range(200):  # the INSi query runs beside the patient's screen
            if (
                c.view.context.identity is not None
                and c.view.context.identity.status is IdentityStatus.RECUP
            ):
                break
            await asyncio.sleep(0.01)
        identity = c.view.context.identity
        assert identity is not None and identity.status is IdentityStatus.RECUP
        assert insi.asked == 1
    finally:
        await c.close()
        await real.close()
