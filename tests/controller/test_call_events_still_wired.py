"""The kiosk writes the doctor's still into the act's trace, and a failed keep as its incident.

The real controller and store (tests/controller/conftest.py); the call is
the scripted doctor speaking the call room's own events; the failed keep is
the real `StillKeeper` refusing a picture that is not a JPEG.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from app.call import events as call
from app.call.exam_keeper import StillKeeper
from app.call.exam_still import ExamDevice, ExamStill
from app.domain import session_events as ev
from app.domain.session_context import State
from app.domain.trace import ActorKind, IncidentCode, TraceKind
from tests.controller.conftest import DOCTOR_RPPS, Kiosk
from tests.controller.test_sessions import to_measurements

JPEG = b"\xff\xd8\xff\xe0" + bytes(range(64))


def _still(still_id: str, jpeg: bytes = JPEG) -> ExamStill:
    return ExamStill(still_id, ExamDevice.OTOSCOPE, jpeg, 640, 480, datetime.now(tz=UTC))


async def test_each_still_is_the_doctor_s_line_and_a_failed_keep_its_incident(
    kiosk: Kiosk,
) -> None:
    k, c = kiosk, kiosk.controller
    session_id = await to_measurements(k)
    assert (await c.submit(ev.MeasurementsDone)).accepted
    k.call.doctor_joins()
    await k.until(lambda v: v.state is State.CALL)
    kept = call.ExamStillKept(_still("still-1"), session_id)
    lost = call.ExamStillKept(_still("still-2", b"not a jpeg"), session_id)
    elsewhere = call.ExamStillKept(_still("still-3"), "another-session")
    incidents: list[asyncio.Future[None]] = []

    def not_kept(event: call.ExamStillKept) -> None:  # as the composition wires it
        incidents.append(asyncio.ensure_future(c.exam_still_not_kept(event)))

    keeper = StillKeeper(k.store, on_not_kept=not_kept)
    for event in (kept, lost, elsewhere):
        k.call._queue.put_nowait(event)  # noqa: SLF001 - the launcher's queue, as it feeds it
        keeper(event)
    await keeper.drain()
    await asyncio.gather(*incidents)
    k.call.doctor_hangs_up()
    await k.until(lambda v: v.state is State.END)
    record = await k.store.session_bundle_source(session_id)
    stills = [
        (t.kind, t.actor.kind, t.actor.id, t.subject, t.incident)
        for t in record.trace
        if t.kind is TraceKind.EXAM_STILL_TAKEN or t.incident is IncidentCode.EXAM_STILL_NOT_KEPT
    ]
    assert sorted(stills, key=str) == sorted(
        [
            (TraceKind.EXAM_STILL_TAKEN, ActorKind.DOCTOR, DOCTOR_RPPS, "still-1", None),
            (TraceKind.EXAM_STILL_TAKEN, ActorKind.DOCTOR, DOCTOR_RPPS, "still-2", None),
            (
                TraceKind.INCIDENT,
                ActorKind.SYSTEM,
                None,
                "still-2",
                IncidentCode.EXAM_STILL_NOT_KEPT,
            ),
        ],
        key=str,
    )  # still-3 belongs to another act: not in this one's trace
    assert keeper.kept == 1
    line = next(t for t in record.trace if t.subject == "still-1")
    assert line.message == "The doctor took a still with the otoscope."
