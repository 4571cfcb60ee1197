"""The reference platform's fleet: `POST /v1/metrics` (OTLP/JSON) and `GET /fleet`.

The platform's parser is checked against bodies written by the official
OTLP protobuf classes (`opentelemetry-proto` + protobuf's JSON printer), not
only against the kiosk's own encoder.
"""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.sync.otlp_metrics import DeviceState, HeartbeatFacts, encode
from devtools.platform.doctors import DEMO_PASSWORD
from devtools.platform.fleet import (
    FLEET_KEY,
    CabinHeartbeat,
    FleetStore,
    OtlpFormatError,
    is_silent,
    parse_export,
    render_fleet,
)
from devtools.platform.signalling import install
from devtools.platform.testing import running_platform
from tests.sync.otlp_proto import require_otlp_proto

AT = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


def facts(cabin: str = "CAB-PARIS-07", **change: Any) -> HeartbeatFacts:
    base: dict[str, Any] = {
        "cabin_id": cabin,
        "version": "0.1.0",
        "observed_at": AT,
        "uptime_s": 7200.0,
        "interval_s": 300.0,
        "devices": (DeviceState("bp-1", "tensiometer", "idle"),),
        "queue_depth": 2,
        "oldest_unsent_age_s": 900.0,
        "quarantined": 0,
        "disk_free_bytes": 5 * 1024**3,
        "last_sync_at": AT - timedelta(minutes=3),
        "open_incidents": ("platform-unreachable",),
    }
    return HeartbeatFacts(**(base | change))


def parse_official(text: str) -> Any:
    """Protobuf's strict JSON parser into the official `ExportMetricsServiceRequest`."""
    require_otlp_proto()
    from google.protobuf import json_format  # type: ignore[import-untyped]
    from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
        ExportMetricsServiceRequest,
    )

    message = ExportMetricsServiceRequest()
    json_format.Parse(text, message)
    return message


def official(body: bytes) -> bytes:
    """The same request printed by protobuf's own JSON printer (another producer)."""
    from google.protobuf import json_format

    message = parse_official(body.decode())
    text: str = json_format.MessageToJson(message)
    return text.encode()


@pytest.mark.parametrize("producer", [lambda b: b, official], ids=["kiosk", "protobuf"])
def test_the_parser_reads_what_an_otlp_producer_writes(producer: Any) -> None:
    (cabin,) = parse_export(producer(encode(facts())))
    assert cabin == CabinHeartbeat(
        cabin_id="CAB-PARIS-07",
        observed_ns=int(AT.timestamp()) * 10**9,
        version="0.1.0",
        service_name="telecabine-kiosk",
        uptime_s=7200.0,
        interval_s=300.0,
        queue=2,
        oldest_unsent_s=900.0,
        quarantined=0,
        disk_free_bytes=5 * 1024**3,
        last_sync_unix_s=int((AT - timedelta(minutes=3)).timestamp()),
        incidents={"platform-unreachable": 1},
        devices=(("bp-1", "tensiometer", "idle"),),
    )


@pytest.mark.parametrize(
    ("body", "sentence"),
    [
        (b"not json", "The body is not JSON."),
        (b"[]", "The request must be an object."),
        (b'{"resourceMetrics": {}}', "request.resourceMetrics must be an array."),
        (
            b'{"resourceMetrics": [{"resource": {"attributes": []}}]}',
            "resourceMetrics[0] has no service.instance.id (the cabin).",
        ),
        (
            b'{"resourceMetrics": [{"resource": {"attributes": [{"key": "service.instance.id",'
            b' "value": {"stringValue": "C-1"}}]}, "scopeMetrics": [{"metrics": [{"name": "x",'
            b' "gauge": {"dataPoints": [{"asInt": "12a"}]}}]}]}]}',
            "resourceMetrics[0].scopeMetrics[0].metrics[0].gauge.dataPoints[0].asInt must be "
            "an integer (a decimal string).",
        ),
        (
            b'{"resourceMetrics": [{"resource": {"attributes": [{"key": 7}]}}]}',
            "resourceMetrics[0].attributes[0].key must be a string.",
        ),
    ],
)
def test_malformed_exports_are_refused_with_a_sentence(body: bytes, sentence: str) -> None:
    with pytest.raises(OtlpFormatError) as err:
        parse_export(body)
    assert str(err.value) == sentence


