"""The Accutorr parser and its monitor-protocol adapter at their edges."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers.serial.accutorr import PatientRecord, parse_record
from drivers.serial.monitor_protocol import (
    AccutorrProtocol,
    Alive,
    Noise,
    Snapshot,
    get_protocol,
)

LIMITS = b"L:090,100,050,120,090,160,050,100\r\n"
RECORD = b"P:098,072,120,093,080,000,000,000,000\r\n"


def test_unused_status_fields_name_nothing() -> None:
    record = parse_record(b"P:098,072,120,093,080,--,--,--,000\r\n")
    assert isinstance(record, PatientRecord)
    assert record.status_names == () and record.device_errors == ()


def test_one_poll_and_its_answer_are_40_bytes_on_the_line() -> None:
    protocol = AccutorrProtocol()
    assert protocol.request_bytes() == len(protocol.poll_request()) + len(RECORD) == 40


def test_an_alarm_limits_record_is_passed_over_silently() -> None:
    protocol = AccutorrProtocol()
    protocol.receive_data(LIMITS + b">" + LIMITS + RECORD)
    assert protocol.next_event() == Alive()
    assert protocol.next_event() == Snapshot(
        systolic=120, diastolic=80, mean=93, pulse_rate=72, fresh=True
    )
    assert protocol.next_event() is None


@given(st.lists(st.sampled_from([LIMITS, RECORD, b">", b"zz", LIMITS[:9]]), max_size=8))
def test_any_mix_of_records_gives_only_monitor_events(chunks: list[bytes]) -> None:
    protocol = AccutorrProtocol()
    protocol.receive_data(b"".join(chunks))
    events = []
    while (event := protocol.next_event()) is not None:
        events.append(event)
    assert all(isinstance(e, Alive | Snapshot | Noise) for e in events)
    assert sum(isinstance(e, Alive) for e in events) == chunks.count(b">")


def test_the_protocol_is_chosen_by_name_accutorr_by_default() -> None:
    assert isinstance(get_protocol(None), AccutorrProtocol)
    assert isinstance(get_protocol("Accutorr"), AccutorrProtocol)
    assert AccutorrProtocol().alive_request() == b"C"
    with pytest.raises(ValueError) as caught:
        get_protocol("omron")
    assert str(caught.value) == "Unknown monitor protocol 'omron'; known: accutorr."


def test_a_snapshot_gives_its_pressures_in_the_records_order() -> None:
    snapshot = Snapshot(systolic=120, diastolic=80, mean=93, pulse_rate=72, fresh=True)
    assert snapshot.pressures == (120, 80, 93)
