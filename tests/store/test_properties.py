"""Property tests for what the store reads from outside: key material, audit text, stored values."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.measurements import DeviceSource, MeasurementKind, Quantity, make_measurement
from app.domain.trace import TraceEntry, TraceKind
from app.store import InvalidValue, KeyUnavailable, StoreKey, audit
from app.store.codec import (
    measurement_from_payload,
    measurement_to_payload,
    trace_from_row,
    trace_to_payload,
)
from app.store.connection import Connection, connect
from app.store.migrations import migrate
from app.store.timeutil import from_text, to_text


@given(st.binary(max_size=200))
def test_key_parsing_only_ever_raises_key_unavailable(data: bytes) -> None:
    try:
        StoreKey.parse(data, origin="test")
    except KeyUnavailable as exc:
        assert str(exc).startswith("The store key in test is not 32 bytes")
    else:
        assert len(data) == 32 or len(data.strip()) == 64


@given(
    st.datetimes(
        timezones=st.just(UTC), min_value=datetime(2000, 1, 1), max_value=datetime(2200, 1, 1)
    )
)
def test_times_round_trip_and_sort_as_text(moment: datetime) -> None:
    assert from_text(to_text(moment)) == moment
    later = moment + timedelta(microseconds=1)
    assert to_text(moment) < to_text(later)


@given(st.decimals(min_value=Decimal("30.0"), max_value=Decimal("45.0"), places=2))
def test_measurement_values_keep_their_digits(value: Decimal) -> None:
    m = make_measurement(
        "m-1",
        MeasurementKind.BODY_TEMPERATURE,
        {Quantity.BODY_TEMPERATURE: value},
        DeviceSource("thermo-1"),
        datetime(2025, 1, 1, tzinfo=UTC),
    )
    back = measurement_from_payload("m-1", measurement_to_payload(m))
    assert back == m and str(back.components[0].value) == str(value)


@given(st.text(max_size=200))
def test_trace_messages_round_trip_whatever_they_hold(message: str) -> None:
    entry = TraceEntry(datetime(2025, 1, 1, tzinfo=UTC), TraceKind.STOP, message=message)
    assert trace_from_row(to_text(entry.at), entry.kind.value, trace_to_payload(entry)) == entry


_conn: Connection | None = None


def _memory_db() -> Connection:
    global _conn
    if _conn is None:
        _conn = connect(__import__("pathlib").Path(":memory:"), None)
        migrate(_conn)
    return _conn


@settings(max_examples=60)
@given(st.text(max_size=120), st.text(max_size=120))
def test_audit_append_accepts_tokens_or_refuses_with_its_error_and_the_chain_holds(
    action: str, detail: str
) -> None:
    conn = _memory_db()
    conn.execute("BEGIN")
    try:
        audit.append(
            conn, at=datetime(2025, 1, 1, tzinfo=UTC), actor="kiosk", action=action, detail=detail
        )
    except InvalidValue:
        conn.execute("ROLLBACK")
    else:
        conn.execute("COMMIT")
    assert audit.verify_chain(conn).ok