OTHER_SHAPES = {
    "resourceMetrics": [
        {
            "resource": {
                "attributes": [
                    {"key": "service.instance.id", "value": {"stringValue": "CAB-X-01"}},
                    {"key": "host.up", "value": {"boolValue": True}},
                    {"key": "host.cpus", "value": {"intValue": "2"}},
                    {"key": "host.load", "value": {"doubleValue": 1.5}},
                    {"key": "host.tags", "value": {"arrayValue": {"values": []}}},
                ]
            },
            "scopeMetrics": [
                {
                    "metrics": [
                        {
                            "name": "process.uptime",
                            "sum": {
                                "dataPoints": [{"timeUnixNano": "5", "asDouble": "12.5"}],
                                "aggregationTemporality": 2,
                                "isMonotonic": True,
                            },
                        },
                        {"name": "telecabine.outbox.pending", "gauge": {"dataPoints": [{}]}},
                        {"name": "some.histogram", "histogram": {"dataPoints": []}},
                        {
                            "name": "telecabine.disk.free",
                            "gauge": {"dataPoints": [{"timeUnixNano": 7, "asInt": 4096}]},
                        },
                    ]
                }
            ],
        }
    ]
}


def test_other_shapes_an_otlp_producer_may_send_are_read() -> None:
    body = json.dumps(OTHER_SHAPES).encode()
    parse_official(body.decode())  # valid OTLP
    (cabin,) = parse_export(body)
    assert (cabin.cabin_id, cabin.uptime_s, cabin.queue, cabin.disk_free_bytes) == (
        "CAB-X-01",
        12.5,
        None,
        4096,
    )
    assert cabin.observed_ns == 7 and cabin.version is None


@pytest.mark.parametrize(
    ("value", "sentence"),
    [
        (
            {"boolValue": "yes"},
            "resourceMetrics[0].attributes[0].value.boolValue must be true or false.",
        ),
        (
            {"stringValue": 3},
            "resourceMetrics[0].attributes[0].value.stringValue must be a string.",
        ),
        (
            {"doubleValue": "abc"},
            "resourceMetrics[0].attributes[0].value.doubleValue must be a number.",
        ),
        ({"intValue": True}, "resourceMetrics[0].attributes[0].value.intValue must be an integer."),
        (
            {"doubleValue": False},
            "resourceMetrics[0].attributes[0].value.doubleValue must be a number.",
        ),
        ("text", "resourceMetrics[0].attributes[0].value must be an object."),
    ],
)
def test_wrong_attribute_types_are_refused(value: Any, sentence: str) -> None:
    body = {"resourceMetrics": [{"resource": {"attributes": [{"key": "k", "value": value}]}}]}
    with pytest.raises(OtlpFormatError) as err:
        parse_export(json.dumps(body).encode())
    assert str(err.value) == sentence


def test_unknown_fields_are_ignored_and_an_empty_export_is_accepted() -> None:
    assert parse_export(b"{}") == []
    assert parse_export(b'{"resourceMetrics": [], "somethingNew": 1}') == []


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "resourceMetrics",
                    "resource",
                    "attributes",
                    "key",
                    "value",
                    "stringValue",
                    "intValue",
                    "scopeMetrics",
                    "metrics",
                    "name",
                    "gauge",
                    "sum",
                    "dataPoints",
                    "asInt",
                    "asDouble",
                    "timeUnixNano",
                ]
            ),
            children,
            max_size=4,
        )
    ),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_any_json_is_parsed_or_refused_with_a_format_error(value: Any) -> None:
    body = json.dumps(value).encode()
    try:
        parse_export(body)
    except OtlpFormatError:
        pass


# ------------------------------------------------------------------ storage


