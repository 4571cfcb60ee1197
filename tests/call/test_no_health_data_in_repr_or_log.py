"""Health values and free text never show in a repr or a technical log line.

Why: a repr ends up in logs, tracebacks and assertion messages; the values a
device measures, the doctor's chat and documents are health data.
"""

from __future__ import annotations

import logging
from decimal import Decimal

import pytest

from app.call.audio import EnergyMeterSink, ToneMicrophone
from app.call.documents import DocumentKind, ReceivedDocument
from app.call.events import CallEvent, DocumentReceived, StateChanged, TextReceived
from app.call.messages import DocumentMessage, Hello, SummaryUpdate, Text
from app.call.session import CallSession, CallSettings
from app.call.signalling import WebSocketSignalling
from app.call.video import TestPatternSource
from drivers.ble.health_thermometer import TemperatureMeasurement
from drivers.ble.plx import ContinuousMeasurement, SpotCheckMeasurement
from drivers.events import Reading, ReadingValue
from drivers.serial.accutorr import PatientRecord
from tests.call.conftest import Platform
from vocabulary.devices import DeviceKind

CANARY = "Zebulon-Quetzal"  # a word no field name or class name contains
N = 48_271  # a number no field or status holds


def _reprs() -> list[object]:
    value = ReadingValue("body-temperature", Decimal(f"{N}.5"), "Cel")
    document = ReceivedDocument("d1", DocumentKind.PRESCRIPTION, CANARY, CANARY, CANARY.encode())
    return [
        value,
        Reading("thermo-1", DeviceKind.THERMOMETER, (value,)),
        TemperatureMeasurement(Decimal(f"{N}.5"), "Cel"),
        SpotCheckMeasurement(Decimal(N), Decimal(N + 1), pulse_amplitude_index=Decimal(N + 2)),
        ContinuousMeasurement(
            Decimal(N),
            Decimal(N + 1),
            fast=(Decimal(N + 3), Decimal(N + 4)),
            slow=(Decimal(N + 5), Decimal(N + 6)),
        ),
        PatientRecord(N, N + 1, N + 2, N + 3, N + 4, None, None, None, None),
        Text(CANARY, "doctor"),
        DocumentMessage("prescription", CANARY, CANARY, CANARY),
        Hello("S-1", "CAB-1", {"identity": {"display_name": CANARY}}),
        SummaryUpdate({"measurements": [CANARY]}),
        TextReceived(CANARY, "doctor"),
        document,
        DocumentReceived(document),
    ]


@pytest.mark.parametrize("obj", _reprs(), ids=lambda o: type(o).__name__)
def test_repr_carries_no_health_value_or_free_text(obj: object) -> None:
    text = repr(obj)
    assert CANARY not in text and str(N) not in text, text
    assert type(obj).__name__ in text


async def test_a_failing_listener_is_logged_by_type_only(
    platform: Platform, caplog: pytest.LogCaptureFixture
) -> None:
    session = CallSession(
        signalling=WebSocketSignalling(platform.base),
        session_id="S-repr-1",
        cabin_id="CAB-1",
        camera=TestPatternSource(),
        microphone=ToneMicrophone(),
        speaker=EnergyMeterSink(),
        settings=CallSettings(reconnect_s=2.0),
    )
    seen: list[CallEvent] = []

    def broken(event: CallEvent) -> None:
        seen.append(event)
        raise ValueError(f"the doctor wrote: {CANARY}")

    session.add_listener(broken)
    with caplog.at_level(logging.DEBUG, logger="app.call"):
        await session.start()
        await session.hang_up()
    assert any(isinstance(e, StateChanged) for e in seen)
    failures = [r for r in caplog.records if "listener failed" in r.getMessage()]
    assert failures and all(
        r.getMessage() == "call event listener failed (ValueError)" and r.exc_info is None
        for r in failures
    )
    assert CANARY not in caplog.text
