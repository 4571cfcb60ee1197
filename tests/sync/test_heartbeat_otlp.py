"""The heartbeat's bytes, read by a part nobody here wrote: the official OTLP protobuf definitions.

`opentelemetry-proto` (the OpenTelemetry project's generated classes) and
protobuf's own JSON parser decide whether the bytes are an
`ExportMetricsServiceRequest`; the tests then check each field against the
facts, for chosen facts and for random ones (hypothesis).
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.sync.otlp_proto import require_otlp_proto

require_otlp_proto()

from google.protobuf import json_format  # type: ignore[import-untyped]  # noqa: E402
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (  # noqa: E402
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.metrics.v1.metrics_pb2 import Metric  # noqa: E402

from app.sync import otlp_metrics as otlp  # noqa: E402
from app.sync.otlp_metrics import (  # noqa: E402
    DeviceState,
    FactsError,
    HeartbeatFacts,
    encode,
    unix_nanos,
)

AT = datetime(2026, 12, 3, 9, 15, 30, 123456, tzinfo=UTC)

FACTS = HeartbeatFacts(
    cabin_id="CAB-LYON-01",
    version="0.1.0",
    observed_at=AT,
    uptime_s=3725.5,
    interval_s=300.0,
    devices=(
        DeviceState("thermo-1", "thermometer", "idle"),
        DeviceState("card-1", "card-reader", "running"),
    ),
    queue_depth=4,
    oldest_unsent_age_s=5400.0,
    quarantined=1,
    disk_free_bytes=12_884_901_888,
    last_sync_at=AT - timedelta(minutes=20),
    open_incidents=("platform-unreachable", "session-quarantined", "platform-unreachable"),
)


def parse(body: bytes) -> ExportMetricsServiceRequest:
    """Strict: an unknown field name (a snake_case key, a typo) fails here."""
    request = ExportMetricsServiceRequest()
    json_format.Parse(body.decode("utf-8"), request)
    return request


def metrics(request: ExportMetricsServiceRequest) -> dict[str, Metric]:
    (resource,) = request.resource_metrics
    (scope,) = resource.scope_metrics
    return {m.name: m for m in scope.metrics}


def attrs(kvs: Any) -> dict[str, str]:
    return {kv.key: kv.value.string_value for kv in kvs}


def test_the_official_definitions_read_every_figure() -> None:
    request = parse(encode(FACTS))
    (resource,) = request.resource_metrics
    assert attrs(resource.resource.attributes) == {
        "service.name": "telecabine-kiosk",
        "service.version": "0.1.0",
        "service.instance.id": "CAB-LYON-01",
    }
    (scope,) = resource.scope_metrics
    assert (scope.scope.name, scope.scope.version) == ("app.sync.heartbeat", "0.1.0")
    m = metrics(request)
    assert list(m) == [
        otlp.M_UPTIME,
        otlp.M_INTERVAL,
        otlp.M_DEVICE,
        otlp.M_QUEUE,
        otlp.M_OLDEST,
        otlp.M_QUARANTINE,
        otlp.M_DISK,
        otlp.M_LAST_SYNC,
        otlp.M_INCIDENTS,
    ]
    for metric in m.values():
        assert metric.WhichOneof("data") == "gauge"
        for point in metric.gauge.data_points:
            assert point.time_unix_nano == 1_796_289_330_123_456_000
    assert m[otlp.M_UPTIME].unit == "s"
    assert m[otlp.M_UPTIME].gauge.data_points[0].as_double == 3725.5
    assert m[otlp.M_INTERVAL].gauge.data_points[0].as_double == 300.0
    assert m[otlp.M_QUEUE].unit == "{session}"
    assert m[otlp.M_QUEUE].gauge.data_points[0].as_int == 4
    assert m[otlp.M_OLDEST].gauge.data_points[0].as_double == 5400.0
    assert m[otlp.M_QUARANTINE].gauge.data_points[0].as_int == 1
    assert m[otlp.M_DISK].unit == "By"
    assert m[otlp.M_DISK].gauge.data_points[0].as_int == 12_884_901_888
    assert m[otlp.M_LAST_SYNC].gauge.data_points[0].as_int == int(
        (AT - timedelta(minutes=20)).timestamp()
    )
    devices = [attrs(p.attributes) for p in m[otlp.M_DEVICE].gauge.data_points]
    assert devices == [
        {
            "telecabine.device.id": "card-1",
            "telecabine.device.kind": "card-reader",
            "telecabine.device.state": "running",
        },
        {
            "telecabine.device.id": "thermo-1",
            "telecabine.device.kind": "thermometer",
            "telecabine.device.state": "idle",
        },
    ]
    incidents = {
        attrs(p.attributes)["incident.code"]: p.as_int
        for p in m[otlp.M_INCIDENTS].gauge.data_points
    }
    assert incidents == {"platform-unreachable": 2, "session-quarantined": 1}


def _walk(value: Any, path: str = "") -> list[tuple[str, Any]]:
    if isinstance(value, dict):
        out = [(f"{path}.{k}", v) for k, v in value.items()]
        for k, v in value.items():
            out += _walk(v, f"{path}.{k}")
        return out
    if isinstance(value, list):
        return [pair for item in value for pair in _walk(item, path + "[]")]
    return []


def test_the_json_follows_the_otlp_json_rules() -> None:
    """lowerCamelCase names; 64-bit integers as decimal strings; doubles as JSON numbers."""
    document = json.loads(encode(FACTS))
    pairs = _walk(document)
    names = {path.rsplit(".", 1)[-1] for path, _ in pairs}
    assert all("_" not in name for name in names), names
    for path, value in pairs:
        last = path.rsplit(".", 1)[-1]
        if last in ("timeUnixNano", "asInt", "intValue"):
            assert isinstance(value, str) and value.isdigit(), path
        if last == "asDouble":
            assert isinstance(value, float), path


def test_no_open_incident_is_an_empty_gauge_and_unknown_figures_are_left_out() -> None:
    facts = HeartbeatFacts("CAB-01", "1.2.3", AT, 1.0, 60.0)
    m = metrics(parse(encode(facts)))
    assert list(m) == [otlp.M_UPTIME, otlp.M_INTERVAL, otlp.M_INCIDENTS]
    assert len(m[otlp.M_INCIDENTS].gauge.data_points) == 0


def test_unix_nanos_is_exact() -> None:
    assert unix_nanos(datetime(1970, 1, 1, tzinfo=UTC)) == 0
    assert unix_nanos(AT) == 1_796_289_330_123_456_000
    assert unix_nanos(AT.astimezone(UTC)) == unix_nanos(AT)


@pytest.mark.parametrize(
    ("change", "sentence"),
    [
        (
            {"open_incidents": ("Jean Dupont",)},
            "The heartbeat's incident code is not a code (length 11).",
        ),
        (
            {"open_incidents": ("2610775123456",)},
            "The heartbeat's incident code is not a code (length 13).",
        ),
        (
            {"open_incidents": ("nir-2610775123456",)},
            "The heartbeat's incident code is not a code (length 17).",
        ),
        ({"cabin_id": "x"}, "The heartbeat's cabin id is not a code (length 1)."),
        ({"version": "1 0"}, "The heartbeat's version is not a code (length 3)."),
        ({"queue_depth": -1}, "The heartbeat's queue depth must be a finite number, zero or more."),
        (
            {"uptime_s": float("nan")},
            "The heartbeat's uptime must be a finite number, zero or more.",
        ),
        (
            {"disk_free_bytes": -5},
            "The heartbeat's free disk space must be a finite number, zero or more.",
        ),
        ({"observed_at": datetime(2026, 1, 1)}, "The heartbeat's times must be aware (UTC)."),  # noqa: DTZ001
    ],
)
def test_what_is_not_a_code_or_a_figure_is_refused_without_repeating_it(
    change: dict[str, Any], sentence: str
) -> None:
    base: dict[str, Any] = {
        "cabin_id": "CAB-01",
        "version": "1.0",
        "observed_at": AT,
        "uptime_s": 1.0,
        "interval_s": 60.0,
    }
    with pytest.raises(FactsError) as err:
        HeartbeatFacts(**(base | change))
    assert str(err.value) == sentence


def test_a_device_with_free_text_is_refused() -> None:
    with pytest.raises(FactsError, match="device state"):
        DeviceState("thermo-1", "thermometer", "Mme Martin mesure")


# --------------------------------------------------------------- properties

codes = st.from_regex(r"[a-z][a-z0-9._-]{0,20}", fullmatch=True).filter(
    lambda c: re.search(r"[0-9]{5}", c) is None
)
times = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)
)
sizes = st.floats(min_value=0, max_value=1e12, allow_nan=False, allow_infinity=False)
counts = st.integers(min_value=0, max_value=2**63 - 1)
devices = st.lists(
    st.builds(
        DeviceState,
        st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,15}", fullmatch=True),
        codes,
        codes,
    ),
    max_size=6,
    unique_by=lambda d: d.device_id,
)
facts_strategy = st.builds(
    HeartbeatFacts,
    cabin_id=st.from_regex(r"[A-Za-z0-9][A-Za-z0-9-]{2,39}", fullmatch=True),
    version=st.from_regex(r"[A-Za-z0-9][A-Za-z0-9.+_-]{0,20}", fullmatch=True),
    observed_at=times,
    uptime_s=sizes,
    interval_s=sizes,
    devices=devices.map(tuple),
    queue_depth=st.none() | counts,
    oldest_unsent_age_s=st.none() | sizes,
    quarantined=st.none() | counts,
    disk_free_bytes=st.none() | counts,
    last_sync_at=st.none() | times,
    open_incidents=st.lists(codes, max_size=8).map(tuple),
)


@settings(max_examples=300, deadline=None)
@given(facts_strategy)
def test_any_facts_parse_with_the_official_definitions_and_keep_their_values(
    facts: HeartbeatFacts,
) -> None:
    request = parse(encode(facts))
    (resource,) = request.resource_metrics
    assert attrs(resource.resource.attributes)["service.instance.id"] == facts.cabin_id
    assert attrs(resource.resource.attributes)["service.version"] == facts.version
    m = metrics(request)
    at = unix_nanos(facts.observed_at)
    assert {p.time_unix_nano for metric in m.values() for p in metric.gauge.data_points} <= {at}
    assert m[otlp.M_UPTIME].gauge.data_points[0].as_double == facts.uptime_s
    for name, figure in (
        (otlp.M_QUEUE, facts.queue_depth),
        (otlp.M_QUARANTINE, facts.quarantined),
        (otlp.M_DISK, facts.disk_free_bytes),
    ):
        if figure is None:
            assert name not in m
        else:
            assert m[name].gauge.data_points[0].as_int == figure
    if facts.oldest_unsent_age_s is None:
        assert otlp.M_OLDEST not in m
    else:
        assert m[otlp.M_OLDEST].gauge.data_points[0].as_double == facts.oldest_unsent_age_s
    if facts.last_sync_at is None:
        assert otlp.M_LAST_SYNC not in m
    else:
        assert (
            m[otlp.M_LAST_SYNC].gauge.data_points[0].as_int
            == unix_nanos(facts.last_sync_at) // 10**9
        )
    got_devices = sorted(
        tuple(attrs(p.attributes).values())
        for p in (m[otlp.M_DEVICE].gauge.data_points if otlp.M_DEVICE in m else [])
    )
    assert got_devices == sorted((d.device_id, d.kind, d.state) for d in facts.devices)
    got_incidents = {
        attrs(p.attributes)["incident.code"]: p.as_int
        for p in m[otlp.M_INCIDENTS].gauge.data_points
    }
    assert got_incidents == {c: facts.open_incidents.count(c) for c in set(facts.open_incidents)}