def test_the_latest_heartbeat_per_cabin_is_kept(tmp_path: Path) -> None:
    store = FleetStore(tmp_path / "p.sqlite3")
    newer = parse_export(encode(facts(queue_depth=5, observed_at=AT + timedelta(minutes=5))))[0]
    older = parse_export(encode(facts(queue_depth=1)))[0]
    store.keep(newer, AT + timedelta(minutes=5))
    store.keep(older, AT + timedelta(minutes=6))  # a late delivery of an older one
    kept = store.get("CAB-PARIS-07")
    assert kept is not None and kept.queue == 5
    store.keep(parse_export(encode(facts("CAB-NICE-02")))[0], AT)
    assert [c.cabin_id for c in store.cabins()] == ["CAB-NICE-02", "CAB-PARIS-07"]
    store.close()
    reopened = FleetStore(tmp_path / "p.sqlite3")
    assert reopened.get("CAB-PARIS-07") == kept  # survives a restart of the platform
    reopened.close()


# --------------------------------------------------------------------- page


def _kept(received: datetime, **change: Any) -> CabinHeartbeat:
    (cabin,) = parse_export(encode(facts(**change)))
    return CabinHeartbeat(**(cabin.__dict__ | {"received_at": received.isoformat()}))


def test_a_cabin_silent_for_more_than_three_intervals_is_marked() -> None:
    cabin = _kept(AT, interval_s=300.0)
    assert not is_silent(cabin, AT + timedelta(seconds=900))
    assert is_silent(cabin, AT + timedelta(seconds=901))
    page = render_fleet([cabin], AT + timedelta(minutes=20))
    assert 'class="silencieuse"' in page and "<td>silencieuse</td>" in page
    assert "1 cabine(s), 1 silencieuse(s)" in page
    assert "<td>il y a 20 min</td>" in page


def test_the_page_lists_each_figure_in_french_and_escapes_what_came_from_the_network() -> None:
    cabin = _kept(AT)
    hostile = CabinHeartbeat(
        **(cabin.__dict__ | {"cabin_id": "<script>x</script>", "incidents": {"<b>": 2}})
    )
    page = render_fleet([cabin, hostile], AT + timedelta(seconds=30))
    assert "<script>x" not in page and "&lt;script&gt;x&lt;/script&gt;" in page
    assert "&lt;b&gt; ×2" in page
    row = page.split('data-cabin="CAB-PARIS-07"')[1].split("</tr>")[0]
    cells = [c.split("</td>")[0] for c in row.split("<td>")[1:]]
    assert cells == [
        "CAB-PARIS-07",
        "en ligne",
        "il y a 30 s",
        "0.1.0",
        "2",
        "15 min",
        "0",
        "5,0 Go",
        "il y a 3 min",
        "platform-unreachable",
        "bp-1 (tensiometer) : idle",
    ]
    assert "Aucune cabine." in render_fleet([], AT)


# --------------------------------------------------------------------- HTTP


async def test_the_platform_takes_heartbeats_and_shows_the_fleet(tmp_path: Path) -> None:
    async with (
        running_platform(tmp_path, extensions=(install,)) as (url, platform),
        aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http,  # 127.0.0.1
    ):
        platform.app[FLEET_KEY].now = lambda: AT
        headers = {"Content-Type": "application/json"}
        async with http.post(url + "/v1/metrics", data=encode(facts()), headers=headers) as r:
            assert (r.status, await r.json()) == (200, {})
        async with http.post(
            url + "/v1/metrics", data=b'{"resourceMetrics": 3}', headers=headers
        ) as r:
            assert r.status == 400
            assert await r.json() == {
                "code": 3,
                "message": "request.resourceMetrics must be an array.",
            }
        protobuf = {"Content-Type": "application/x-protobuf"}
        async with http.post(url + "/v1/metrics", data=b"\x0a\x00", headers=protobuf) as r:
            assert r.status == 415
        async with http.post(
            url + "/v1/metrics", data=io.BytesIO(b" " * (1024 * 1024 + 1)), headers=headers
        ) as r:
            assert r.status == 413
        platform.app[FLEET_KEY].now = lambda: AT + timedelta(hours=1)
        form = {"login": "dr-martin", "password": DEMO_PASSWORD}
        async with http.post(url + "/fleet/login", data=form) as r:  # the staff login first
            assert r.status == 200 and r.url.path == "/fleet"
        async with http.get(url + "/fleet") as r:
            assert r.status == 200 and r.content_type == "text/html"
            page = await r.text()
        assert "Parc des cabines" in page and "CAB-PARIS-07" in page
        assert "<td>silencieuse</td>" in page
        # The FHIR side is untouched by heartbeats.
        assert platform.store.count() == 0
